"""Fixtures of the planner's integration tests: the Gemini stand-in, and no local stack (it is not needed here)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.ai.gemini_standin import GeminiStandIn, running_standin


@pytest.fixture(autouse=True)
def integration_env() -> dict[str, str]:
    """Overrides the package-wide fixture: these tests talk only to the in-process Gemini stand-in."""
    return {}


@pytest.fixture(scope="module", autouse=True)
def stack_answers() -> None:
    """Overrides the package-wide check of the local stack, which these tests do not use."""


@pytest.fixture
def gemini() -> Iterator[GeminiStandIn]:
    with running_standin() as standin:
        yield standin
