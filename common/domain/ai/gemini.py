"""The Gemini planner (google-genai, on the Gemini API or on Vertex AI).

Two turns:

1. Research (skipped when ``ENABLE_FUNCTION_CALLING`` is false or ``MAX_FUNCTION_CALLS`` is 0): the three Maps tools
   are declared, automatic function calling is off, and this module executes each call through ``ToolRunner``
   (at most ``MAX_FUNCTION_CALLS`` calls and ``FUNCTION_CALL_TIMEOUT`` seconds in total, at most
   ``AGENT_MAX_ITERATIONS`` model requests). The turn ends when the model stops calling tools, the budget is spent,
   or only ``GEMINI_PROPOSAL_RESERVE_SECONDS`` of the plan's deadline are left (then the proposal is made from what
   was found so far). Thinking: ``GEMINI_THINKING_RESEARCH`` (default medium). The model's turns are sent back as
   they came, so Gemini 3's thought signatures travel with its function calls.
2. Proposal: a fresh, tool-free request with ``response_mime_type="application/json"`` and
   ``response_schema=Proposal`` (Gemini refuses tools and JSON mode together). It carries the brief, the places the
   tools returned and the model's research notes, all as data blocks, rather than the raw function-call history: the
   request stays small and independent of tool-history rules. The turn only formats what research found, so it
   thinks little (``GEMINI_THINKING_PROPOSAL``, default low). Thinking tokens count against ``GEMINI_MAX_TOKENS``:
   an answer cut off there (``MAX_TOKENS``) is asked again, once, from scratch, with one thinking level less (not
   below ``GEMINI_THINKING_FLOOR``) and ``GEMINI_MAX_TOKENS_RETRY`` tokens; cut off again, it raises
   ``ModelOutputTruncated`` (the fallback provider, if any, is tried). An answer that is not JSON or not a valid
   proposal gets one repair request; a second failure raises ``ModelOutputError``.

The answer is parsed from the response text by this module (not ``response.parsed``), thought parts excluded,
cleaned by ``common.domain.ai.sanitize`` (so an over-long description is shortened rather than refused) and
validated. Place ids the tools did not return in this conversation are replaced by ``None``. Blocked answers raise
``ModelBlocked``, empty ones ``ModelOutputError``; ``None`` is never passed on.

Sampling: temperature, top-p and top-k are sent only when set (``GEMINI_TEMPERATURE``...); unset, the model's
defaults apply, as Google's Gemini 3 guidance asks.

Deadline and retries: every model call of a plan, retries, back-off and tool calls included, fits in one
``GEMINI_PLAN_DEADLINE_SECONDS`` (``Deadline``), which must end before ``AGENT_RESPONSE_TIMEOUT`` and so before the
function's timeout. This module retries 408/429/5xx and timeouts itself (``VERTEX_AI_MAX_RETRIES`` times, exponential
back-off from ``VERTEX_AI_RETRY_DELAY``), each attempt with a timeout of ``VERTEX_AI_REQUEST_TIMEOUT`` or what is
left of the deadline if less; the SDK's own retries are off. What is still failing is mapped by ``to_app_error``;
a spent deadline raises ``ModelDeadlineExceeded``. Model requests per process are bounded by a semaphore of
``VERTEX_AI_CONCURRENT_REQUESTS``.

Tokens: ``ModelUsage`` counts prompt, answer (``candidates_token_count``) and thinking (``thoughts_token_count``)
tokens separately; all three are logged.
"""

from __future__ import annotations

import functools
import json
import random
import re
import threading
import time
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from common.domain.ai.deadline import Deadline
from common.domain.ai.errors import (
    ModelBlocked,
    ModelDeadlineExceeded,
    ModelOutputError,
    ModelOutputTruncated,
    ModelRequestRejected,
    ModelUnavailable,
)
from common.domain.ai.models import ModelUsage, Proposal, ToolBox, TripBrief
from common.domain.ai.prompts import (
    BAD_ANSWER_MAX_CHARS,
    proposal_prompt,
    repair_prompt,
    research_prompt,
    system_instruction,
)
from common.domain.ai.sanitize import coerce_proposal, ensure_must_includes
from common.domain.ai.tools import ToolRunner, tool_declarations
from common.foundation.clients import Lazy
from common.foundation.errors import AppError, ConfigError
from common.foundation.log import get_logger

