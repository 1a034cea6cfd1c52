"""Firebase App Check: the functions an app calls accept only requests that carry a valid App Check token.

An app sends its token in the ``X-Firebase-AppCheck`` header; ``firebase_admin.app_check.verify_token`` checks it
(firebase-admin 7.7.0, pinned in requirements.txt):

- the header says ``typ: JWT`` and ``alg: RS256``, and the signature is by a key of the App Check JWKS
  (``https://firebaseappcheck.googleapis.com/v1/jwks``, cached 6 hours; an unknown ``kid`` refetches it);
- ``exp`` is in the future (PyJWT, no leeway);
- ``aud`` is a *list* holding ``projects/<project id>``, the project id being the Firebase project
  (``FIREBASE_PROJECT_ID``, else ``GOOGLE_CLOUD_PROJECT``). Real tokens carry
  ``["projects/<project number>", "projects/<project id>"]``; the project number is not checked;
- ``iss`` starts with ``https://firebaseappcheck.googleapis.com/`` (real tokens end with the project number, which
  is not checked either); ``sub`` (the app id) is a string.

With ``consume=True`` it then posts the token to the App Check API's ``verifyAppCheckToken``, which marks it
consumed and answers whether it already was: replay protection for limited-use tokens (``getLimitedUseToken()`` in
the client SDKs). ``plan_trip`` asks for it, so each of its calls needs a fresh limited-use token.

``APP_CHECK_API_ENDPOINT`` (tests and emulators; refused in production) points both the JWKS and
``verifyAppCheckToken`` at a stand-in of the API. firebase-admin builds its JWKS client from the class attribute
``_AppCheckService._JWKS_URL`` when the app's App Check service is first created, and the consume call from
``_VERIFY_URL_FORMAT``; neither is an option. So, only when that setting is given, this module gives its own
firebase-admin app a subclass of that service with both URLs replaced, registered before any verification. Nothing
is patched: without the setting, the stock service talks to Google. ``tests/unit/common/test_app_check.py`` pins the
internals this relies on, so an upgrade of firebase-admin that changes them fails the tests instead of silently
calling Google.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from common.foundation.config import Settings, get_settings
from common.foundation.errors import AppCheckFailed, UpstreamUnavailable
from common.foundation.log import get_logger

if TYPE_CHECKING:
    import firebase_admin

APP_CHECK_HEADER = "X-Firebase-AppCheck"
MAX_TOKEN_CHARS = 4096
JWKS_PATH = "/v1/jwks"
VERIFY_PATH_FORMAT = "/v1beta/projects/{project_id}:verifyAppCheckToken"
# The consume call (verifyAppCheckToken) is small: do not let a hung App Check API hold plan_trip for firebase-admin's
# default 120 s per attempt.
HTTP_TIMEOUT_SECONDS = 10

logger = get_logger(__name__)


@dataclass(frozen=True)
class AppAttestation:
    """What a verified App Check token says: which Firebase app sent the request, and whether it was consumed."""

    app_id: str
    consumed: bool


def app_check_token(header: str | None) -> str:
    """The token of an ``X-Firebase-AppCheck`` header: a compact JWS (three dot-separated parts), nothing else."""
    token = (header or "").strip()
    if not token:
        raise AppCheckFailed(details=[f"the {APP_CHECK_HEADER} header is missing"])
    if len(token) > MAX_TOKEN_CHARS or token.count(".") != 2 or any(char.isspace() for char in token):
        raise AppCheckFailed(details=["the App Check token is malformed"])
    return token


def refusal_detail(message: str) -> str:
    """A short, safe reason for a token firebase-admin refused (its messages can quote the token's claims)."""
    text = message.lower()
    if "expired" in text:
        return "the App Check token has expired"
    if '"aud"' in text or "audience" in text:
        return "the App Check token is not for this project (audience)"
    if '"iss"' in text or "issuer" in text:
        return "the App Check token was not issued by Firebase App Check (issuer)"
    if "signature" in text or "signing key" in text:
        return "the App Check token's signature does not verify"
    return "the App Check token is not valid"


def _anonymous_credential() -> Any:
    """A firebase-admin credential sending no authorization (for a stand-in of the API only)."""
    from firebase_admin import credentials
    from google.auth.credentials import AnonymousCredentials

    class Anonymous(credentials.Base):  # type: ignore[misc]
        def get_credential(self) -> AnonymousCredentials:
            return AnonymousCredentials()  # type: ignore[no-untyped-call]

    return Anonymous()


def _service_class(endpoint: str) -> type[Any]:
    """firebase-admin's App Check service with its JWKS and verifyAppCheckToken URLs on ``endpoint``."""
    from firebase_admin import app_check

    base = endpoint.rstrip("/")

    class EndpointAppCheckService(app_check._AppCheckService):  # type: ignore[misc]
        _JWKS_URL = base + JWKS_PATH
        _VERIFY_URL_FORMAT = base + VERIFY_PATH_FORMAT

    return EndpointAppCheckService


def build_app(settings: Settings) -> firebase_admin.App:
    """The firebase-admin app that verifies App Check tokens for ``settings`` (one per project and endpoint)."""
    import firebase_admin
    from firebase_admin import app_check

    project = settings.firebase_project_id or settings.google_cloud_project
    endpoint = settings.app_check_api_endpoint
    name = f"trip-planner-app-check-{project}" + (f"-{endpoint}" if endpoint else "")
    try:
        app = firebase_admin.get_app(name)
    except ValueError:
        credential = _anonymous_credential() if endpoint else None
        options = {"projectId": project, "httpTimeout": HTTP_TIMEOUT_SECONDS}
        app = firebase_admin.initialize_app(credential, options=options, name=name)
    if endpoint:
        service_class = _service_class(endpoint)
        service = app._get_service(app_check._APP_CHECK_ATTRIBUTE, service_class)
        if service._JWKS_URL != service_class._JWKS_URL:  # another service got there first: never call Google
            raise RuntimeError("the App Check service of this app does not use APP_CHECK_API_ENDPOINT")
    return app


_apps: dict[tuple[str, str | None], firebase_admin.App] = {}
_apps_lock = threading.Lock()


def app_for(settings: Settings) -> firebase_admin.App:
    """``build_app``, once per process for each project and endpoint."""
    key = (settings.firebase_project_id or settings.google_cloud_project, settings.app_check_api_endpoint)
    with _apps_lock:
        if key not in _apps:
            _apps[key] = build_app(settings)
        return _apps[key]


def verify_app_check(
    header: str | None, settings: Settings | None = None, *, consume: bool = False
) -> AppAttestation | None:
    """Check the request's App Check token when App Check is enforced; ``None`` when it is not.

    ``consume``: this function wants replay protection; the token is consumed when
    ``APP_CHECK_REPLAY_PROTECTION`` is on (the default), and a token already consumed is refused.
    Refusals are ``AppCheckFailed`` (401, ``app_check_failed``); the keys or the API being unreachable is a 503.
    """
    settings = settings or get_settings()
    if not settings.app_check_enforced:
        return None
    from firebase_admin import app_check, exceptions
    from jwt import PyJWKClientConnectionError, PyJWKClientError, PyJWKSetError

    token = app_check_token(header)
    consume = consume and settings.app_check_replay_protection
    try:
        claims = app_check.verify_token(token, app=app_for(settings), consume=consume)
    except ValueError as error:
        raise AppCheckFailed(details=[refusal_detail(str(error))]) from None
    except (PyJWKClientConnectionError, PyJWKSetError):
        logger.exception("cannot fetch the App Check signing keys")
        raise UpstreamUnavailable("cannot fetch the App Check signing keys") from None
    except PyJWKClientError as error:
        if "unable to find a signing key" in str(error).lower():
            raise AppCheckFailed(details=["the App Check token's signing key is unknown"]) from None
        logger.exception("the App Check signing keys are unusable")
        raise UpstreamUnavailable("cannot fetch the App Check signing keys") from None
    except exceptions.PermissionDeniedError:
        # verifyAppCheckToken answers 403 for a token it finds invalid; also when this service account lacks
        # roles/firebaseappcheck.tokenVerifier, hence the error log line.
        logger.exception("verifyAppCheckToken refused the token (403)")
        raise AppCheckFailed(details=["the App Check service refused the token"]) from None
    except exceptions.InvalidArgumentError:
        logger.exception("verifyAppCheckToken refused the token (400)")
        raise AppCheckFailed(
            details=["the App Check token cannot be consumed: send a limited-use token from a supported provider"]
        ) from None
    except exceptions.FirebaseError:
        logger.exception("the App Check API failed")
        raise UpstreamUnavailable("the App Check service is unavailable") from None
    if consume and claims.get("already_consumed"):
        raise AppCheckFailed(details=["the App Check token was already used: send a new limited-use token"])
    app_id = claims.get("app_id") or claims.get("sub")
    return AppAttestation(app_id=str(app_id), consumed=consume)
