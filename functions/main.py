"""Cloud Functions entry points: thin adapters that parse, authenticate, call a service in ``common`` and map errors.

Each function imports what it needs inside its body, so a cold start of one function does not pay for another's
clients.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import functions_framework
from werkzeug.exceptions import HTTPException

from common.api.http import JsonResult, read_json_body, serve, trip_location
from common.foundation.config import get_settings
from common.foundation.log import configure_logging, get_logger

if TYPE_CHECKING:
    import flask
    from cloudevents.http import CloudEvent

_settings = get_settings()  # fail at start, naming the variable, when the configuration is invalid
configure_logging(_settings.log_level, _settings.google_cloud_project)
if not _settings.app_check_enforced:  # never in production: the configuration refuses APP_CHECK_ENFORCE=false there
    get_logger(__name__).warning("App Check is not enforced: X-Firebase-AppCheck headers are not checked")
elif not _settings.app_check_replay_protection:
    get_logger(__name__).warning("App Check replay protection is off: plan_trip accepts reusable tokens")

# The trips API's routes that change something need App Check; reading (GET) needs only the ID token.
TRIPS_APP_CHECK_METHODS = frozenset({"POST", "PATCH", "DELETE"})


def framework_error(error: HTTPException) -> flask.Response:
    """Errors functions-framework answers itself (its router does not match a path with a newline) as the envelope."""
    import flask

    from common.api.http import framework_error_response

    return framework_error_response(flask.request, error.code)


functions_framework.errorhandler(HTTPException)(framework_error)


@functions_framework.http
def health(request: flask.Request) -> flask.Response:
    """GET: the deployment's configuration summary and a Firestore probe (503 when Firestore does not answer);
    GET .../openapi.json: the API document."""

    def handle(http_request: flask.Request) -> JsonResult:
        if http_request.path.rstrip("/").endswith("/openapi.json"):
            from common.api.openapi import build_document

            return JsonResult(build_document())
        from common.foundation.clients import firestore_client
        from common.services.health import health_report

        report = health_report(_settings, firestore_client.get())
        return JsonResult(report.model_dump(mode="json"), status=200 if report.status == "ok" else 503)

    return serve(request, function="health", settings=_settings, handler=handle, methods=["GET"])


@functions_framework.http
def plan_trip(request: flask.Request) -> flask.Response:
    """POST a trip request (limited-use App Check token and Firebase ID token): 201 with the trip, in ``trips/{id}``;
    with ``Prefer: respond-async``, 202 with the ``queued`` trip, planned by ``plan_worker``
    (common.api.async_planning)."""

    def handle(http_request: flask.Request) -> JsonResult:
        from common.api.async_planning import accept_plan, async_enabled, prefers_async
        from common.foundation.app_check import APP_CHECK_HEADER, verify_app_check
        from common.foundation.auth import verify_caller
        from common.services.planning.service import default_deps, plan_new_trip

        # Each planning spends Gemini and Maps money: a limited-use App Check token, consumed here, once.
        verify_app_check(http_request.headers.get(APP_CHECK_HEADER), _settings, consume=True)
        caller = verify_caller(http_request.headers.get("Authorization"))
        if prefers_async(http_request) and async_enabled(_settings):
            return accept_plan(caller.uid, http_request, _settings, default_deps.get())
        body = read_json_body(http_request, _settings.max_request_bytes)
        trip = plan_new_trip(caller.uid, body, default_deps.get())
        return JsonResult(trip, status=201, headers={"Location": trip_location(_settings, trip["id"])})

    return serve(request, function="plan_trip", settings=_settings, handler=handle, methods=["POST"])


@functions_framework.http
def plan_worker(request: flask.Request) -> flask.Response:
    """POST from the Cloud Tasks planning queue (OIDC): claim the task's trip once and plan it to ready or failed."""

    def handle(http_request: flask.Request) -> JsonResult:
        from common.api.async_planning import work_plan_task
        from common.services.planning.service import default_deps

        return work_plan_task(http_request, _settings, default_deps.get())

    return serve(request, function="plan_worker", settings=_settings, handler=handle, methods=["POST"])


