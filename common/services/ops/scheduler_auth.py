"""Authentication of Cloud Scheduler calls to the scheduled jobs (cleanup_sessions, backup_export).

The scheduler job sends ``Authorization: Bearer <Google-signed OIDC ID token>`` of its service account, with the
function's URL as audience. We verify the signature and expiry against Google's certificates
(``google.oauth2.id_token.verify_oauth2_token``), the audience (``SCHEDULER_AUDIENCE``), and that the token names a
verified email listed in ``SCHEDULER_SERVICE_ACCOUNTS``. (Deployments also keep the functions private, so Cloud Run
IAM checks the same token first; this check keeps them safe if that is ever loosened.)

Local stack and tests: ``SCHEDULER_AUTH_BYPASS=true`` accepts calls without a token, but only when
``ENVIRONMENT`` is not ``production`` (configuration refuses the flag in production, and this module re-checks).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from common.foundation.auth import bearer_token
from common.foundation.config import Settings
from common.foundation.errors import ConfigError, PermissionDenied, Unauthenticated, UpstreamUnavailable
from common.foundation.log import get_logger

logger = get_logger(__name__)

TokenVerifier = Callable[[str, str], Mapping[str, Any]]
"""``(token, audience) -> claims``; raises ``ValueError`` for a bad token."""

GOOGLE_ISSUERS = {"accounts.google.com", "https://accounts.google.com"}


@dataclass(frozen=True)
class SchedulerCaller:
    email: str
    bypassed: bool = False


def google_oidc_verifier(token: str, audience: str) -> Mapping[str, Any]:
    """Verify a Google-signed ID token (certificates fetched from Google and cached by google-auth)."""
    import google.auth.transport.requests
    from google.oauth2 import id_token

    request = google.auth.transport.requests.Request()
    claims: Mapping[str, Any] = id_token.verify_oauth2_token(  # type: ignore[no-untyped-call]
        token, request, audience=audience, clock_skew_in_seconds=10
    )
    return claims


def verify_scheduler(
    authorization: str | None, settings: Settings, verifier: TokenVerifier = google_oidc_verifier
) -> SchedulerCaller:
    """The calling service account, or ``Unauthenticated`` / ``PermissionDenied``."""
    if settings.scheduler_auth_bypass and not settings.is_production:
        logger.warning("scheduler authentication bypassed (SCHEDULER_AUTH_BYPASS outside production)")
        return SchedulerCaller(email="local-bypass", bypassed=True)
    if not settings.scheduler_audience or not settings.scheduler_service_accounts:
        raise ConfigError("SCHEDULER_AUDIENCE and SCHEDULER_SERVICE_ACCOUNTS must be set to accept scheduler calls")
    token = bearer_token(authorization)  # a JWT, like Firebase ID tokens: same "missing / malformed" errors
    try:
        claims = verifier(token, settings.scheduler_audience)
    except ValueError as exc:
        raise Unauthenticated("the scheduler's OIDC token was refused", details=[str(exc)[:200]]) from None
    except Exception as exc:
        from google.auth import exceptions as auth_exceptions

        if isinstance(exc, auth_exceptions.TransportError):
            raise UpstreamUnavailable("cannot fetch Google's token certificates") from None
        if isinstance(exc, auth_exceptions.GoogleAuthError):
            raise Unauthenticated("the scheduler's OIDC token was refused", details=[str(exc)[:200]]) from None
        raise
    if claims.get("iss") not in GOOGLE_ISSUERS:
        raise Unauthenticated("the token was not issued by Google")
    email = claims.get("email")
    if not isinstance(email, str) or claims.get("email_verified") is not True:
        raise Unauthenticated("the token carries no verified service account email")
    allowed = {item.lower() for item in settings.scheduler_service_accounts}
    if email.lower() not in allowed:
        raise PermissionDenied(f"{email} may not run scheduled jobs")
    return SchedulerCaller(email=email)
