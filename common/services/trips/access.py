"""Who may do what with a trip: the owner, the people it is shared with (viewer or editor), and nobody else.

A trip the caller may not see answers exactly like a trip that does not exist (404); a trip they may see but not
change answers 403. These decisions are pure; the trips API applies them on every route before reading a body.
"""

from __future__ import annotations

from typing import Literal

from common.foundation.errors import NotFound, PermissionDenied
from common.services.trips.models import Trip

Role = Literal["owner", "editor", "viewer"]
ShareRole = Literal["viewer", "editor"]
Action = Literal["read", "edit", "replan", "share", "delete"]

SHARE_ROLES: frozenset[str] = frozenset({"viewer", "editor"})
ALLOWED: dict[Action, frozenset[Role]] = {
    "read": frozenset({"owner", "editor", "viewer"}),
    "edit": frozenset({"owner", "editor"}),
    "replan": frozenset({"owner", "editor"}),
    "share": frozenset({"owner"}),
    "delete": frozenset({"owner"}),
}
NOT_FOUND_MESSAGE = "no such trip"


def role_of(trip: Trip, uid: str) -> Role | None:
    """The caller's role on a stored trip, or ``None`` when it is not theirs and not shared with them.

    A share counts only when the uid is in both ``shared_with`` and ``shared_with_uids`` (the list is what the
    Firestore rules and the listing query see; the map holds the role).
    """
    if not uid:
        return None
    if trip.user_id == uid:
        return "owner"
    role = trip.shared_with.get(uid)
    if role in SHARE_ROLES and uid in trip.shared_with_uids:
        return "editor" if role == "editor" else "viewer"
    return None


def authorize(trip: Trip | None, uid: str, action: Action) -> Role:
    """The caller's role when they may perform ``action``; ``NotFound`` if they may not see the trip (or it does
    not exist), ``PermissionDenied`` if they may see it but not do this."""
    role = role_of(trip, uid) if trip is not None else None
    if role is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    if role not in ALLOWED[action]:
        raise PermissionDenied(f"a trip {role} may not {action} this trip", details=[{"role": role}])
    return role
