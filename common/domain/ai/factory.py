"""Choosing the planner from settings: provider resolution and the fallback chain.

``AI_MODEL_PROVIDER``:

- ``auto`` (default): ``google-ai`` when a Gemini API key is available (``GEMINI_API_KEY``, else the ``api_key``
  callable, which the caller uses to read ``GEMINI_API_KEY_SECRET`` from Secret Manager), else ``vertex-ai`` when
  ``VERTEX_AI_PROJECT_ID`` is set, else ``offline``.
- ``google-ai`` / ``vertex-ai`` / ``offline``: as asked; a missing key or project is a ``ConfigError``.

``AI_FALLBACK_PROVIDER`` (``none``, ``vertex-ai``, ``google-ai``, ``offline``) is tried when the first provider is
unavailable (``UpstreamUnavailable``: 429/5xx after retries, timeouts, the plan's model deadline spent) or when its
proposal was still cut off at the output token limit after its retry (``ModelOutputTruncated``). The fallback gets
what is left of the same deadline (``GEMINI_PLAN_DEADLINE_SECONDS``); ``fallback_reason`` in the usage says why.
A fallback that is not configured (no key, no project) or that is the same provider as the first is skipped with a
log line. Other permanent failures (a blocked or invalid answer, a refused request) do not fall back: they would
fail the same way or hide a real problem.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from common.domain.ai.deadline import Deadline
from common.domain.ai.errors import ModelOutputTruncated
from common.domain.ai.gemini import GeminiPlanner
from common.domain.ai.models import ModelUsage, Planner, Proposal, ToolBox, TripBrief
from common.domain.ai.offline import OfflinePlanner
from common.foundation.errors import ConfigError, UpstreamUnavailable
from common.foundation.log import get_logger

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

    from common.foundation.config import Settings

logger = get_logger(__name__)

ResolvedProvider = Literal["google-ai", "vertex-ai", "offline"]


class FallbackPlanner:
    """Asks ``primary``; when it is unavailable (or its answer stays cut off), asks ``fallback`` and says so in the
    usage. Both share one deadline of ``deadline_seconds`` (started at ``propose``) unless a caller passes one."""

    def __init__(self, primary: Planner, fallback: Planner, *, deadline_seconds: float | None = None) -> None:
        self.primary = primary
        self.fallback = fallback
        self.name = f"{primary.name}+fallback:{fallback.name}"
        self._deadline_seconds = deadline_seconds

    def propose(
        self, brief: TripBrief, tools: ToolBox, *, deadline: Deadline | None = None
    ) -> tuple[Proposal, ModelUsage]:
        if deadline is None and self._deadline_seconds is not None:
            deadline = Deadline(self._deadline_seconds)
        try:
            return self.primary.propose(brief, tools, deadline=deadline)
        except (UpstreamUnavailable, ModelOutputTruncated) as exc:
            reason = str(getattr(exc, "reason", exc.code))
            logger.warning(
                "planner %s failed (%s: %s); falling back to %s",
                self.primary.name,
                reason,
                exc.message,
                self.fallback.name,
                extra={"fields": {"fallback_reason": reason, "fallback_from": self.primary.name}},
            )
            proposal, usage = self.fallback.propose(brief, tools, deadline=deadline)
            usage.fallback_from = self.primary.name
            usage.fallback_reason = reason
            usage.note(f"{self.primary.name} failed ({reason}): {exc.message}")
            return proposal, usage


def _key_resolver(settings: Settings, api_key: Callable[[], str | None] | None) -> Callable[[], str | None]:
    """Reads the key at most once: from the callable when one is given (``common.foundation.secrets.gemini_api_key``
    applies the plain-value versus Secret Manager precedence), else from ``GEMINI_API_KEY``."""
    cache: list[str | None] = []

    def resolve() -> str | None:
        if not cache:
            if api_key is not None:
                key = api_key()
            else:
                key = settings.gemini_api_key.get_secret_value() if settings.gemini_api_key else None
            cache.append(key.strip() if key and key.strip() else None)
        return cache[0]

    return resolve


def resolve_provider(settings: Settings, api_key: Callable[[], str | None] | None = None) -> ResolvedProvider:
    """The first provider ``AI_MODEL_PROVIDER`` designates (``auto`` resolved)."""
    choice = settings.ai_model_provider
    if choice != "auto":
        return choice
    if _key_resolver(settings, api_key)():
        return "google-ai"
    if settings.vertex_ai_project_id:
        return "vertex-ai"
    return "offline"


def _build_one(
    provider: ResolvedProvider, settings: Settings, key: Callable[[], str | None], credentials: Credentials | None
) -> Planner:
    if provider == "offline":
        return OfflinePlanner(max_places_per_day=settings.max_places_per_day)
    if provider == "google-ai":
        return GeminiPlanner(settings, provider="google-ai", api_key=key())
    return GeminiPlanner(settings, provider="vertex-ai", credentials=credentials)


def _fallback_configured(provider: ResolvedProvider, settings: Settings, key: Callable[[], str | None]) -> str | None:
    """Why ``provider`` cannot serve as a fallback, or ``None`` when it can."""
    if provider == "google-ai" and not key():
        return "no Gemini API key"
    if provider == "vertex-ai" and not settings.vertex_ai_project_id:
        return "no VERTEX_AI_PROJECT_ID"
    return None


def build_planner(
    settings: Settings,
    *,
    api_key: Callable[[], str | None] | None = None,
    vertex_credentials: Credentials | None = None,
) -> Planner:
    """The planner for these settings: the resolved provider, wrapped with the configured fallback when usable.

    ``api_key`` is called at most once, and only when ``GEMINI_API_KEY`` is not set. ``vertex_credentials`` replace
    Application Default Credentials for Vertex AI (tests use ``google.oauth2.credentials.Credentials(token=...)``).
    Raises ``ConfigError`` when the chosen provider lacks its key or project.
    """
    key = _key_resolver(settings, api_key)
    provider = resolve_provider(settings, key)
    primary = _build_one(provider, settings, key, vertex_credentials)
    fallback_choice = settings.ai_fallback_provider
    if fallback_choice == "none":
        return primary
    if fallback_choice == provider:
        logger.info("AI fallback %s skipped: it is the primary provider", fallback_choice)
        return primary
    problem = _fallback_configured(fallback_choice, settings, key)
    if problem:
        logger.info("AI fallback %s skipped: %s", fallback_choice, problem)
        return primary
    try:
        fallback = _build_one(fallback_choice, settings, key, vertex_credentials)
    except ConfigError as exc:
        logger.info("AI fallback %s skipped: %s", fallback_choice, exc.message)
        return primary
    return FallbackPlanner(primary, fallback, deadline_seconds=settings.gemini_plan_deadline_seconds)
