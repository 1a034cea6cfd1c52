"""Cloud Functions entry points: thin adapters that parse, authenticate, call a service in ``common`` and map errors.

Each function imports what it needs inside its body, so a cold start of one function does not pay for another's
clients.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import functions_framework

from common.config import get_settings
from common.http import JsonResult, read_json_body, serve
from common.log import configure_logging

if TYPE_CHECKING:
    import flask

_settings = get_settings()  # fail at start, naming the variable, when the configuration is invalid
configure_logging(_settings.log_level, _settings.google_cloud_project)


@functions_framework.http
def health(request: flask.Request) -> flask.Response:
    """GET: the deployment's configuration summary and a Firestore probe (503 when Firestore does not answer)."""

    def handle(_: flask.Request) -> JsonResult:
        from common.clients import firestore_client
        from common.health import health_report

        report = health_report(_settings, firestore_client.get())
        return JsonResult(report, status=200 if report["status"] == "ok" else 503)

    return serve(request, function="health", settings=_settings, handler=handle, methods=["GET"])


@functions_framework.http
def plan_trip(request: flask.Request) -> flask.Response:
    """POST a trip request (Firebase ID token required): 201 with the planned trip, stored in ``trips/{id}``."""

    def handle(http_request: flask.Request) -> JsonResult:
        from common.auth import verify_caller
        from common.planning.service import default_deps, plan_new_trip

        caller = verify_caller(http_request.headers.get("Authorization"))
        body = read_json_body(http_request, _settings.max_request_bytes)
        trip = plan_new_trip(caller.uid, body, default_deps.get())
        return JsonResult(trip, status=201, headers={"Location": f"/trips/{trip['id']}"})

    return serve(request, function="plan_trip", settings=_settings, handler=handle, methods=["POST"])
