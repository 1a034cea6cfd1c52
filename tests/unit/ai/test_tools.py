"""The tool runner: budget, deadline, argument checks, error answers, usage log."""

from __future__ import annotations

from typing import Any

from common.domain.ai.models import ModelUsage
from common.domain.ai.tools import (
    DATA_NOTE,
    ERROR_BUDGET,
    ERROR_FAILED,
    ERROR_NOT_FOUND,
    ERROR_UNAVAILABLE,
    ERROR_UNKNOWN_TOOL,
    ToolRunner,
    tool_declarations,
)
from tests.unit.ai.fakes import FakeToolBox


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _runner(tools: Any = None, **kwargs: Any) -> tuple[ToolRunner, ModelUsage, FakeToolBox]:
    toolbox = tools or FakeToolBox()
    usage = ModelUsage(provider="google-ai", model="m")
    return ToolRunner(toolbox, usage, **kwargs), usage, toolbox


def test_a_search_answers_data_and_remembers_places() -> None:
    runner, usage, tools = _runner()
    answer = runner.run("search_places", {"query": "parks in Paris", "max_results": 2.0})
    assert answer["note"] == DATA_NOTE
    assert [place["place_id"] for place in answer["result"]] == ["park_luxembourg", "park_tuileries"]
    assert runner.known_place_ids == {"park_luxembourg", "park_tuileries"}
    assert tools.calls == [("search_places", ("parks in Paris", None, 2))]
    assert usage.function_calls == 1
    assert usage.tool_log[0]["tool"] == "search_places"
    assert usage.tool_log[0]["ok"] is True
    assert "parks in Paris" in usage.tool_log[0]["args"]


def test_unknown_tools_and_bad_arguments_answer_errors_and_count() -> None:
    runner, usage, tools = _runner()
    assert runner.run("book_hotel", {"city": "Paris"}) == {"error": ERROR_UNKNOWN_TOOL}
    assert runner.run("search_places", {"query": ""})["error"].startswith("invalid arguments")
    assert runner.run("travel_time", {"origin_place_id": "a", "destination_place_id": "b", "mode": "fly"})[
        "error"
    ].startswith("invalid arguments")
    assert runner.run("place_details", {"place_id": "../../etc"})["error"].startswith("invalid arguments")
    assert usage.function_calls == 4
    assert [entry["ok"] for entry in usage.tool_log] == [False] * 4
    assert tools.calls == []


def test_tool_errors_become_answers() -> None:
    runner, _, _ = _runner()
    assert runner.run("place_details", {"place_id": "nope"}) == {"error": ERROR_NOT_FOUND}
    down, _, _ = _runner(FakeToolBox(unavailable=True))
    assert down.run("search_places", {"query": "parks"}) == {"error": ERROR_UNAVAILABLE}

    class Broken(FakeToolBox):
        def travel_time(self, origin_place_id: str, destination_place_id: str, mode: str) -> dict[str, Any]:
            raise KeyError("bug")

    broken, _, _ = _runner(Broken())
    args = {"origin_place_id": "a", "destination_place_id": "b", "mode": "WALK"}
    assert broken.run("travel_time", args) == {"error": ERROR_FAILED}


def test_the_budget_stops_calls_before_they_reach_the_toolbox() -> None:
    runner, usage, tools = _runner(max_calls=2)
    for _ in range(4):
        runner.run("search_places", {"query": "parks"})
    assert len(tools.calls) == 2
    assert usage.function_calls == 2
    assert runner.exhausted
    assert runner.run("search_places", {"query": "parks"}) == {"error": ERROR_BUDGET}


def test_the_deadline_stops_calls() -> None:
    clock = _Clock()
    runner, _, tools = _runner(timeout_s=10, clock=clock)
    runner.run("search_places", {"query": "parks"})
    clock.now += 11
    assert runner.run("search_places", {"query": "parks"}) == {"error": ERROR_BUDGET}
    assert len(tools.calls) == 1


def test_the_tool_log_is_bounded() -> None:
    runner, usage, _ = _runner()
    for index in range(25):
        runner.run("search_places", {"query": f"parks {'x' * 500} {index}"})
    assert usage.function_calls == 25
    assert len(usage.tool_log) == 20
    assert all(len(entry["args"]) <= 200 for entry in usage.tool_log)


def test_details_merge_over_search_results() -> None:
    runner, _, _ = _runner()
    runner.run("search_places", {"query": "parks"})
    runner.run("place_details", {"place_id": "park_luxembourg"})
    assert runner.places["park_luxembourg"]["opening_hours_text"] == ["Monday: 9:00 – 18:00"]


def test_three_tools_are_declared() -> None:
    declarations = tool_declarations()
    assert [declaration.name for declaration in declarations] == ["search_places", "place_details", "travel_time"]
    assert declarations[0].parameters is not None
    assert declarations[0].parameters.required == ["query"]
