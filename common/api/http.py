"""What every HTTP function shares: request ids, trace-correlated logging, CORS, body parsing and the error envelope.

``serve`` wraps a handler: the handler returns a ``JsonResult`` or raises an ``AppError``; anything else becomes a
500 envelope with nothing internal in it, while the log keeps the stack trace.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from common.foundation.app_check import APP_CHECK_HEADER
from common.foundation.config import Settings
from common.foundation.errors import (
    AppError,
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    backing_service_unavailable,
)
from common.foundation.log import get_logger, log_context, parse_trace_headers

if TYPE_CHECKING:
    import flask

logger = get_logger(__name__)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
MAX_JSON_DEPTH = 32
# Request headers a preflight always allows, whatever ALLOWED_HEADERS lists: without them the app cannot call at all.
REQUIRED_REQUEST_HEADERS = ("Authorization", "Content-Type", APP_CHECK_HEADER)


@dataclass
class JsonResult:
    """A successful answer: status, JSON body (``None`` for no body) and extra headers."""

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


def request_id_for(request: flask.Request) -> str:
    """The caller's ``X-Request-Id`` when well formed, else a new one."""
    supplied = request.headers.get("X-Request-Id", "")
    return supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex


def error_envelope(error: AppError, request_id: str) -> dict[str, Any]:
    return {
        "error": {
            "code": error.code,
            "message": error.message,
            "details": error.details,
            "request_id": request_id,
        }
    }


def allowed_request_headers(settings: Settings) -> list[str]:
    """ALLOWED_HEADERS plus the required ones it lacks (compared without regard to case, as header names are)."""
    headers = list(settings.allowed_headers)
    present = {header.lower() for header in headers}
    headers += [header for header in REQUIRED_REQUEST_HEADERS if header.lower() not in present]
    return headers


def _cors_headers(request: flask.Request, settings: Settings) -> dict[str, str]:
    origin = request.headers.get("Origin")
    if not settings.enable_cors or not origin:
        return {}
    allowed = settings.allowed_origins
    if "*" not in allowed and origin not in allowed:
        return {}
    return {
        "Access-Control-Allow-Origin": origin if "*" not in allowed else "*",
        "Access-Control-Allow-Methods": ", ".join(settings.allowed_methods),
        "Access-Control-Allow-Headers": ", ".join(allowed_request_headers(settings)),
        "Access-Control-Expose-Headers": "Location, Retry-After, X-Request-Id, ETag, Preference-Applied",
        "Access-Control-Max-Age": "3600",
        "Vary": "Origin",
    }


