from __future__ import annotations

import io
import json
import logging

from common.foundation.log import configure_logging, get_logger, log_context, parse_trace_headers


def _capture() -> io.StringIO:
    stream = io.StringIO()
    configure_logging("DEBUG", project="demo-proj", stream=stream)
    return stream


def test_json_lines_carry_severity_context_and_trace() -> None:
    stream = _capture()
    trace = parse_trace_headers({"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
    with log_context(function="plan_trip", request_id="req-123", **trace):
        get_logger("test").warning("hello %s", "world", extra={"fields": {"maps_calls": 3}})
    entry = json.loads(stream.getvalue().splitlines()[-1])
    assert entry["severity"] == "WARNING"
    assert entry["message"] == "hello world"
    assert entry["function"] == "plan_trip"
    assert entry["request_id"] == "req-123"
    assert entry["maps_calls"] == 3
    assert entry["logging.googleapis.com/trace"] == "projects/demo-proj/traces/0af7651916cd43dd8448eb211c80319c"
    assert entry["logging.googleapis.com/spanId"] == "b7ad6b7169203331"
    assert entry["logging.googleapis.com/trace_sampled"] is True


def test_context_ends_with_the_block() -> None:
    stream = _capture()
    with log_context(request_id="inner"):
        pass
    get_logger("test").info("after")
    assert "request_id" not in json.loads(stream.getvalue().splitlines()[-1])


def test_cloud_trace_header_is_understood() -> None:
    parsed = parse_trace_headers({"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1"})
    assert parsed == {"trace_id": "105445aa7843bc8bf206b12000100000", "span_id": "0000000000000001", "sampled": True}
    assert parse_trace_headers({"X-Cloud-Trace-Context": "not a trace"}) == {}


def test_exceptions_keep_their_stack_and_long_text_is_bounded() -> None:
    stream = _capture()
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        get_logger("test").exception("failed")
    get_logger("test").info("x" * 10_000)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[-2]["severity"] == "ERROR"
    assert "RuntimeError: boom" in lines[-2]["message"]
    assert len(lines[-1]["message"]) < 2100
    logging.getLogger().handlers.clear()
