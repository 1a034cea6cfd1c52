"""Cloud Functions entry points: thin adapters that parse, authenticate, call a service in ``common`` and map errors.

Each function imports what it needs inside its body, so a cold start of one function does not pay for another's
clients.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import functions_framework

from common.config import get_settings
from common.http import JsonResult, serve
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
