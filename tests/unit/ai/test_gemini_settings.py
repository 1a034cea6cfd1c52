"""Gemini settings: defaults, consistency with the deployment, thinking levels, output budget, deadline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from common.domain.ai.deadline import Deadline
from common.domain.ai.gemini import step_down, thinking_config
from common.domain.ai.models import (
    DAY_THEME_MAX_CHARS,
    DESCRIPTION_MAX_CHARS,
    MAX_TIPS,
    NAME_MAX_CHARS,
    NOTES_MAX_ENTRIES,
    TIP_MAX_CHARS,
    ModelUsage,
    candidate_targets,
)
from common.foundation.config import ThinkingLevel, load_settings
from common.foundation.errors import ConfigError
from tests.unit.ai.fakes import make_brief

ROOT = Path(__file__).resolve().parents[3]


def test_defaults() -> None:
    settings = load_settings()
    # The newest generally available Flash model in Google's model documentation (see config.py); configuration only.
    assert settings.gemini_model == "gemini-3.8-flash"
    assert settings.vertex_ai_region == "global"
    assert (settings.gemini_temperature, settings.gemini_top_p, settings.gemini_top_k) == (None, None, None)
    assert (settings.gemini_max_tokens, settings.gemini_max_tokens_retry) == (32768, 65536)
    assert (settings.gemini_thinking_research, settings.gemini_thinking_proposal) == ("medium", "low")
    assert settings.gemini_thinking_floor == "low"
    assert (settings.gemini_plan_deadline_seconds, settings.gemini_proposal_reserve_seconds) == (160, 90)


def test_the_model_deadline_ends_before_the_planning_and_the_function_time_out() -> None:
    settings = load_settings()
    functions = json.loads((ROOT / "deploy" / "functions.json").read_text())["functions"]
    [plan_trip] = [function for function in functions if function["name"] == "plan_trip"]
    deadline = settings.gemini_plan_deadline_seconds
    # cleanup_sessions fails a planning older than AGENT_RESPONSE_TIMEOUT; the platform kills plan_trip at its timeout.
    assert deadline < settings.agent_response_timeout < plan_trip["timeout_seconds"]
    # What comes after the model (resolving places, routes, the solver, the writes) keeps at least two minutes.
    assert plan_trip["timeout_seconds"] - deadline >= 120
    # The research turn leaves the JSON turn its reserve, and one full request fits into that reserve.
    assert settings.gemini_proposal_reserve_seconds < deadline
    assert settings.vertex_ai_request_timeout <= deadline


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"gemini_plan_deadline_seconds": 180}, "GEMINI_PLAN_DEADLINE_SECONDS must be below AGENT_RESPONSE_TIMEOUT"),
        ({"gemini_plan_deadline_seconds": 60, "gemini_proposal_reserve_seconds": 60}, "GEMINI_PROPOSAL_RESERVE"),
        ({"gemini_max_tokens": 40000, "gemini_max_tokens_retry": 32768}, "GEMINI_MAX_TOKENS_RETRY"),
        ({"gemini_max_tokens": 70000}, "GEMINI_MAX_TOKENS"),
        ({"gemini_thinking_proposal": "lots"}, "GEMINI_THINKING_PROPOSAL"),
        ({"vertex_ai_region": "https://x"}, "VERTEX_AI_REGION"),
        ({"gemini_temperature": 2.5}, "GEMINI_TEMPERATURE"),
    ],
)
def test_inconsistent_settings_are_refused(overrides: dict[str, Any], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings(**overrides)


def test_locations_and_sampling_overrides_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    for location in ("global", "us", "eu", "europe-west4"):
        assert load_settings(vertex_ai_region=location).vertex_ai_region == location
    monkeypatch.setenv("GEMINI_TEMPERATURE", "0.2")
    monkeypatch.setenv("GEMINI_TOP_P", "0.9")
    monkeypatch.setenv("GEMINI_TOP_K", "20")
    monkeypatch.setenv("GEMINI_THINKING_RESEARCH", "high")
    settings = load_settings()
    assert (settings.gemini_temperature, settings.gemini_top_p, settings.gemini_top_k) == (0.2, 0.9, 20)
    assert settings.gemini_thinking_research == "high"


@pytest.mark.parametrize(
    ("level", "floor", "expected"),
    [
        ("high", "low", "medium"),
        ("medium", "low", "low"),
        ("low", "low", "low"),
        ("low", "minimal", "minimal"),
        ("minimal", "low", "minimal"),  # already below the floor: stays
        ("default", "low", "low"),  # the model's own level (unknown) steps to the floor
        ("medium", "default", "medium"),  # models without thinking levels: nothing is sent, nothing changes
        ("default", "default", "default"),
    ],
)
def test_step_down(level: ThinkingLevel, floor: ThinkingLevel, expected: ThinkingLevel) -> None:
    assert step_down(level, floor) == expected


def test_thinking_config() -> None:
    assert thinking_config("default") is None
    config = thinking_config("medium")
    assert config is not None
    assert config.thinking_level is not None
    assert config.thinking_level.value == "MEDIUM"
    assert config.thinking_budget is None  # Gemini 3: a level, never together with a budget


def _worst_case_answer(days: int) -> tuple[str, int]:
    """The longest answer a 10-day packed trip can take: every place, theme and tip at the schema's bounds.

    Returns the JSON and the characters of free text in it (names, descriptions, themes, tips)."""
    visits, meals = candidate_targets(make_brief(pace="packed", end_date=make_brief().start_date.replace(day=days)))
    places = [
        {
            "name": "N" * NAME_MAX_CHARS,
            "place_id": "ChIJ" + "x" * 23,  # Google place ids are about 27 characters
            "kind": "visit" if index < visits else "meal",
            "priority": 3,
            "description": "D" * DESCRIPTION_MAX_CHARS,
            "must_include": False,
        }
        for index in range(visits + meals)
    ]
    answer = {
        "places": places,
        "day_themes": ["T" * DAY_THEME_MAX_CHARS] * days,
        "tips": ["P" * TIP_MAX_CHARS] * MAX_TIPS,
    }
    text_chars = len(places) * (NAME_MAX_CHARS + DESCRIPTION_MAX_CHARS) + days * DAY_THEME_MAX_CHARS
    return json.dumps(answer), text_chars + MAX_TIPS * TIP_MAX_CHARS


def test_the_output_budget_fits_a_ten_day_proposal_with_thinking() -> None:
    settings = load_settings()
    answer, text_chars = _worst_case_answer(days=10)
    assert len(json.loads(answer)["places"]) == 60  # the proposal's bound: longer trips do not grow the answer
    # Latin-script text runs about 4 characters a token; at 3, the worst-case answer still takes at most half of
    # GEMINI_MAX_TOKENS, leaving the other half (16k tokens) to low thinking.
    latin_tokens = len(answer) / 3
    assert latin_tokens <= settings.gemini_max_tokens / 2
    # Scripts that take one token a character (the worst case for CJK): the answer fits the retry's budget with
    # more than 16k tokens left for thinking.
    any_script_tokens = text_chars + (len(answer) - text_chars) / 3
    assert any_script_tokens <= settings.gemini_max_tokens_retry - 16384


def test_deadline_with_a_clock() -> None:
    now = [100.0]
    deadline = Deadline(10, clock=lambda: now[0])
    research = deadline.earlier(4)
    now[0] = 103.0
    assert deadline.remaining() == 7
    assert research.remaining() == 3
    assert research.seconds == 6
    assert (deadline.label, research.label, deadline.earlier(1, label="research").label) == (
        "planning",
        "planning",
        "research",
    )
    now[0] = 110.0
    assert deadline.expired()
    assert research.remaining() == -4


def test_usage_counts_thinking_apart_and_bounds_notes() -> None:
    usage = ModelUsage(provider="google-ai")
    usage.add_tokens(100, 50, 400)
    usage.add_tokens(10, None, None)
    assert (usage.prompt_tokens, usage.output_tokens, usage.thinking_tokens) == (110, 50, 400)
    for index in range(NOTES_MAX_ENTRIES + 5):
        usage.note(f"note {index} " + "x" * 1000)
    assert len(usage.notes) == NOTES_MAX_ENTRIES
    assert all(len(note) <= 300 for note in usage.notes)
