"""Firebase Authentication: the caller's identity comes from a verified ID token, never from the body."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from common.foundation.clients import Lazy
from common.foundation.config import get_settings
from common.foundation.errors import Unauthenticated, UpstreamUnavailable

if TYPE_CHECKING:
    import firebase_admin

MAX_TOKEN_CHARS = 4096
CLOCK_SKEW_SECONDS = 30


@dataclass(frozen=True)
class Caller:
    uid: str
    email: str | None = None


def _build_app() -> firebase_admin.App:
    import firebase_admin

    settings = get_settings()
    project = settings.firebase_project_id or settings.google_cloud_project
    name = f"trip-planner-{project}"
    try:
        return firebase_admin.get_app(name)
    except ValueError:
        return firebase_admin.initialize_app(options={"projectId": project}, name=name)


firebase_app: Lazy[firebase_admin.App] = Lazy(_build_app)


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header."""
    if not authorization:
        raise Unauthenticated(details=["the Authorization header is missing"])
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated(details=["the Authorization header must be 'Bearer <Firebase ID token>'"])
    if len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
        raise Unauthenticated(details=["the token is malformed"])
    return token


def verify_caller(authorization: str | None, *, app: Any = None, check_revoked: bool | None = None) -> Caller:
    """Verify a Firebase ID token (signature, expiry, audience = this project, revocation when configured)."""
    from firebase_admin import auth, exceptions

    token = bearer_token(authorization)
    if check_revoked is None:
        check_revoked = get_settings().check_token_revocation
    try:
        claims = auth.verify_id_token(token, app=app or firebase_app.get(), check_revoked=check_revoked)
    except auth.RevokedIdTokenError:
        raise Unauthenticated(details=["the token has been revoked"]) from None
    except auth.UserDisabledError:
        raise Unauthenticated(details=["the account is disabled"]) from None
    except auth.ExpiredIdTokenError:
        raise Unauthenticated(details=["the token has expired"]) from None
    except auth.UserNotFoundError:
        raise Unauthenticated(details=["the account no longer exists"]) from None
    except auth.CertificateFetchError:
        raise UpstreamUnavailable("cannot fetch the token signing keys") from None
    except (exceptions.UnavailableError, exceptions.DeadlineExceededError):
        raise UpstreamUnavailable("Firebase Authentication is unavailable") from None
    except (auth.InvalidIdTokenError, ValueError):
        raise Unauthenticated(details=["the token is not a valid Firebase ID token for this project"]) from None
    # The Auth emulator path of firebase-admin skips the expiry check that real tokens get; apply it everywhere.
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or expires < time.time() - CLOCK_SKEW_SECONDS:
        raise Unauthenticated(details=["the token has expired"])
    uid = claims.get("uid") or claims.get("sub")
    if not isinstance(uid, str) or not uid:
        raise Unauthenticated(details=["the token names no user"])
    email = claims.get("email")
    return Caller(uid=uid, email=email if isinstance(email, str) else None)
