"""Structured logging: one JSON object per line on stdout, in the shape Cloud Logging parses from Cloud Functions.

The one way this backend logs. Each line carries ``severity``, ``message``, ``time``, ``logger``, the trace, span and
sampled flag (``logging.googleapis.com/trace``, ``/spanId``, ``/trace_sampled``), ``logging.googleapis.com/
sourceLocation``, the fields bound with ``log_context`` (function name, request id, ...) and a record's ``fields``
(``httpRequest`` among them, which Cloud Logging lifts into the entry); an exception's stack trace is appended to the
message, where Error Reporting finds it. The same shape as google-cloud-logging's ``StructuredLogHandler``.

Why not that handler: google-cloud-logging is not a dependency, on measurement. ``bench/coldstart_bench.py`` times
importing ``StructuredLogHandler`` in a fresh process after everything a function has loaded by its first request
(Firestore and api-core included where the function loads them): median of 7 to 9 runs per function, three series on
2026-12-04 on a shared 2-core machine (load average 8 to 10). Wall clock: 108 to 640 ms; in the quietest series
121 to 155 ms for health, plan_trip and trips and 234 ms for user_data. CPU time alone: 47 to 61 ms, but 106 to
111 ms for user_data (which loads less before refusing a request). After a bare functions-framework: 0.5 to 0.8 s
wall, 0.22 s CPU. The rule was to write through it only if it added less than 0.1 s to a cold start; its wall-clock
cost never did, nor its CPU time for every function, and it would write nothing this formatter does not.
Re-measure with the bench (column ``+logging``) before reconsidering.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

_SEVERITY = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRITICAL",
}
_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar("log_context", default={})  # noqa: B039
_configured = False
MAX_FIELD_CHARS = 2000

_CLOUD_TRACE = re.compile(r"^([0-9a-fA-F]{32})(?:/(\d+))?(?:;o=([01]))?")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


class HeaderLookup(Protocol):
    def get(self, key: str) -> str | None: ...


def parse_trace_headers(headers: HeaderLookup) -> dict[str, Any]:
    """Trace id, span id and sampled flag from ``traceparent`` (W3C) or ``X-Cloud-Trace-Context``."""
    traceparent = (headers.get("traceparent") or "").strip().lower()
    match = _TRACEPARENT.match(traceparent)
    if match:
        return {"trace_id": match.group(1), "span_id": match.group(2), "sampled": match.group(3) == "01"}
    cloud = (headers.get("X-Cloud-Trace-Context") or "").strip()
    match = _CLOUD_TRACE.match(cloud)
    if match:
        span = match.group(2)
        return {
            "trace_id": match.group(1).lower(),
            "span_id": format(int(span), "016x") if span else None,
            "sampled": match.group(3) == "1",
        }
    return {}


def _bounded(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
        return value[:MAX_FIELD_CHARS] + f"...[{len(value) - MAX_FIELD_CHARS} more chars]"
    return value


class CloudLoggingJsonFormatter(logging.Formatter):
    """Formats a record as a Cloud Logging structured entry."""

    def __init__(self, project: str | None = None) -> None:
        super().__init__()
        self.project = project

    def format(self, record: logging.LogRecord) -> str:
        context = dict(_context.get())
        entry: dict[str, Any] = {
            "severity": _SEVERITY.get(record.levelno, "DEFAULT"),
            "message": _bounded(record.getMessage()),
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(),
            "logger": record.name,
        }
        trace_id = context.pop("trace_id", None)
        span_id = context.pop("span_id", None)
        sampled = context.pop("sampled", None)
        if trace_id:
            entry["logging.googleapis.com/trace"] = (
                f"projects/{self.project}/traces/{trace_id}" if self.project else trace_id
            )
            if span_id:
                entry["logging.googleapis.com/spanId"] = span_id
            entry["logging.googleapis.com/trace_sampled"] = bool(sampled)
        entry["logging.googleapis.com/sourceLocation"] = {
            "file": record.pathname,
            "line": record.lineno,
            "function": record.funcName,
        }
        entry.update({key: _bounded(value) for key, value in context.items()})
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            entry.update({str(key): _bounded(value) for key, value in fields.items()})
        if record.exc_info:
            # Error Reporting picks up a stack trace found in the message of an ERROR entry.
            entry["message"] = f"{entry['message']}\n{self.formatException(record.exc_info)}"
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: str = "INFO", project: str | None = None, stream: Any = None) -> None:
    """Send every log record to stdout as JSON lines. Safe to call more than once."""
    global _configured
    root = logging.getLogger()
    root.setLevel(level)
    if _configured and stream is None:
        return
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(CloudLoggingJsonFormatter(project))
    root.handlers = [handler]
    _configured = True


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add ``fields`` to every log line written inside the block (and in code it calls)."""
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> Mapping[str, Any]:
    return _context.get()


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name)