if TYPE_CHECKING:
    from google import genai
    from google.auth.credentials import Credentials
    from google.genai import types

    from common.foundation.config import Settings, ThinkingLevel

logger = get_logger(__name__)

GeminiProvider = Literal["google-ai", "vertex-ai"]
RETRY_STATUS_CODES = [408, 429, 500, 502, 503, 504]
BLOCKED_FINISH_REASONS = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "LANGUAGE",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "MODEL_ARMOR",
    }
)
THINKING_LADDER: tuple[ThinkingLevel, ...] = ("minimal", "low", "medium", "high")
MIN_ATTEMPT_SECONDS = 1.0  # no request is started with less of the deadline left
MAX_RETRY_DELAY_SECONDS = 30.0
_CODE_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL | re.IGNORECASE)

_semaphores: dict[int, threading.BoundedSemaphore] = {}
_semaphores_lock = threading.Lock()


def process_semaphore(limit: int) -> threading.BoundedSemaphore:
    """The process-wide semaphore bounding concurrent model requests (one per configured limit)."""
    with _semaphores_lock:
        if limit not in _semaphores:
            _semaphores[limit] = threading.BoundedSemaphore(limit)
        return _semaphores[limit]


@functools.cache
def _transient_transport_errors() -> tuple[type[BaseException], ...]:
    """Timeouts and connection failures of every transport google-genai may use (httpx, or its fork httpx2 when
    installed; requests for mTLS on Vertex AI; google-auth while refreshing a token)."""
    import importlib

    import requests
    from google.auth import exceptions as auth_exceptions

    errors: list[type[BaseException]] = [
        requests.exceptions.ConnectionError,
        requests.exceptions.Timeout,
        auth_exceptions.TransportError,
        TimeoutError,
        ConnectionError,
    ]
    for module_name in ("httpx", "httpx2"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        errors.append(module.TransportError)  # includes TimeoutException, ConnectError, ReadError...
    return tuple(errors)


def to_app_error(error: BaseException) -> AppError | None:
    """The typed error for an exception of the SDK or its transport; ``None`` for anything else (a bug: re-raise).

    429 (after the SDK's retries), 408, 5xx, timeouts and connection failures -> ``ModelUnavailable`` (503);
    other 4xx and authentication failures -> ``ModelRequestRejected`` (permanent).
    """
    from google.auth import exceptions as auth_exceptions
    from google.genai import errors as genai_errors

    if isinstance(error, AppError):
        return error
    if isinstance(error, genai_errors.APIError):
        detail = f"{error.code} {error.status or ''}: {str(error.message or '')[:300]}".strip()
        if error.code == 429:
            return ModelUnavailable(f"Gemini quota exhausted after retries ({detail})")
        if error.code == 408 or error.code >= 500:
            return ModelUnavailable(f"Gemini unavailable after retries ({detail})")
        return ModelRequestRejected(f"Gemini refused the request ({detail})")
    if isinstance(error, _transient_transport_errors()):
        return ModelUnavailable(f"Gemini unreachable or too slow ({type(error).__name__}: {str(error)[:300]})")
    if isinstance(error, genai_errors.UnknownApiResponseError):
        return ModelUnavailable(f"Gemini answered something that is not JSON ({str(error)[:200]})")
    if isinstance(error, auth_exceptions.GoogleAuthError):
        return ModelRequestRejected(f"could not authenticate to Vertex AI ({type(error).__name__}: {str(error)[:200]})")
    return None


class _BadOutput(Exception):
    """An answer that a repair request may fix: not JSON, or not a valid proposal."""

    def __init__(self, reason: str, text: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.text = text


class _CutOff(_BadOutput):
    """An answer cut off at the output token limit (``MAX_TOKENS``); ``thinking_tokens`` of the limit were thoughts."""

    def __init__(self, reason: str, text: str, thinking_tokens: int) -> None:
        super().__init__(reason, text)
        self.thinking_tokens = thinking_tokens


def step_down(level: ThinkingLevel, floor: ThinkingLevel) -> ThinkingLevel:
    """One thinking level less than ``level``, never below ``floor``.

    ``default`` (no thinking config sent) steps to ``floor``; a ``floor`` of ``default`` keeps ``level`` as it is
    (for models that take no thinking level); a level already at or below ``floor`` stays.
    """
    if floor == "default":
        return level
    if level == "default":
        return floor
    index, floor_index = THINKING_LADDER.index(level), THINKING_LADDER.index(floor)
    return THINKING_LADDER[max(index - 1, floor_index)] if index > floor_index else level


def thinking_config(level: ThinkingLevel) -> types.ThinkingConfig | None:
    """The request's thinking config for ``level`` (Gemini 3 ``thinking_level``); ``None`` for ``default``."""
    from google.genai import types

    if level == "default":
        return None
    return types.ThinkingConfig(thinking_level=types.ThinkingLevel(level.upper()))


def _retryable(error: BaseException) -> bool:
    from google.genai import errors as genai_errors

    if isinstance(error, genai_errors.APIError):
        return error.code in RETRY_STATUS_CODES
    return isinstance(error, _transient_transport_errors())


def _is_timeout(error: BaseException) -> bool:
    """A timeout of any transport (httpx's ReadTimeout, ConnectTimeout...; requests' Timeout; TimeoutError)."""
    return isinstance(error, TimeoutError) or "Timeout" in type(error).__name__


def _thinking_tokens(response: types.GenerateContentResponse) -> int:
    meta = response.usage_metadata
    return (meta.thoughts_token_count or 0) if meta is not None else 0


def _finish_reason(response: types.GenerateContentResponse) -> str | None:
    if not response.candidates:
        return None
    reason = response.candidates[0].finish_reason
    return None if reason is None else str(getattr(reason, "name", reason))


def _answer_text(response: types.GenerateContentResponse) -> str:
    """The text parts of the first candidate (thoughts excluded); "" when there are none."""
    if not response.candidates or not response.candidates[0].content or not response.candidates[0].content.parts:
        return ""
    return "".join(part.text for part in response.candidates[0].content.parts if part.text and not part.thought)


def raise_if_blocked(response: types.GenerateContentResponse) -> None:
    """``ModelBlocked`` when the prompt or the answer was blocked."""
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        reason = getattr(feedback.block_reason, "name", str(feedback.block_reason))
        message = f": {feedback.block_reason_message[:200]}" if feedback.block_reason_message else ""
        raise ModelBlocked(f"the AI model blocked the request ({reason}{message})", details=[reason])
    finish = _finish_reason(response)
    if finish in BLOCKED_FINISH_REASONS:
        raise ModelBlocked(f"the AI model stopped its answer ({finish})", details=[finish])


def _user(text: str) -> types.Content:
    from google.genai import types

    return types.Content(role="user", parts=[types.Part(text=text)])


def _json_payload(text: str) -> str:
    match = _CODE_FENCE.match(text)
    return match.group(1) if match else text.strip()


def _schema_problem(error: ValidationError) -> str:
    problems = []
    for item in error.errors()[:8]:
        where = ".".join(str(part) for part in item["loc"]) or "answer"
        problems.append(f"{where}: {item['msg']}")
    return "it does not fit the schema (" + "; ".join(problems) + ")"


class GeminiPlanner:
    """Proposes places with Gemini; the client is built on first use, once per planner."""

    def __init__(
        self,
        settings: Settings,
        *,
        provider: GeminiProvider,
        api_key: str | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        if provider == "google-ai" and not api_key:
            raise ConfigError("the google-ai provider needs a Gemini API key (GEMINI_API_KEY or GEMINI_API_KEY_SECRET)")
        if provider == "vertex-ai" and not settings.vertex_ai_project_id:
            raise ConfigError("the vertex-ai provider needs VERTEX_AI_PROJECT_ID")
        if settings.gemini_base_url and not settings.gemini_base_url.startswith(("http://", "https://")):
            raise ConfigError("GEMINI_BASE_URL must start with http:// (local stand-in) or https://")
        self.name: str = provider
        self.provider: GeminiProvider = provider
        self._settings = settings
        self._api_key = api_key
        self._credentials = credentials
        self._client: Lazy[genai.Client] = Lazy(self._build_client)
        self._semaphore = process_semaphore(settings.vertex_ai_concurrent_requests)

    # ----------------------------------------------------------------------------------------------- client and calls

    def http_options(self) -> types.HttpOptions:
        """The client's options: the stand-in's URL when set; no SDK retries (``_generate`` retries within the
        deadline); a default timeout of ``VERTEX_AI_REQUEST_TIMEOUT`` (each request sets its own)."""
        from google.genai import types

        settings = self._settings
        return types.HttpOptions(
            base_url=settings.gemini_base_url, timeout=int(settings.vertex_ai_request_timeout * 1000)
        )

    def _build_client(self) -> genai.Client:
        from google import genai

        if self.provider == "vertex-ai":
            return genai.Client(
                vertexai=True,
                project=self._settings.vertex_ai_project_id,
                location=self._settings.vertex_ai_region,
                credentials=self._credentials,
                http_options=self.http_options(),
            )
        return genai.Client(api_key=self._api_key, http_options=self.http_options())

    def _retry_delay(self, attempt: int) -> float:
        base = self._settings.vertex_ai_retry_delay
        return min(MAX_RETRY_DELAY_SECONDS, base * 2.0**attempt + random.uniform(0, base / 2))

    def _generate(
        self,
        contents: list[types.Content],
        config: types.GenerateContentConfig,
        usage: ModelUsage,
        deadline: Deadline,
    ) -> types.GenerateContentResponse:
        """One model request, retried on 408/429/5xx and timeouts while ``deadline`` allows."""
        from google.genai import types

        settings = self._settings
        attempts = settings.vertex_ai_max_retries + 1
        last_problem = ""
        for attempt in range(attempts):
            if deadline.remaining() < MIN_ATTEMPT_SECONDS:
                raise self._deadline_error(deadline, last_problem)
            if not self._semaphore.acquire(timeout=min(settings.vertex_ai_request_timeout, deadline.remaining())):
                raise ModelUnavailable("too many concurrent AI model requests in this instance")
            response: types.GenerateContentResponse | None = None
            pause = 0.0
            try:
                remaining = deadline.remaining()  # again: waiting for a slot took time
                if remaining < MIN_ATTEMPT_SECONDS:
                    raise self._deadline_error(deadline, last_problem)
                timeout = min(settings.vertex_ai_request_timeout, remaining)
                if attempt == 0:
                    usage.llm_calls += 1  # requests asked for; the retries of one are not counted again
                client = self._client.get()
                per_request = config.model_copy(update={"http_options": types.HttpOptions(timeout=int(timeout * 1000))})
                response = client.models.generate_content(
                    model=settings.gemini_model, contents=contents, config=per_request
                )
            except AppError:
                raise
            except Exception as exc:
                mapped = to_app_error(exc)
                if mapped is None:
                    raise
                if timeout < settings.vertex_ai_request_timeout and _is_timeout(exc):  # cut by the deadline
                    raise self._deadline_error(deadline, mapped.message) from exc
                if not _retryable(exc) or attempt == attempts - 1:
                    logger.warning("gemini request failed: %s", mapped.message)
                    raise mapped from exc
                last_problem = mapped.message
                pause = self._retry_delay(attempt)
                if deadline.remaining() - pause < MIN_ATTEMPT_SECONDS:
                    raise self._deadline_error(deadline, last_problem) from exc
            finally:
                self._semaphore.release()
            if response is None:  # a retryable failure: wait without holding a slot
                logger.info("gemini request failed (%s); retry %d in %.1f s", last_problem, attempt + 1, pause)
                time.sleep(pause)
                continue
            meta = response.usage_metadata
            if meta is not None:
                usage.add_tokens(meta.prompt_token_count, meta.candidates_token_count, meta.thoughts_token_count)
            return response
        raise AssertionError("unreachable: the last attempt returns or raises")

    @staticmethod
    def _deadline_error(deadline: Deadline, last_problem: str) -> ModelDeadlineExceeded:
        after = f" (last failure: {last_problem[:200]})" if last_problem else ""
        message = f"the AI model did not answer within the {deadline.label} deadline of {deadline.seconds:g} s{after}"
        logger.warning("gemini deadline: %s", message)
        return ModelDeadlineExceeded(message)

    def _config(
        self, brief: TripBrief, *, with_tools: bool, thinking: ThinkingLevel, max_tokens: int
    ) -> types.GenerateContentConfig:
        from google.genai import types

        settings = self._settings
        common: dict[str, Any] = {
            "system_instruction": system_instruction(brief),
            "max_output_tokens": max_tokens,
            "automatic_function_calling": types.AutomaticFunctionCallingConfig(disable=True),
        }
        for name, value in (
            ("temperature", settings.gemini_temperature),
            ("top_p", settings.gemini_top_p),
            ("top_k", settings.gemini_top_k),
        ):
            if value is not None:  # unset: the model's default, as Google's Gemini 3 guidance asks
                common[name] = value
        config = thinking_config(thinking)
        if config is not None:
            common["thinking_config"] = config
        if with_tools:
            return types.GenerateContentConfig(**common, tools=[types.Tool(function_declarations=tool_declarations())])
        return types.GenerateContentConfig(**common, response_mime_type="application/json", response_schema=Proposal)

    # ---------------------------------------------------------------------------------------------------- the turns

    def propose(
        self, brief: TripBrief, tools: ToolBox, *, deadline: Deadline | None = None
    ) -> tuple[Proposal, ModelUsage]:
        settings = self._settings
        deadline = deadline or Deadline(settings.gemini_plan_deadline_seconds)
        usage = ModelUsage(provider=self.provider, model=settings.gemini_model)
        if settings.enable_function_calling and settings.max_function_calls > 0:
            runner, notes = self._research(brief, tools, usage, deadline)
            proposal = self._propose_final(
                brief,
                usage,
                deadline,
                maps_places=list(runner.places.values()),
                notes=notes,
                allowed_place_ids=runner.known_place_ids,
            )
        else:
            proposal = self._propose_final(
                brief, usage, deadline, maps_places=None, notes=None, allowed_place_ids=set()
            )
        logger.info(
            "gemini proposal: %d places, %d model calls, %d tool calls, %d thinking tokens",
            len(proposal.places),
            usage.llm_calls,
            usage.function_calls,
            usage.thinking_tokens,
            extra={
                "fields": {
                    "provider": self.provider,
                    "model": usage.model,
                    "prompt_tokens": usage.prompt_tokens,
                    "output_tokens": usage.output_tokens,
                    "thinking_tokens": usage.thinking_tokens,
                    "thinking_research": settings.gemini_thinking_research,
                    "thinking_proposal": settings.gemini_thinking_proposal,
                    "seconds_left": round(deadline.remaining(), 1),
                    "notes": usage.notes,
                }
            },
        )
        return proposal, usage

    def _research(
        self, brief: TripBrief, tools: ToolBox, usage: ModelUsage, deadline: Deadline
    ) -> tuple[ToolRunner, str]:
        """Turn 1: let the model call the Maps tools; returns the runner (places seen) and the model's notes.

        It ends early, keeping what the tools found, when only ``GEMINI_PROPOSAL_RESERVE_SECONDS`` are left."""
        from google.genai import types

        settings = self._settings
        runner = ToolRunner(
            tools, usage, max_calls=settings.max_function_calls, timeout_s=settings.function_call_timeout
        )
        research_deadline = deadline.earlier(settings.gemini_proposal_reserve_seconds, label="research")
        config = self._config(
            brief, with_tools=True, thinking=settings.gemini_thinking_research, max_tokens=settings.gemini_max_tokens
        )
        contents = [_user(research_prompt(brief, settings.max_function_calls))]
        for _ in range(settings.agent_max_iterations):
            if runner.exhausted:
                break
            try:
                response = self._generate(contents, config, usage, research_deadline)
            except ModelDeadlineExceeded:
                usage.note(
                    f"research cut short to leave {settings.gemini_proposal_reserve_seconds:.0f} s of the deadline "
                    f"to the proposal ({len(runner.places)} places found)"
                )
                return runner, ""
            raise_if_blocked(response)
            if _finish_reason(response) == "MAX_TOKENS":
                logger.warning(
                    "gemini research turn cut off at the output token limit (%d thinking tokens)",
                    _thinking_tokens(response),
                )
            calls = response.function_calls or []
            if not calls or not response.candidates or response.candidates[0].content is None:
                return runner, _answer_text(response)
            contents.append(response.candidates[0].content)
            answers = [
                types.Part(
                    function_response=types.FunctionResponse(
                        id=call.id, name=call.name, response=runner.run(call.name or "", call.args)
                    )
                )
                for call in calls
            ]
            contents.append(types.Content(role="user", parts=answers))
        return runner, ""

    def _propose_final(
        self,
        brief: TripBrief,
        usage: ModelUsage,
        deadline: Deadline,
        *,
        maps_places: list[dict[str, Any]] | None,
        notes: str | None,
        allowed_place_ids: set[str],
    ) -> Proposal:
        """Turn 2: the JSON proposal, with one second request when the answer is unusable: a fresh one with less
        thinking and a bigger budget when it was cut off, a repair request otherwise."""
        from google.genai import types

        settings = self._settings
        prompt = proposal_prompt(
            brief, maps_places=maps_places, notes=notes, max_places_per_day=settings.max_places_per_day
        )
        level = settings.gemini_thinking_proposal
        config = self._config(brief, with_tools=False, thinking=level, max_tokens=settings.gemini_max_tokens)
        contents = [_user(prompt)]
        response = self._generate(contents, config, usage, deadline)
        try:
            return self._read_proposal(response, brief, allowed_place_ids)
        except _CutOff as cut:
            retry_level = step_down(level, settings.gemini_thinking_floor)
            usage.note(
                f"proposal cut off at {settings.gemini_max_tokens} output tokens ({cut.thinking_tokens} thinking, "
                f"thinking {level}); retried with thinking {retry_level} and {settings.gemini_max_tokens_retry} tokens"
            )
            logger.warning(
                "gemini proposal cut off at the output token limit; retrying with less thinking and more tokens",
                extra={
                    "fields": {
                        "max_output_tokens": settings.gemini_max_tokens,
                        "thinking_tokens": cut.thinking_tokens,
                        "thinking": level,
                        "retry_thinking": retry_level,
                        "retry_max_output_tokens": settings.gemini_max_tokens_retry,
                    }
                },
            )
            # The cut-off text is not sent back: continuing half a JSON document is less reliable than a new one.
            contents = [_user(prompt + "\n\n" + repair_prompt(cut.reason))]
            config = self._config(
                brief, with_tools=False, thinking=retry_level, max_tokens=settings.gemini_max_tokens_retry
            )
            first: _BadOutput = cut
        except _BadOutput as bad:
            logger.warning("gemini answer unusable, asking for a repair: %s", bad.reason)
            bad_text = bad.text[:BAD_ANSWER_MAX_CHARS]
            if bad_text.strip():
                contents += [
                    types.Content(role="model", parts=[types.Part(text=bad_text)]),
                    _user(repair_prompt(bad.reason)),
                ]
            else:
                contents = [_user(prompt + "\n\n" + repair_prompt(bad.reason))]
            first = bad
        second = self._generate(contents, config, usage, deadline)
        try:
            return self._read_proposal(second, brief, allowed_place_ids)
        except _CutOff as cut:
            raise ModelOutputTruncated(
                "the AI model's proposal was cut off at the output token limit, even after a retry with less "
                f"thinking and {config.max_output_tokens} tokens ({cut.thinking_tokens} thinking tokens)",
                details=[first.reason, cut.reason],
            ) from None
        except _BadOutput as again:
            raise ModelOutputError(
                f"the AI model did not return a valid proposal, even after a repair request: {again.reason}",
                details=[first.reason, again.reason],
            ) from None

    def _read_proposal(
        self, response: types.GenerateContentResponse, brief: TripBrief, allowed_place_ids: set[str]
    ) -> Proposal:
        raise_if_blocked(response)
        text = _answer_text(response)
        finish = _finish_reason(response)
        if finish == "MAX_TOKENS":
            thinking = _thinking_tokens(response)
            raise _CutOff(
                "the answer was cut off at the output token limit, so the JSON is incomplete "
                f"({thinking} of the tokens went to thinking)",
                text,
                thinking,
            )
        if not text.strip():
            raise ModelOutputError(f"the AI model returned an empty answer (finish reason {finish})")
        try:
            data = json.loads(_json_payload(text))
        except json.JSONDecodeError as exc:
            raise _BadOutput(f"it is not valid JSON ({exc.msg} at character {exc.pos})", text) from None
        try:
            proposal = coerce_proposal(data, days=brief.days, allowed_place_ids=allowed_place_ids)
        except ValidationError as exc:
            raise _BadOutput(_schema_problem(exc), text) from None
        except ValueError as exc:
            raise _BadOutput(str(exc), text) from None
        return ensure_must_includes(proposal, brief)
