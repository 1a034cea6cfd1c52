"""Asynchronous planning (``Prefer: respond-async``): accept a trip at once, plan it in a worker fed by Cloud Tasks.

``accept_trip`` does what the synchronous path does before planning (validation, quota admission, destination
resolution: a refusal stores and queues nothing), stores the trip ``queued`` and enqueues one task naming the trip
and its planning session. ``run_plan_task`` is the worker's side. Cloud Tasks delivers at least once, so:

- the worker claims the trip in a transaction (``queued`` -> ``planning``, once): a second delivery of the same task
  finds it ``planning`` (answered 409, so the queue retries it later), ``ready`` or ``failed`` (nothing to do);
- a worker that dies mid-plan leaves the trip ``planning``; the queue delivers the task again (the crashed request
  failed) and, once nothing has updated the trip for ``PLAN_CLAIM_LEASE_SECONDS``, that delivery claims it again
  and plans it from the start; if the queue gives up, ``cleanup_sessions`` fails it (``planning_timed_out``);
- every planning that runs ends the trip ``ready`` or ``failed`` with a reason (``plan_stored_trip``); a task that
  cannot be enqueued fails the trip at once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from common.foundation.config import Settings
from common.foundation.errors import Conflict, InvalidRequest
from common.foundation.log import get_logger
from common.foundation.oidc import TokenVerifier, google_oidc_verifier, verify_service_caller
from common.services.planning.service import (
    PlanningDeps,
    PlanningRun,
    admit_new_trip,
    plan_stored_trip,
)
from common.services.planning.session import PlanningSession, failure_cause
from common.services.trips import store
from common.services.trips.models import Trip

logger = get_logger(__name__)

BUSY_RETRY_AFTER_SECONDS = 10


@dataclass(frozen=True)
class PlanTask:
    """What a task carries: the trip to plan and its admitted planning session."""

    trip_id: str
    session_id: str

    def body(self) -> bytes:
        return json.dumps({"trip_id": self.trip_id, "session_id": self.session_id}).encode()

    @classmethod
    def parse(cls, payload: Any) -> PlanTask:
        if not isinstance(payload, dict):
            raise InvalidRequest("a planning task is a JSON object")
        trip_id, session_id = payload.get("trip_id"), payload.get("session_id")
        if not isinstance(trip_id, str) or not trip_id or not isinstance(session_id, str) or not session_id:
            raise InvalidRequest("a planning task names a trip_id and a session_id")
        return cls(trip_id=trip_id, session_id=session_id)


Enqueue = Callable[[PlanTask], None]


def accept_trip(user_id: str, body: Any, deps: PlanningDeps, enqueue: Enqueue) -> Trip:
    """Validate, admit, resolve the destination, store the trip ``queued`` and enqueue its planning.

    Raises ``InvalidRequest`` and ``QuotaExceeded`` before anything is stored or queued. When the task cannot be
    enqueued, the trip is stored ``failed`` (with the reason) and the error is raised again."""
    run, session, _destination = admit_new_trip(user_id, body, deps)
    queued = store.queued_trip(run.trip_id, user_id, run.request, deps.clock())
    store.create_trip(deps.firestore, queued)
    try:
        enqueue(PlanTask(trip_id=run.trip_id, session_id=session.session_id))
    except Exception as error:
        cause = failure_cause(error)
        logger.error("could not enqueue the planning of trip %s", run.trip_id, exc_info=True)
        store.fail_trip(deps.firestore, run.trip_id, cause.failure, now=deps.clock(), quick=cause.firestore_down)
        session.fail(cause.failure, run.planner_report())
        raise
    logger.info("trip queued", extra={"fields": {"trip_id": run.trip_id, "user_id": user_id}})
    return queued


def run_plan_task(payload: Any, deps: PlanningDeps, *, delivery: str | None = None) -> dict[str, Any]:
    """Plan the task's trip if this delivery may claim it; answer what happened (``outcome``).

    Raises ``Conflict`` (409, so the queue retries later) while another delivery holds a live claim."""
    task = PlanTask.parse(payload)
    settings, client = deps.settings, deps.firestore
    lease = dt.timedelta(seconds=settings.plan_claim_lease_seconds)
    outcome, trip = store.claim_for_planning(client, task.trip_id, deps.clock(), lease)
    fields = {"trip_id": task.trip_id, "claim": outcome, "delivery": delivery}
    if outcome == "busy":
        logger.info("planning task: the trip is being planned by another delivery", extra={"fields": fields})
        raise Conflict(
            "the trip is being planned by another delivery of its task",
            details=[{"trip_id": task.trip_id, "retry_after_seconds": BUSY_RETRY_AFTER_SECONDS}],
            headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
        )
    if outcome in ("missing", "done") or trip is None:
        logger.info("planning task: nothing to do", extra={"fields": fields})
        return {"trip_id": task.trip_id, "outcome": outcome, "status": trip.status if trip else None}
    if outcome == "reclaimed":
        logger.warning("planning task: claiming a planning whose worker stopped", extra={"fields": fields})
    run = PlanningRun(trip_id=trip.id, request=trip.request)
    session = PlanningSession(client=client, session_id=task.session_id, trip_id=trip.id, kind="plan", clock=deps.clock)
    try:
        planned = plan_stored_trip(run, session, trip, None, deps)
    except Exception as error:
        cause = failure_cause(error)
        if cause.firestore_down:
            raise  # the failure may not be stored: a later delivery claims the trip again once its lease ends
        return {"trip_id": trip.id, "outcome": outcome, "status": "failed", "failure": cause.failure.code}
    return {"trip_id": trip.id, "outcome": outcome, "status": planned.status}


def verify_task_caller(
    authorization: str | None, settings: Settings, verifier: TokenVerifier = google_oidc_verifier
) -> str:
    """The service account of the queue's OIDC token (``PLAN_WORKER_SERVICE_ACCOUNT``, audience
    ``PLAN_WORKER_URL``); ``PLAN_WORKER_AUTH_BYPASS`` skips the check outside production (the local stand-in sends
    no token)."""
    if settings.plan_worker_auth_bypass and not settings.is_production:
        return "local-bypass"
    return verify_service_caller(
        authorization,
        audience=settings.plan_worker_url,
        allowed_emails=[settings.plan_worker_service_account or ""],
        who="the planning queue",
        verifier=verifier,
    )


def cloud_tasks_enqueuer(settings: Settings, client_factory: Callable[[], Any]) -> Enqueue:
    """An ``Enqueue`` that creates an HTTP task on ``PLANNING_QUEUE`` for ``PLAN_WORKER_URL`` (with an OIDC token of
    ``PLAN_WORKER_SERVICE_ACCOUNT`` when set; the local stand-in sends none). The task is named after the trip, so
    a retried enqueue of the same trip is refused by Cloud Tasks instead of queued twice."""
    from google.cloud import tasks_v2

    if not settings.planning_queue or not settings.plan_worker_url:
        raise InvalidRequest("asynchronous planning is not configured (PLANNING_QUEUE, PLAN_WORKER_URL)")
    queue, url = settings.planning_queue, settings.plan_worker_url

    def enqueue(task: PlanTask) -> None:
        http_request = tasks_v2.HttpRequest(
            http_method=tasks_v2.HttpMethod.POST,
            url=url,
            headers={"Content-Type": "application/json"},
            body=task.body(),
        )
        if settings.plan_worker_service_account:
            http_request.oidc_token = tasks_v2.OidcToken(
                service_account_email=settings.plan_worker_service_account, audience=url
            )
        client_factory().create_task(
            parent=queue,
            task=tasks_v2.Task(name=f"{queue}/tasks/plan-{task.trip_id}", http_request=http_request),
        )

    return enqueue
