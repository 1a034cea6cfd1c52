"""Asynchronous planning without servers: the claim decision, the Prefer header, task payloads, the worker's
OIDC check and the task the enqueuer builds."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import flask
import pytest

from common.api.async_planning import async_enabled, prefers_async
from common.foundation.config import load_settings
from common.foundation.errors import ConfigError, InvalidRequest, PermissionDenied, Unauthenticated
from common.services.planning.queued import PlanTask, cloud_tasks_enqueuer, verify_task_caller
from common.services.trips import store
from common.services.trips.models import Progress, Replanning
from tests.unit.trips.factories import trip_from

T0 = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(seconds=60)


def _trip(status: str, updated: dt.datetime = T0) -> Any:
    return trip_from({"status": status, "updated_at": updated}).model_copy(
        update={"progress": Progress(stage="queued", updated_at=updated)}
    )


def test_a_queued_trip_is_claimed_once_and_a_stale_planning_again() -> None:
    assert store.claim_decision(None, T0, LEASE) == "missing"
    assert store.claim_decision(_trip("queued"), T0, LEASE) == "claimed"
    assert store.claim_decision(_trip("planning"), T0 + dt.timedelta(seconds=59), LEASE) == "busy"
    assert store.claim_decision(_trip("planning"), T0 + dt.timedelta(seconds=60), LEASE) == "reclaimed"
    assert store.claim_decision(_trip("ready"), T0, LEASE) == "done"
    assert store.claim_decision(_trip("failed"), T0 + dt.timedelta(days=1), LEASE) == "done"


def test_a_queued_trip_is_the_planning_trip_with_status_queued() -> None:
    trip = _trip("planning")
    queued = store.queued_trip("t1", "u1", trip.request, T0)
    assert (queued.status, queued.progress.stage, queued.planning_attempts, queued.days) == ("queued", "queued", 0, [])
    assert "planning_attempts" not in queued.api_view()


@pytest.mark.parametrize(
    ("headers", "wanted"),
    [
        ({}, False),
        ({"Prefer": "respond-async"}, True),
        ({"Prefer": "Respond-Async, wait=10"}, True),
        ({"Prefer": "wait=5; x, respond-async;foo"}, True),
        ({"Prefer": "return=minimal"}, False),
        ({"Prefer": "respond-asynchronously"}, False),
    ],
)
def test_prefer_respond_async_is_read_as_rfc_7240_says(headers: dict[str, str], wanted: bool) -> None:
    app = flask.Flask(__name__)
    with app.test_request_context("/", method="POST", headers=headers):
        assert prefers_async(flask.request) is wanted


def test_async_needs_a_queue_and_a_worker_url() -> None:
    assert not async_enabled(load_settings())
    assert not async_enabled(load_settings(planning_queue="projects/p/locations/l/queues/q"))
    assert async_enabled(load_settings(planning_queue="projects/p/locations/l/queues/q", plan_worker_url="http://w"))


def test_task_payloads_are_checked() -> None:
    task = PlanTask(trip_id="t1", session_id="s1")
    assert PlanTask.parse({"trip_id": "t1", "session_id": "s1"}) == task
    bad_payloads: list[Any] = [None, [], {"trip_id": "t1"}, {"trip_id": "", "session_id": "s"}, {"trip_id": 3}]
    for bad in bad_payloads:
        with pytest.raises(InvalidRequest):
            PlanTask.parse(bad)


SA = "tasks-invoker@p.iam.gserviceaccount.com"
WORKER_URL = "https://r-p.cloudfunctions.net/plan_worker"
GOOD, FORGED = "a.good.jwt", "a.forged.jwt"


def _verifier(claims: dict[str, Any]) -> Any:
    def verify(token: str, audience: str) -> dict[str, Any]:
        assert audience == WORKER_URL
        if token != GOOD:
            raise ValueError("bad signature")
        return claims

    return verify


def test_the_worker_accepts_only_the_queues_oidc_identity() -> None:
    settings = load_settings(plan_worker_url=WORKER_URL, plan_worker_service_account=SA)
    good = {"iss": "https://accounts.google.com", "email": SA, "email_verified": True}
    assert verify_task_caller(f"Bearer {GOOD}", settings, _verifier(good)) == SA
    with pytest.raises(Unauthenticated):
        verify_task_caller(f"Bearer {FORGED}", settings, _verifier(good))
    with pytest.raises(Unauthenticated):
        verify_task_caller(None, settings, _verifier(good))
    with pytest.raises(PermissionDenied):
        verify_task_caller(
            f"Bearer {GOOD}", settings, _verifier({**good, "email": "someone@p.iam.gserviceaccount.com"})
        )
    with pytest.raises(Unauthenticated):
        verify_task_caller(f"Bearer {GOOD}", settings, _verifier({**good, "email_verified": False}))
    bypass = load_settings(plan_worker_auth_bypass=True)
    assert verify_task_caller(None, bypass) == "local-bypass"


def test_the_bypass_is_refused_in_production() -> None:
    with pytest.raises(ConfigError, match="PLAN_WORKER_AUTH_BYPASS"):
        load_settings(environment="production", google_cloud_project="real-project", plan_worker_auth_bypass=True)


class _RecordingClient:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def create_task(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


def test_the_enqueuer_creates_a_named_http_task_with_an_oidc_token() -> None:
    queue = "projects/p/locations/r/queues/planning"
    settings = load_settings(planning_queue=queue, plan_worker_url=WORKER_URL, plan_worker_service_account=SA)
    client = _RecordingClient()
    cloud_tasks_enqueuer(settings, lambda: client)(PlanTask(trip_id="t1", session_id="s1"))
    (call,) = client.calls
    assert call["parent"] == queue
    task = call["task"]
    assert task.name == f"{queue}/tasks/plan-t1"
    assert task.http_request.url == WORKER_URL
    assert task.http_request.oidc_token.service_account_email == SA
    assert task.http_request.oidc_token.audience == WORKER_URL
    assert PlanTask.parse(json.loads(task.http_request.body)) == PlanTask("t1", "s1")


def test_a_queued_replan_is_claimed_once_and_a_stale_one_again() -> None:
    def with_replan(status: str) -> Any:
        replanning = Replanning(day=2, status=status, requested_at=T0, updated_at=T0)
        return _trip("ready").model_copy(update={"replanning": replanning})

    assert store.replan_claim_decision(None, T0, LEASE) == "missing"
    assert store.replan_claim_decision(_trip("ready"), T0, LEASE) == "done"
    assert store.replan_claim_decision(with_replan("queued"), T0, LEASE) == "claimed"
    assert store.replan_claim_decision(with_replan("planning"), T0 + dt.timedelta(seconds=1), LEASE) == "busy"
    assert store.replan_claim_decision(with_replan("planning"), T0 + LEASE, LEASE) == "reclaimed"
    assert store.replan_claim_decision(with_replan("done"), T0, LEASE) == "done"
    assert store.replan_claim_decision(with_replan("failed"), T0, LEASE) == "done"
    view = (
        with_replan("queued")
        .model_copy(
            update={
                "replanning": Replanning(day=2, status="queued", requested_at=T0, updated_at=T0, wishes="w", attempts=1)
            }
        )
        .api_view()
    )
    assert set(view["replanning"]) == {"day", "status", "failure", "changes", "requested_at", "updated_at"}


def test_replan_tasks_carry_their_kind_and_a_name_per_session() -> None:
    task = PlanTask(trip_id="t1", session_id="s1", kind="replan")
    assert PlanTask.parse(json.loads(task.body())) == task
    assert PlanTask.parse({"trip_id": "t1", "session_id": "s1"}).kind == "plan"
    assert (task.name, PlanTask("t1", "s1").name) == ("replan-t1-s1", "plan-t1")
    with pytest.raises(InvalidRequest):
        PlanTask.parse({"trip_id": "t1", "session_id": "s1", "kind": "delete"})
