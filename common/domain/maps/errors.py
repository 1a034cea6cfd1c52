"""Maps failures mapped onto the backend's error hierarchy, and the classification of client exceptions."""

from __future__ import annotations

from google.api_core import exceptions as core_exceptions

from common.foundation.errors import AppError, ConfigError, NotFound, QuotaExceeded, UpstreamError, UpstreamUnavailable


class MapsApiDisabled(ConfigError):
    code = "maps_api_disabled"
    default_message = "this Maps API is disabled by configuration"


class MapsPlaceNotFound(NotFound):
    code = "maps_not_found"
    default_message = "Maps knows no such place"


class MapsQuotaExceeded(QuotaExceeded):
    code = "maps_quota_exceeded"
    default_message = "the Maps quota is exhausted; try again later"


class MapsUnavailable(UpstreamUnavailable):
    code = "maps_unavailable"
    default_message = "Google Maps is unavailable; try again later"


class MapsRequestRejected(UpstreamError):
    """Maps refused the request (400, 401, 403...): retrying the same request will not help."""

    code = "maps_rejected"
    default_message = "Google Maps refused the request"


_RETRYABLE_API_ERRORS = (
    core_exceptions.TooManyRequests,
    core_exceptions.ResourceExhausted,
    core_exceptions.ServerError,
    core_exceptions.ServiceUnavailable,
    core_exceptions.DeadlineExceeded,
    core_exceptions.InternalServerError,
    core_exceptions.BadGateway,
    core_exceptions.GatewayTimeout,
    core_exceptions.Aborted,
)


def _transport_error_types() -> tuple[type[BaseException], ...]:
    """Connection failures and timeouts of the REST transport (requests) and of the standard library."""
    import requests

    return (requests.exceptions.ConnectionError, requests.exceptions.Timeout, TimeoutError, ConnectionError)


TRANSPORT_ERRORS = _transport_error_types()


def is_retryable(error: BaseException) -> bool:
    """429, 5xx, UNAVAILABLE, DEADLINE_EXCEEDED and connection failures are retried; other 4xx are not."""
    return isinstance(error, _RETRYABLE_API_ERRORS + TRANSPORT_ERRORS)


def to_app_error(error: BaseException, operation: str) -> AppError:
    """The typed error to raise for a client exception that is final (not retryable, or retries exhausted)."""
    if isinstance(error, AppError):
        return error
    detail = f"{operation}: {type(error).__name__}: {str(error)[:300]}"
    if isinstance(error, core_exceptions.TooManyRequests | core_exceptions.ResourceExhausted):
        return MapsQuotaExceeded(f"Maps quota exceeded ({detail})", retry_after_seconds=30)
    if is_retryable(error):
        return MapsUnavailable(f"Maps unavailable ({detail})")
    if isinstance(error, core_exceptions.NotFound):
        return MapsPlaceNotFound(f"not found ({detail})")
    if isinstance(error, core_exceptions.GoogleAPICallError):
        return MapsRequestRejected(f"Maps refused the request ({detail})")
    return MapsRequestRejected(f"unexpected Maps client failure ({detail})")