@functions_framework.http
def cleanup_sessions(request: flask.Request) -> flask.Response:
    """POST from Cloud Scheduler (OIDC): end stale sessions, fail timed-out plannings, delete expired documents."""

    def handle(http_request: flask.Request) -> JsonResult:
        import datetime as dt

        from common.foundation.clients import firestore_client
        from common.services.ops.jobs import cleanup_job

        result = cleanup_job(
            http_request.headers.get("Authorization"),
            http_request.headers.get("X-CloudScheduler-ScheduleTime"),
            _settings,
            firestore_client.get(),
            dt.datetime.now(dt.UTC),
        )
        return JsonResult(result)

    return serve(request, function="cleanup_sessions", settings=_settings, handler=handle, methods=["POST"])


@functions_framework.http
def backup_export(request: flask.Request) -> flask.Response:
    """POST from Cloud Scheduler (OIDC): this tick's Firestore export (BACKUP_MODE managed or logical), once."""

    def handle(http_request: flask.Request) -> JsonResult:
        import datetime as dt

        from common.foundation.clients import firestore_client, storage_client
        from common.services.ops.backup import build_admin_client
        from common.services.ops.jobs import backup_job

        result = backup_job(
            http_request.headers.get("Authorization"),
            http_request.headers.get("X-CloudScheduler-ScheduleTime"),
            _settings,
            firestore_client.get(),
            storage_client.get,
            build_admin_client,
            dt.datetime.now(dt.UTC),
        )
        return JsonResult(result)

    return serve(request, function="backup_export", settings=_settings, handler=handle, methods=["POST"])


@functions_framework.http
def user_data(request: flask.Request) -> flask.Response:
    """The caller's own data (Firebase ID token): GET exports it; DELETE ?confirm=true deletes the account and it."""

    def handle(http_request: flask.Request) -> JsonResult:
        import datetime as dt

        from common.foundation.app_check import APP_CHECK_HEADER, verify_app_check
        from common.foundation.auth import verify_caller
        from common.foundation.clients import firestore_client, storage_client
        from common.foundation.errors import InvalidRequest
        from common.services.ops.user_data import delete_user_data, export_user_data, firebase_user_deleter

        verify_app_check(http_request.headers.get(APP_CHECK_HEADER), _settings)
        caller = verify_caller(http_request.headers.get("Authorization"))
        now = dt.datetime.now(dt.UTC)
        if http_request.method == "GET":
            return JsonResult(
                export_user_data(firestore_client.get(), storage_client.get(), _settings, caller.uid, now)
            )
        if http_request.args.get("confirm") != "true":
            raise InvalidRequest("add ?confirm=true to delete the account and all of its data")
        deleted = delete_user_data(
            firestore_client.get(), storage_client.get(), _settings, caller.uid, now, firebase_user_deleter()
        )
        return JsonResult({"deleted": deleted})

    return serve(request, function="user_data", settings=_settings, handler=handle, methods=["GET", "DELETE"])


@functions_framework.http
def trips(request: flask.Request) -> flask.Response:
    """The trips API (Firebase ID token): list, read, .ics, edit, re-plan, share, delete (common.api.routing)."""

    def handle(http_request: flask.Request) -> JsonResult:
        from common.api.trips import default_deps
        from common.api.trips import handle as handle_trips

        if http_request.method in TRIPS_APP_CHECK_METHODS:
            from common.foundation.app_check import APP_CHECK_HEADER, verify_app_check

            verify_app_check(http_request.headers.get(APP_CHECK_HEADER), _settings)
        return handle_trips(http_request, default_deps.get())

    return serve(
        request, function="trips", settings=_settings, handler=handle, methods=["GET", "POST", "PATCH", "DELETE"]
    )


@functions_framework.http
def trip_page(request: flask.Request) -> flask.Response:
    """GET /t/{token}: the read-only HTML page of a share link, public (no sign-in), rate limited per client."""

    def handle(http_request: flask.Request) -> JsonResult:
        from common.api.trip_page import default_deps
        from common.api.trip_page import handle as handle_page

        return handle_page(http_request, default_deps.get())

    from common.api.trip_page import path_for_log

    return serve(
        request,
        function="trip_page",
        settings=_settings,
        handler=handle,
        methods=["GET", "HEAD"],
        log_path=path_for_log,
    )


@functions_framework.cloud_event
def enrich_places(event: CloudEvent) -> None:
    """Firestore trigger on trips/{tripId} (document.v1.written): enrich edited days; raises only to be retried."""
    from common.foundation.log import log_context
    from common.services.enrich.handler import default_deps, handle_cloud_event

    with log_context(function="enrich_places", request_id=event["id"]):
        handle_cloud_event(event, default_deps.get())
