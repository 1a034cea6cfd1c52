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
from common.foundation.errors import Conflict, InvalidRequest, NotFound
from common.foundation.log import get_logger
from common.foundation.oidc import TokenVerifier, google_oidc_verifier, verify_service_caller
from common.services.planning.replan import check_replannable, replan_admitted
from common.services.planning.service import (
    PlanningDeps,
    PlanningRun,
    admit_new_trip,
    plan_stored_trip,
)
from common.services.planning.session import PlanningSession, failure_cause
from common.services.trips import access, store
from common.services.trips.admission import SessionKind
from common.services.trips.models import Failure, Replanning, ReplanOptions, Trip

logger = get_logger(__name__)

BUSY_RETRY_AFTER_SECONDS = 10


@dataclass(frozen=True)
class PlanTask:
    """What a task carries: the trip to plan and its admitted planning session."""

    trip_id: str
    session_id: str
    kind: SessionKind = "plan"  # "replan": the trip's ``replanning`` day

    def body(self) -> bytes:
        return json.dumps({"trip_id": self.trip_id, "session_id": self.session_id, "kind": self.kind}).encode()

    @property
    def name(self) -> str:
        """The task's name in its queue: one per trip for a plan, one per session for a re-plan."""
        return f"plan-{self.trip_id}" if self.kind == "plan" else f"replan-{self.trip_id}-{self.session_id}"

    @classmethod
    def parse(cls, payload: Any) -> PlanTask:
        if not isinstance(payload, dict):
            raise InvalidRequest("a planning task is a JSON object")
        trip_id, session_id = payload.get("trip_id"), payload.get("session_id")
        kind = payload.get("kind", "plan")
        if not isinstance(trip_id, str) or not trip_id or not isinstance(session_id, str) or not session_id:
            raise InvalidRequest("a planning task names a trip_id and a session_id")
        if kind not in ("plan", "replan"):
            raise InvalidRequest("a planning task's kind is plan or replan")
        return cls(trip_id=trip_id, session_id=session_id, kind=kind)


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
    claim = store.claim_for_planning if task.kind == "plan" else store.claim_replan
    outcome, trip = claim(client, task.trip_id, deps.clock(), lease)
    fields = {"trip_id": task.trip_id, "kind": task.kind, "claim": outcome, "delivery": delivery}
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
    if task.kind == "replan":
        return _run_replan(task, trip, outcome, deps)
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


def accept_replan(
    deps: PlanningDeps,
    trip: Trip,
    uid: str,
    day_number: int,
    wishes: str | None,
    enqueue: Enqueue,
    options: ReplanOptions | None = None,
) -> Trip:
    """Admit a re-plan of day ``day_number`` (1-based) as the synchronous path does, mark it ``queued`` on the trip
    (``replanning``, with the request's ``options``) and enqueue it; the worker re-plans the day. 409 while another
    re-plan of the trip is pending."""
    check_replannable(trip, day_number, options, deps)
    _refuse_if_pending(trip)  # before admission: a refused request spends no quota (checked again when stored)
    session = PlanningSession.admit(
        deps.firestore, deps.settings, deps.clock, user_id=uid, trip_id=trip.id, kind="replan"
    )
    now = deps.clock()
    replanning = Replanning(
        day=day_number,
        status="queued",
        requested_at=now,
        updated_at=now,
        wishes=wishes,
        options=options,
        session_id=session.session_id,
        requested_by=uid,
    )

    def change(current: Trip | None) -> tuple[Trip, tuple[str, ...]]:
        access.authorize(current, uid, "replan")
        assert current is not None
        if current.version != trip.version:
            raise Conflict("the trip changed meanwhile; try again")
        _refuse_if_pending(current)
        return current.model_copy(update={"replanning": replanning}), ("replanning",)

    try:
        stored = store.update_trip(deps.firestore, trip.id, change)
    except Exception as error:
        session.fail(failure_cause(error).failure, None)
        raise
    try:
        enqueue(PlanTask(trip_id=trip.id, session_id=session.session_id, kind="replan"))
    except Exception as error:
        cause = failure_cause(error)
        logger.error("could not enqueue the re-plan of trip %s", trip.id, exc_info=True)
        _fail_replan(deps, trip.id, cause.failure)
        session.fail(cause.failure, None)
        raise
    return stored


def _refuse_if_pending(trip: Trip) -> None:
    if trip.replanning is not None and trip.replanning.status in ("queued", "planning"):
        raise Conflict("a day of this trip is already being re-planned", details=[{"day": trip.replanning.day}])


def _run_replan(task: PlanTask, trip: Trip, outcome: str, deps: PlanningDeps) -> dict[str, Any]:
    replanning = trip.replanning
    assert replanning is not None
    session = PlanningSession(
        client=deps.firestore, session_id=task.session_id, trip_id=trip.id, kind="replan", clock=deps.clock
    )
    uid = replanning.requested_by or trip.user_id
    try:
        replan_admitted(
            deps, trip, uid, replanning.day, replanning.wishes, session, replanning, options=replanning.options
        )
    except Exception as error:
        cause = failure_cause(error)
        if cause.firestore_down:
            raise  # a later delivery claims the re-plan again once its lease ends
        _fail_replan(deps, trip.id, cause.failure)
        return {"trip_id": trip.id, "outcome": outcome, "replanning": "failed", "failure": cause.failure.code}
    return {"trip_id": trip.id, "outcome": outcome, "replanning": "done"}


def _fail_replan(deps: PlanningDeps, trip_id: str, failure: Failure) -> None:
    def change(current: Trip | None) -> tuple[Trip, tuple[str, ...]]:
        if current is None or current.replanning is None:
            raise NotFound("the trip is gone")
        failed = current.replanning.model_copy(
            update={"status": "failed", "failure": failure, "updated_at": deps.clock()}
        )
        return current.model_copy(update={"replanning": failed}), ("replanning",)

    try:
        store.update_trip(deps.firestore, trip_id, change)
    except NotFound:
        logger.info("re-plan failed for a trip that no longer exists", extra={"fields": {"trip_id": trip_id}})


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
            task=tasks_v2.Task(name=f"{queue}/tasks/{task.name}", http_request=http_request),
        )

    return enqueue
