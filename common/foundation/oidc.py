"""Google-signed OIDC tokens of service accounts calling our private functions (Cloud Tasks, Cloud Scheduler).

The caller sends ``Authorization: Bearer <Google-signed OIDC ID token>`` of its service account, with the function's
URL as audience. We verify the signature and expiry against Google's certificates
(``google.oauth2.id_token.verify_oauth2_token``), the audience, the issuer, and that the token names a verified email
among the allowed ones. The one home of these checks for every service-to-service caller (the planning worker's
task queue, the scheduler's jobs in ``common.services.ops.scheduler_auth``); deployments also keep these functions
private, so Cloud Run IAM checks the token first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from common.foundation.auth import bearer_token
from common.foundation.errors import ConfigError, PermissionDenied, Unauthenticated, UpstreamUnavailable

TokenVerifier = Callable[[str, str], Mapping[str, Any]]
"""``(token, audience) -> claims``; raises ``ValueError`` for a bad token."""

GOOGLE_ISSUERS = {"accounts.google.com", "https://accounts.google.com"}


def google_oidc_verifier(token: str, audience: str) -> Mapping[str, Any]:
    """Verify a Google-signed ID token (certificates fetched from Google and cached by google-auth)."""
    import google.auth.transport.requests
    from google.oauth2 import id_token

    request = google.auth.transport.requests.Request()
    claims: Mapping[str, Any] = id_token.verify_oauth2_token(  # type: ignore[no-untyped-call]
        token, request, audience=audience, clock_skew_in_seconds=10
    )
    return claims


def verify_service_caller(
    authorization: str | None,
    *,
    audience: str | None,
    allowed_emails: Iterable[str],
    who: str,
    verifier: TokenVerifier = google_oidc_verifier,
) -> str:
    """The calling service account's email, or ``Unauthenticated`` / ``PermissionDenied`` (``who`` names the
    caller in messages, e.g. "the task queue")."""
    allowed = {email.lower() for email in allowed_emails if email}
    if not audience or not allowed:
        raise ConfigError(f"an audience and the allowed service accounts must be set to accept calls from {who}")
    token = bearer_token(authorization)
    try:
        claims = verifier(token, audience)
    except ValueError as exc:
        raise Unauthenticated(f"the OIDC token of {who} was refused", details=[str(exc)[:200]]) from None
    except Exception as exc:
        from google.auth import exceptions as auth_exceptions

        if isinstance(exc, auth_exceptions.TransportError):
            raise UpstreamUnavailable("cannot fetch Google's token certificates") from None
        if isinstance(exc, auth_exceptions.GoogleAuthError):
            raise Unauthenticated(f"the OIDC token of {who} was refused", details=[str(exc)[:200]]) from None
        raise
    if claims.get("iss") not in GOOGLE_ISSUERS:
        raise Unauthenticated("the token was not issued by Google")
    email = claims.get("email")
    if not isinstance(email, str) or claims.get("email_verified") is not True:
        raise Unauthenticated("the token carries no verified service account email")
    if email.lower() not in allowed:
        raise PermissionDenied(f"{email} may not call this function")
    return email
