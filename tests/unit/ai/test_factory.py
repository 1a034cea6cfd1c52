"""Provider resolution and the fallback chain."""

from __future__ import annotations

from typing import Any

import pytest

from common.domain.ai.deadline import Deadline
from common.domain.ai.errors import ModelBlocked, ModelDeadlineExceeded, ModelOutputTruncated, ModelUnavailable
from common.domain.ai.factory import FallbackPlanner, build_planner, resolve_provider
from common.domain.ai.gemini import GeminiPlanner
from common.domain.ai.models import ModelUsage, Proposal, ToolBox, TripBrief
from common.domain.ai.offline import OfflinePlanner
from common.foundation.config import load_settings
from common.foundation.errors import ConfigError
from tests.unit.ai.fakes import FakeToolBox, make_brief


@pytest.mark.parametrize(
    ("provider", "key", "callable_key", "project", "expected"),
    [
        ("auto", "k", None, None, "google-ai"),
        ("auto", None, "from-secret", None, "google-ai"),
        ("auto", "k", None, "proj", "google-ai"),
        ("auto", None, None, "proj", "vertex-ai"),
        ("auto", None, "  ", "proj", "vertex-ai"),
        ("auto", None, None, None, "offline"),
        ("vertex-ai", "k", None, "proj", "vertex-ai"),
        ("offline", "k", None, "proj", "offline"),
        ("google-ai", "k", None, None, "google-ai"),
    ],
)
def test_provider_resolution(
    provider: str, key: str | None, callable_key: str | None, project: str | None, expected: str
) -> None:
    settings = load_settings(
        ai_model_provider=provider, gemini_api_key=key, vertex_ai_project_id=project, ai_fallback_provider="none"
    )
    api_key = (lambda: callable_key) if callable_key is not None else None
    assert resolve_provider(settings, api_key) == expected
    planner = build_planner(settings, api_key=api_key)
    assert planner.name == expected


def test_google_ai_without_a_key_is_a_config_error() -> None:
    settings = load_settings(ai_model_provider="google-ai", ai_fallback_provider="none")
    with pytest.raises(ConfigError, match="API key"):
        build_planner(settings, api_key=lambda: None)


def test_vertex_ai_without_a_project_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="VERTEX_AI_PROJECT_ID"):
        build_planner(load_settings(ai_model_provider="vertex-ai", ai_fallback_provider="none"))


def test_the_key_callable_is_asked_once_and_replaces_the_plain_setting() -> None:
    asked: list[int] = []

    def secret() -> str:
        asked.append(1)
        return "from-secret"

    planner = build_planner(load_settings(ai_fallback_provider="google-ai"), api_key=secret)
    assert len(asked) == 1
    assert planner.name == "google-ai"
    # The callable owns the precedence between GEMINI_API_KEY and the Secret Manager secret.
    planner = build_planner(load_settings(gemini_api_key="k"), api_key=lambda: None)
    assert planner.name == "offline"
    assert build_planner(load_settings(gemini_api_key="k")).name == "google-ai"


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"gemini_api_key": "k", "ai_fallback_provider": "offline"}, "google-ai+fallback:offline"),
        ({"gemini_api_key": "k", "ai_fallback_provider": "none"}, "google-ai"),
        ({"gemini_api_key": "k", "ai_fallback_provider": "google-ai"}, "google-ai"),  # same provider: skipped
        ({"gemini_api_key": "k", "ai_fallback_provider": "vertex-ai"}, "google-ai"),  # no project: skipped
        (
            {"gemini_api_key": "k", "vertex_ai_project_id": "p", "ai_fallback_provider": "vertex-ai"},
            "google-ai+fallback:vertex-ai",
        ),
        ({"vertex_ai_project_id": "p", "ai_fallback_provider": "google-ai"}, "vertex-ai"),  # no key: skipped
        ({"vertex_ai_project_id": "p", "ai_fallback_provider": "offline"}, "vertex-ai+fallback:offline"),
        ({"ai_fallback_provider": "google-ai"}, "offline"),
    ],
)
def test_fallback_chain(settings: dict[str, Any], expected: str) -> None:
    planner = build_planner(load_settings(**settings))
    assert planner.name == expected
    if "+" in expected:
        assert isinstance(planner, FallbackPlanner)
        assert isinstance(planner.primary, GeminiPlanner)
        assert isinstance(planner.fallback, GeminiPlanner | OfflinePlanner)


class _Failing:
    name = "google-ai"

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0
        self.deadlines: list[Deadline | None] = []

    def propose(
        self, brief: TripBrief, tools: ToolBox, *, deadline: Deadline | None = None
    ) -> tuple[Proposal, ModelUsage]:
        self.calls += 1
        self.deadlines.append(deadline)
        raise self.error


def test_the_fallback_answers_when_the_primary_is_unavailable() -> None:
    primary = _Failing(ModelUnavailable("503 after retries"))
    proposal, usage = FallbackPlanner(primary, OfflinePlanner()).propose(make_brief(), FakeToolBox())
    assert primary.calls == 1
    assert usage.provider == "offline"
    assert usage.fallback_from == "google-ai"
    assert usage.fallback_reason == "model_unavailable"
    assert proposal.places


def test_permanent_failures_do_not_fall_back() -> None:
    planner = FallbackPlanner(_Failing(ModelBlocked("safety")), OfflinePlanner())
    tools = FakeToolBox()
    with pytest.raises(ModelBlocked):
        planner.propose(make_brief(), tools)
    assert tools.calls == []


class _Recording:
    name = "offline"

    def __init__(self) -> None:
        self.deadlines: list[Deadline | None] = []

    def propose(
        self, brief: TripBrief, tools: ToolBox, *, deadline: Deadline | None = None
    ) -> tuple[Proposal, ModelUsage]:
        self.deadlines.append(deadline)
        return OfflinePlanner().propose(brief, tools)


def test_a_proposal_still_cut_off_falls_back_and_both_share_one_deadline() -> None:
    primary = _Failing(ModelOutputTruncated("cut off twice"))
    fallback = _Recording()
    proposal, usage = FallbackPlanner(primary, fallback, deadline_seconds=100).propose(make_brief(), FakeToolBox())
    assert usage.fallback_reason == "model_output_truncated"
    assert usage.notes == ["google-ai failed (model_output_truncated): cut off twice"]
    [given] = primary.deadlines
    assert given is not None
    assert 99 < given.remaining() <= 100
    assert fallback.deadlines == [given]
    assert proposal.places


def test_a_spent_deadline_is_its_own_fallback_reason() -> None:
    _, usage = FallbackPlanner(_Failing(ModelDeadlineExceeded("late")), OfflinePlanner()).propose(
        make_brief(), FakeToolBox()
    )
    assert usage.fallback_reason == "model_deadline_exceeded"


def test_the_built_chain_starts_one_deadline_of_the_setting() -> None:
    settings = load_settings(
        gemini_api_key="k",
        ai_fallback_provider="offline",
        gemini_plan_deadline_seconds=42,
        gemini_proposal_reserve_seconds=20,
    )
    planner = build_planner(settings)
    assert isinstance(planner, FallbackPlanner)
    primary = _Failing(ModelUnavailable("down"))
    planner.primary = primary
    planner.propose(make_brief(), FakeToolBox())
    [given] = primary.deadlines
    assert given is not None
    assert given.seconds == 42
