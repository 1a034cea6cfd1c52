"""The user directory: accounts looked up in Firebase Authentication (to share a trip by uid or e-mail)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from common.foundation.errors import UpstreamUnavailable


class UserDirectory(Protocol):
    """Looks users up in Firebase Authentication."""

    def uid_for_email(self, email: str) -> str | None: ...

    def exists(self, uid: str) -> bool: ...


class FirebaseUsers:
    """``UserDirectory`` on firebase-admin (the app of ``common.foundation.auth``)."""

    def _call(self, lookup: Callable[[Any], Any]) -> Any:
        from firebase_admin import auth, exceptions

        from common.foundation.auth import firebase_app

        try:
            return lookup(firebase_app.get())
        except auth.UserNotFoundError:
            return None
        except (exceptions.UnavailableError, exceptions.DeadlineExceededError):
            raise UpstreamUnavailable("Firebase Authentication is unavailable") from None

    def uid_for_email(self, email: str) -> str | None:
        from firebase_admin import auth

        user = self._call(lambda app: auth.get_user_by_email(email, app=app))
        return str(user.uid) if user is not None else None

    def exists(self, uid: str) -> bool:
        from firebase_admin import auth

        return self._call(lambda app: auth.get_user(uid, app=app)) is not None
