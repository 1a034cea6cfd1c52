from __future__ import annotations

import json
from typing import Any

import flask
import pytest

from common.api.http import JsonResult, read_json_body, serve
from common.foundation.config import Settings, load_settings
from common.foundation.errors import Conflict, QuotaExceeded

app = flask.Flask(__name__)


def _call(handler: Any, *, settings: Settings | None = None, **request: Any) -> flask.Response:
    with app.test_request_context(**request):
        return serve(
            flask.request,
            function="test_fn",
            settings=settings or load_settings(),
            handler=handler,
            methods=["POST"],
        )


def _echo(request: flask.Request) -> JsonResult:
    return JsonResult({"got": read_json_body(request, 1024)}, status=201, headers={"Location": "/x/1"})


def test_success_passes_status_headers_and_request_id() -> None:
    response = _call(_echo, method="POST", json={"a": 1}, headers={"X-Request-Id": "client-req-0001"})
    assert response.status_code == 201
    assert response.get_json() == {"got": {"a": 1}}
    assert response.headers["Location"] == "/x/1"
    assert response.headers["X-Request-Id"] == "client-req-0001"


def _envelope(response: flask.Response) -> dict[str, Any]:
    body = json.loads(response.get_data())
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details", "request_id"}
    return dict(body["error"])


@pytest.mark.parametrize(
    ("request_kwargs", "status", "code"),
    [
        ({"method": "GET"}, 405, "method_not_allowed"),
        ({"method": "POST", "data": "a=1", "content_type": "text/plain"}, 415, "unsupported_media_type"),
        ({"method": "POST", "data": "{bad", "content_type": "application/json"}, 400, "invalid_request"),
        ({"method": "POST", "data": "x" * 5000, "content_type": "application/json"}, 413, "payload_too_large"),
        ({"method": "POST", "data": "[" * 200 + "]" * 200, "content_type": "application/json"}, 400, "invalid_request"),
        ({"method": "POST", "data": b"\xff\xfe", "content_type": "application/json"}, 400, "invalid_request"),
    ],
)
def test_bad_requests_get_one_envelope(request_kwargs: dict[str, Any], status: int, code: str) -> None:
    response = _call(_echo, **request_kwargs)
    assert response.status_code == status
    assert _envelope(response)["code"] == code


def test_app_errors_map_to_status_and_headers() -> None:
    def quota(_: flask.Request) -> JsonResult:
        raise QuotaExceeded("slow down", retry_after_seconds=42)

    response = _call(quota, method="POST")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "42"
    assert _envelope(response)["message"] == "slow down"

    def conflict(_: flask.Request) -> JsonResult:
        raise Conflict(details=["version 3 is stale; current is 4"])

    response = _call(conflict, method="POST")
    assert response.status_code == 409
    assert _envelope(response)["details"] == ["version 3 is stale; current is 4"]


def test_unexpected_errors_leak_nothing() -> None:
    def broken(_: flask.Request) -> JsonResult:
        raise KeyError("secret-internal-detail")

    response = _call(broken, method="POST")
    assert response.status_code == 500
    envelope = _envelope(response)
    assert envelope["code"] == "internal"
    assert "secret-internal-detail" not in response.get_data(as_text=True)


def test_cors_preflight_answers_only_allowed_origins() -> None:
    settings = load_settings(allowed_origins=["https://app.example.org"])
    preflight = {"Origin": "https://app.example.org", "Access-Control-Request-Method": "POST"}
    response = _call(_echo, settings=settings, method="OPTIONS", headers=preflight)
    assert response.status_code == 204
    assert "Content-Type" not in response.headers, "no content, no content type"
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.org"
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]

    other = {"Origin": "https://evil.example.net", "Access-Control-Request-Method": "POST"}
    response = _call(_echo, settings=settings, method="OPTIONS", headers=other)
    assert "Access-Control-Allow-Origin" not in response.headers
