"""The HTTP side of asynchronous planning: ``Prefer: respond-async`` (RFC 7240) on ``plan_trip`` and the
``plan_worker`` function that Cloud Tasks calls (common.services.planning.queued)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.api.http import JsonResult, read_json_body, trip_location
from common.foundation.config import Settings

if TYPE_CHECKING:
    import flask

    from common.services.planning.service import PlanningDeps
    from common.services.trips.models import ReplanOptions, Trip


def prefers_async(request: flask.Request) -> bool:
    """Whether a ``Prefer`` header of the request holds the ``respond-async`` preference (RFC 7240: a comma
    separated list, tokens case-insensitive, each perhaps with parameters after ``;``)."""
    for header in request.headers.getlist("Prefer"):
        for preference in header.split(","):
            name = preference.split(";", 1)[0].split("=", 1)[0].strip().lower()
            if name == "respond-async":
                return True
    return False


def async_enabled(settings: Settings) -> bool:
    """Asynchronous planning is configured (otherwise the preference is ignored, as RFC 7240 allows)."""
    return bool(settings.planning_queue and settings.plan_worker_url)


def accept_plan(user_id: str, request: flask.Request, settings: Settings, deps: PlanningDeps) -> JsonResult:
    """202 with the ``queued`` trip and its ``Location``; the worker plans it."""
    from common.foundation.clients import tasks_client
    from common.services.planning.queued import accept_trip, cloud_tasks_enqueuer

    body = read_json_body(request, settings.max_request_bytes)
    trip = accept_trip(user_id, body, deps, cloud_tasks_enqueuer(settings, tasks_client.get))
    headers = {"Location": trip_location(settings, trip.id), "Preference-Applied": "respond-async"}
    return JsonResult(trip.api_view(), status=202, headers=headers)


def work_plan_task(request: flask.Request, settings: Settings, deps: PlanningDeps) -> JsonResult:
    """One delivery of a planning task (after the queue's OIDC token is verified)."""
    from common.services.planning.queued import run_plan_task, verify_task_caller

    verify_task_caller(request.headers.get("Authorization"), settings)
    body = read_json_body(request, settings.max_request_bytes)
    delivery = request.headers.get("X-CloudTasks-TaskName")
    retries = request.headers.get("X-CloudTasks-TaskRetryCount")
    return JsonResult(run_plan_task(body, deps, delivery=f"{delivery}#{retries}" if delivery else None))


def accept_replan_request(
    deps: PlanningDeps,
    settings: Settings,
    trip: Trip,
    uid: str,
    day_number: int,
    wishes: str | None,
    options: ReplanOptions | None = None,
) -> JsonResult:
    """202 with the trip whose ``replanning`` is ``queued``; the worker re-plans the day."""
    from common.foundation.clients import tasks_client
    from common.services.planning.queued import accept_replan, cloud_tasks_enqueuer

    enqueue = cloud_tasks_enqueuer(settings, tasks_client.get)
    stored = accept_replan(deps, trip, uid, day_number, wishes, enqueue, options)
    headers = {"Location": trip_location(settings, trip.id), "Preference-Applied": "respond-async"}
    return JsonResult(stored.api_view(), status=202, headers=headers)
