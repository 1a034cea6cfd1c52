"""Failures of the planner layer, on the backend's error hierarchy (``common.foundation.errors``).

- ``ModelUnavailable`` (a ``UpstreamUnavailable``, HTTP 503, retryable): 429, 408 and 5xx answers after the SDK's
  retries, timeouts, connection failures, no free concurrency slot. 429 is mapped here and not to ``QuotaExceeded``
  on purpose: the quota is the project's, not the caller's, so the user sees a 503 and the trip is stored as failed.
  It is the error that triggers the fallback provider.
- ``ModelRequestRejected`` (a ``UpstreamError``, HTTP 502, permanent): 400, 401, 403, 404 and other 4xx answers.
- ``ModelBlocked`` (permanent): the prompt or the answer was blocked (safety, blocklist, prohibited content...).
- ``ModelOutputError`` (permanent): the answer was empty, or not valid JSON for the schema even after one repair.
"""

from __future__ import annotations

from common.foundation.errors import PermanentError, UpstreamError, UpstreamUnavailable


class ModelUnavailable(UpstreamUnavailable):
    code = "model_unavailable"
    default_message = "the AI model is unavailable; try again later"


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