def _json_depth(value: Any, limit: int) -> int:
    """Nesting depth of a parsed JSON value, stopping early past ``limit``."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return deepest


def read_json_body(request: flask.Request, max_bytes: int) -> Any:
    """The request's JSON body: 415 if not JSON, 413 if too large, 400 if malformed or nested too deep."""
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        raise PayloadTooLarge(details=[f"the body may hold at most {max_bytes} bytes"])
    mimetype = (request.mimetype or "").lower()
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType(details=[f"got content type {mimetype or 'none'!r}"])
    raw = request.stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise PayloadTooLarge(details=[f"the body may hold at most {max_bytes} bytes"])
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidRequest("the body is not valid UTF-8") from None
    except RecursionError:
        raise InvalidRequest("the body is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise InvalidRequest("the body is not valid JSON", details=[f"line {exc.lineno} column {exc.colno}"]) from None
    except ValueError:  # e.g. an integer of more digits than Python converts (sys.get_int_max_str_digits)
        raise InvalidRequest("the body is not valid JSON", details=["a number in it is too long"]) from None
    if _json_depth(body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise InvalidRequest("the body is nested too deeply", details=[f"at most {MAX_JSON_DEPTH} levels"])
    return body


def _response(
    status: int, body: Any, headers: dict[str, str], content_type: str = "application/json"
) -> flask.Response:
    import flask

    if body is None:
        payload: str | bytes = b""
    elif isinstance(body, bytes | str) and content_type != "application/json":
        payload = body
    else:
        payload = json.dumps(body, ensure_ascii=False, default=str)
    response = flask.Response(payload, status=status, headers=headers)
    if body is None:
        del response.headers["Content-Type"]  # no content, no type (Flask would say text/html)
    else:
        response.headers["Content-Type"] = (
            f"{content_type}; charset=utf-8" if "charset" not in content_type else content_type
        )
    return response


REPORTED_ERROR_EVENT = "type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent"


def _request_fields(
    request: flask.Request, function: str, status: int, started: float, path: str | None = None
) -> dict[str, Any]:
    """The fields of a request's closing log line: Cloud Logging lifts ``httpRequest`` into the entry (the
    ``http_responses`` and ``http_5xx`` metrics of deploy/observability.json count it); a 5xx line also carries the
    Error Reporting type and service, so its stack trace (in the message) is grouped there."""
    elapsed = _elapsed_ms(started)
    fields: dict[str, Any] = {
        "status": status,
        "duration_ms": elapsed,
        "httpRequest": {
            "requestMethod": request.method,
            "requestUrl": (request.path if path is None else path)[:500],
            "status": status,
            "latency": f"{elapsed / 1000:.3f}s",
            "userAgent": (request.headers.get("User-Agent") or "")[:200],
        },
    }
    if status >= 500:
        fields["@type"] = REPORTED_ERROR_EVENT
        fields["serviceContext"] = {"service": function}
    return fields


def serve(
    request: flask.Request,
    *,
    function: str,
    settings: Settings,
    handler: Callable[[flask.Request], JsonResult],
    methods: Iterable[str],
    log_path: Callable[[str], str] | None = None,
) -> flask.Response:
    """Run ``handler`` for ``request`` with logging context, CORS and error mapping; return a Flask response.
    ``log_path`` turns the path into what the log may show (a path that holds a secret, such as a share link's
    token, is logged without it)."""
    request_id = request_id_for(request)
    trace = parse_trace_headers(request.headers)
    allowed = {method.upper() for method in methods}
    cors = _cors_headers(request, settings)
    base_headers = {"X-Request-Id": request_id, **cors}
    started = time.monotonic()
    path = log_path(request.path) if log_path else request.path
    with log_context(function=function, request_id=request_id, **trace):
        if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
            return _response(204, None, base_headers)
        try:
            if request.method not in allowed:
                raise MethodNotAllowed(
                    details=[f"{request.method} is not allowed; use {', '.join(sorted(allowed))}"],
                    headers={"Allow": ", ".join(sorted(allowed))},
                )
            result = handler(request)
        except AppError as error:
            fields = _request_fields(request, function, error.http_status, started, path)
            if error.http_status >= 500:
                logger.error("request failed: %s", error.code, exc_info=True, extra={"fields": fields})
            else:
                logger.info("request failed: %s", error.code, extra={"fields": fields})
            return _response(error.http_status, error_envelope(error, request_id), {**base_headers, **error.headers})
        except Exception as exc:
            unavailable = backing_service_unavailable(exc)
            if unavailable is not None:
                fields = _request_fields(request, function, 503, started, path)
                logger.exception("a backing service is unavailable", extra={"fields": fields})
                return _response(503, error_envelope(unavailable, request_id), base_headers)
            logger.exception(
                "unhandled error", extra={"fields": _request_fields(request, function, 500, started, path)}
            )
            return _response(500, error_envelope(InternalError(), request_id), base_headers)
        logger.info(
            "%s %s -> %d",
            request.method,
            path,
            result.status,
            extra={"fields": _request_fields(request, function, result.status, started, path)},
        )
        return _response(result.status, result.body, {**base_headers, **result.headers}, result.content_type)


_FRAMEWORK_ERRORS: dict[int, type[AppError]] = {
    400: InvalidRequest,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
}


def framework_error_response(request: flask.Request, status: int | None) -> flask.Response:
    """An error the framework answers before any function runs (e.g. a path its router cannot match, such as one
    holding a newline) in the same envelope as every other error, instead of its HTML page."""
    error_type = _FRAMEWORK_ERRORS.get(status or 500, InvalidRequest if (status or 500) < 500 else InternalError)
    error = error_type()
    request_id = request_id_for(request)
    logger.info("request refused by the framework: %s", error.code, extra={"fields": {"status": error.http_status}})
    return _response(error.http_status, error_envelope(error, request_id), {"X-Request-Id": request_id})


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def trip_location(settings: Settings, trip_id: str) -> str:
    """Where a trip answers: ``TRIPS_URL/{id}`` (the trips function), else the path ``/trips/{id}``."""
    if settings.trips_url:
        return f"{settings.trips_url.rstrip('/')}/{trip_id}"
    return f"/trips/{trip_id}"
