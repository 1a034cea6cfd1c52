"""The one exception hierarchy of the backend.

Every failure the code means to report is an ``AppError``: either ``RetryableError`` (trying again later may
succeed: upstream down, quota, timeouts) or ``PermanentError`` (the same input will fail again). HTTP adapters map
them to status codes and the JSON error envelope; event handlers re-raise only retryable ones so the platform
retries, and record permanent ones.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """Base of every error this backend raises on purpose."""

    http_status: int = 500
    code: str = "internal"
    retryable: bool = False
    default_message: str = "internal error"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: list[Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details: list[Any] = list(details or [])
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(self.message)


class PermanentError(AppError):
    """The same request will fail the same way: do not retry."""


class RetryableError(AppError):
    """A transient failure: the caller (or the event platform) may try again."""

    retryable = True
    http_status = 503
    code = "unavailable"
    default_message = "temporarily unavailable"


class ConfigError(PermanentError):
    code = "configuration"
    default_message = "invalid configuration"


class InvalidRequest(PermanentError):
    http_status = 400
    code = "invalid_request"
    default_message = "the request is not valid"


class Unauthenticated(PermanentError):
    http_status = 401
    code = "unauthenticated"
    default_message = "a valid Firebase ID token is required"


class AppCheckFailed(Unauthenticated):
    """The request carries no valid Firebase App Check token (``X-Firebase-AppCheck``): it may not come from our app."""

    code = "app_check_failed"
    default_message = "a valid Firebase App Check token is required in the X-Firebase-AppCheck header"


class PermissionDenied(PermanentError):
    http_status = 403
    code = "permission_denied"
    default_message = "you may not do this"


class NotFound(PermanentError):
    http_status = 404
    code = "not_found"
    default_message = "not found"


class MethodNotAllowed(PermanentError):
    http_status = 405
    code = "method_not_allowed"
    default_message = "method not allowed"


class Conflict(PermanentError):
    http_status = 409
    code = "conflict"
    default_message = "the resource changed; reload it and try again"


class PayloadTooLarge(PermanentError):
    http_status = 413
    code = "payload_too_large"
    default_message = "the request body is too large"


class UnsupportedMediaType(PermanentError):
    http_status = 415
    code = "unsupported_media_type"
    default_message = "the request body must be application/json"


class QuotaExceeded(RetryableError):
    """Too many requests: HTTP 429 with ``Retry-After``."""

    http_status = 429
    code = "quota_exceeded"
    default_message = "too many requests"

    def __init__(self, message: str | None = None, *, retry_after_seconds: int = 60, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after_seconds = max(1, int(retry_after_seconds))
        self.headers.setdefault("Retry-After", str(self.retry_after_seconds))


class UpstreamUnavailable(RetryableError):
    """A Google service (or its stand-in) failed after the retry budget was spent."""

    http_status = 503
    code = "upstream_unavailable"
    default_message = "an upstream service is unavailable; try again later"


class UpstreamError(PermanentError):
    """An upstream service refused the request for a reason retrying will not fix."""

    http_status = 502
    code = "upstream_error"
    default_message = "an upstream service refused the request"


class InternalError(PermanentError):
    http_status = 500
    code = "internal"
    default_message = "internal error"


def backing_service_unavailable(error: Exception) -> UpstreamUnavailable | None:
    """A Google client's transient failure that escaped its own retries (Firestore down or too slow past the
    client's retry deadline, or a transaction still aborted by contention after its last attempt) as a 503;
    ``None`` for anything else."""
    from google.api_core import exceptions as core_exceptions

    transient = (
        core_exceptions.RetryError,
        core_exceptions.ServiceUnavailable,
        core_exceptions.DeadlineExceeded,
        core_exceptions.Aborted,
    )
    # Also look along the chain: a Firestore transaction whose begin failed raises a ValueError ("no transaction ID")
    # from its rollback, with the UNAVAILABLE error as its context; one that ran out of attempts raises a ValueError
    # ("Failed to commit transaction in N attempts") from the last ABORTED.
    cause: BaseException | None = error
    for _ in range(5):
        if cause is None:
            break
        if isinstance(cause, transient):
            return UpstreamUnavailable("a backing service is unavailable; try again later")
        cause = cause.__cause__ or cause.__context__
    return None
