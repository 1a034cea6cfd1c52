"""deploy/observability.json against the log lines the code really writes: plan_trip runs in process on the local
stack (a plan that ends ready, one that ends failed, one refused as bad input), its stdout is captured, each line
becomes the LogEntry Cloud Logging would make of it, and every metric's filter and extractors are evaluated on them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import functions_framework
import pytest

from common.domain.ai import ModelUsage, Planner, Proposal, TripBrief
from common.domain.ai.deadline import Deadline
from common.domain.ai.models import ToolBox
from common.foundation.clients import Lazy
from common.foundation.log import configure_logging
from common.services.planning import service
from tests.integration.ops.logging_filter import extract, log_entry, matches
from tests.integration.support import ROOT, sign_up

MAIN = ROOT / "functions" / "main.py"
OBSERVABILITY = json.loads(Path(ROOT / "deploy" / "observability.json").read_text())
METRICS = {metric["name"]: metric for metric in OBSERVABILITY["metrics"]}


class ExplodingPlanner:
    """A planner whose model call fails unexpectedly (the planning must end ``failed`` with a 500)."""

    name = "exploding"

    def propose(
        self, brief: TripBrief, tools: ToolBox, *, deadline: Deadline | None = None
    ) -> tuple[Proposal, ModelUsage]:
        raise RuntimeError("the model call failed in a way nobody expected")


def _request(destination: str = "Kyoto") -> dict[str, Any]:
    start = dt.date.today() + dt.timedelta(days=30)
    return {
        "destination": destination,
        "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=1)).isoformat(),
        "interests": ["temples"],
    }


@pytest.fixture
def captured_lines(stack: dict[str, str]) -> Iterator[list[dict[str, Any]]]:
    """Run the three requests through plan_trip in process and yield the LogEntries of what it wrote."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    service.default_deps.reset()
    app = functions_framework.create_app(target="plan_trip", source=str(MAIN), signature_type="http")  # type: ignore[no-untyped-call]
    buffer = io.StringIO()
    configure_logging("INFO", None, stream=buffer)
    client = app.test_client()
    try:
        headers = sign_up(stack).headers
        assert client.post("/", json=_request(), headers=headers).status_code == 201
        assert client.post("/", json={"destination": ""}, headers=headers).status_code == 400
        working = service.default_deps.get()
        failing: Planner = ExplodingPlanner()
        original = service.default_deps
        service.default_deps = Lazy(lambda: dataclasses.replace(working, planner=failing))
        try:
            assert client.post("/", json=_request("Paris"), headers=headers).status_code == 500
        finally:
            service.default_deps = original
        yield [log_entry(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]
    finally:
        root.handlers, root.level = handlers, level
        service.default_deps.reset()


def _selected(name: str, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in entries if matches(METRICS[name]["filter"], entry)]


def test_plan_metrics_count_the_planning_lines_and_nothing_else(captured_lines: list[dict[str, Any]]) -> None:
    durations = _selected("plan_duration", captured_lines)
    assert [extract(entry, METRICS["plan_duration"]["labels"]["outcome"]) for entry in durations] == [
        "ready",
        "failed",
    ], "one line per planning that stored a trip; the refused request planned nothing"
    assert all(extract(entry, METRICS["plan_duration"]["value"]) >= 0 for entry in durations)
    providers = [extract(entry, METRICS["plan_duration"]["labels"]["provider"]) for entry in durations]
    assert providers == ["offline", "none"], "the failed planning never got an answer from a planner"

    plans = _selected("plans", captured_lines)
    codes = [extract(entry, METRICS["plans"]["labels"]["failure_code"]) for entry in plans]
    assert codes == [None, "internal"]

    token_metrics = ("plan_gemini_output_tokens", "plan_gemini_prompt_tokens", "plan_gemini_thought_tokens")
    for name in ("plan_maps_elements", "plan_maps_requests", *token_metrics):
        selected = _selected(name, captured_lines)
        assert len(selected) == 1, name
        assert selected[0]["jsonPayload"]["outcome"] == "ready"
        value = extract(selected[0], METRICS[name]["value"])
        assert isinstance(value, int), (name, value)
        assert value >= 0
    assert extract(_selected("plan_maps_requests", captured_lines)[0], "EXTRACT(jsonPayload.maps_calls)") > 0


def test_http_metrics_count_every_answer_and_the_5xx_carry_the_error_reporting_type(
    captured_lines: list[dict[str, Any]],
) -> None:
    responses = _selected("http_responses", captured_lines)
    statuses = [extract(entry, METRICS["http_responses"]["labels"]["status"]) for entry in responses]
    assert statuses == [201, 400, 500]
    assert {extract(entry, METRICS["http_responses"]["labels"]["function"]) for entry in responses} == {"plan_trip"}
    errors = _selected("http_5xx", captured_lines)
    assert len(errors) == 1
    error = errors[0]
    assert error["severity"] == "ERROR"
    assert error["jsonPayload"]["@type"].endswith("ReportedErrorEvent")
    assert error["jsonPayload"]["serviceContext"] == {"service": "plan_trip"}
    assert "Traceback" in error["jsonPayload"]["message"], "Error Reporting groups by the stack trace"
    assert not any(matches(METRICS["plan_duration"]["filter"], entry) for entry in responses)
