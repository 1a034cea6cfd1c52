"""Failures of the planner layer, on the backend's error hierarchy (``common.foundation.errors``).

- ``ModelUnavailable`` (a ``UpstreamUnavailable``, HTTP 503, retryable): 429, 408 and 5xx answers after the SDK's
  retries, timeouts, connection failures, no free concurrency slot. 429 is mapped here and not to ``QuotaExceeded``
  on purpose: the quota is the project's, not the caller's, so the user sees a 503 and the trip is stored as failed.
  It is the error that triggers the fallback provider.
- ``ModelRequestRejected`` (a ``UpstreamError``, HTTP 502, permanent): 400, 401, 403, 404 and other 4xx answers.
- ``ModelBlocked`` (permanent): the prompt or the answer was blocked (safety, blocklist, prohibited content...).
- ``ModelOutputError`` (permanent): the answer was empty, or not valid JSON for the schema even after one repair.

Two narrower kinds keep their parent's code (the API's error codes do not change) and add a ``reason`` that the
fallback records:

- ``ModelDeadlineExceeded`` (a ``ModelUnavailable``): the plan's model deadline (``GEMINI_PLAN_DEADLINE_SECONDS``)
  ran out, retries included.
- ``ModelOutputTruncated`` (a ``ModelOutputError``): the proposal was cut off at the output token limit (thinking
  counts against it) even after the retry with less thinking and a bigger budget. The fallback provider is tried.
"""

from __future__ import annotations

from common.foundation.errors import PermanentError, UpstreamError, UpstreamUnavailable


class ModelUnavailable(UpstreamUnavailable):
    code = "model_unavailable"
    reason = "model_unavailable"
    default_message = "the AI model is unavailable; try again later"


class ModelDeadlineExceeded(ModelUnavailable):
    reason = "model_deadline_exceeded"
    default_message = "the AI model did not answer within the planning deadline"


class ModelRequestRejected(UpstreamError):
    code = "model_rejected"
    default_message = "the AI model refused the request"


class ModelBlocked(PermanentError):
    http_status = 422
    code = "model_blocked"
    default_message = "the AI model declined to answer this request"


class ModelOutputError(PermanentError):
    http_status = 502
    code = "model_output_invalid"
    default_message = "the AI model did not return a usable proposal"


class ModelOutputTruncated(ModelOutputError):
    reason = "model_output_truncated"
    default_message = "the AI model's answer was cut off at the output token limit"
