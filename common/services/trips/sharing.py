"""Sharing a trip with other users (viewer or editor), by uid or e-mail; only the owner shares.

The role map ``shared_with`` and the queryable list ``shared_with_uids`` are written together, in a transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

from common.foundation.errors import Conflict, InvalidRequest, NotFound
from common.services.trips import access, store
from common.services.trips.models import Trip
from common.services.trips.users import UserDirectory

if TYPE_CHECKING:
    from google.cloud import firestore

MAX_SHARES = 50
_UID = r"^[A-Za-z0-9_\-]{1,128}$"

Uid = Annotated[str, StringConstraints(pattern=_UID)]
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
]
ShareRole = Literal["viewer", "editor"]


class ShareRequest(BaseModel):
    """Share a trip with a user named by ``uid`` or by ``email`` (exactly one)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    uid: Uid | None = None
    email: Email | None = None
    role: ShareRole

    @model_validator(mode="after")
    def _one_user(self) -> ShareRequest:
        if (self.uid is None) == (self.email is None):
            raise ValueError("give exactly one of uid and email")
        return self


class ShareList(BaseModel):
    trip_id: str
    shared_with: dict[str, ShareRole]


def current_shares(trip: Trip) -> dict[str, ShareRole]:
    """The shares that count: in both the role map and the uid list (see ``access.role_of``)."""
    uids = set(trip.shared_with_uids)
    return {uid: role for uid, role in trip.shared_with.items() if uid in uids and role in access.SHARE_ROLES}


def _write_shares(
    client: firestore.Client,
    trip_id: str,
    owner: str,
    now: dt.datetime,
    change: Callable[[dict[str, ShareRole]], None],
) -> dict[str, ShareRole]:
    """Apply ``change`` to the trip's shares in a transaction; keep ``shared_with`` and ``shared_with_uids`` in step."""

    def update(current: Trip | None) -> tuple[Trip, list[str]]:
        access.authorize(current, owner, "share")
        assert current is not None
        shares = current_shares(current)
        change(shares)
        updated = current.model_copy(
            update={"shared_with": shares, "shared_with_uids": sorted(shares), "updated_at": now}
        )
        return updated, ["shared_with", "shared_with_uids", "updated_at"]

    return dict(store.update_trip(client, trip_id, update).shared_with)


def share_trip(
    client: firestore.Client, users: UserDirectory, trip_id: str, owner: str, body: ShareRequest, now: dt.datetime
) -> ShareList:
    if body.uid is not None:
        uid: str | None = body.uid if users.exists(body.uid) else None
    else:
        assert body.email is not None
        uid = users.uid_for_email(str(body.email))
    if uid is None:
        raise NotFound("no such user", details=[{"field": "email" if body.email else "uid", "message": "no account"}])
    if uid == owner:
        raise InvalidRequest(
            "the owner cannot share a trip with themselves", details=[{"field": "uid", "message": "is you"}]
        )
    shared_uid = uid

    def add(shares: dict[str, ShareRole]) -> None:
        if shared_uid not in shares and len(shares) >= MAX_SHARES:
            raise Conflict(f"a trip can be shared with at most {MAX_SHARES} people")
        shares[shared_uid] = body.role

    return ShareList(trip_id=trip_id, shared_with=_write_shares(client, trip_id, owner, now, add))


def unshare_trip(client: firestore.Client, trip_id: str, owner: str, uid: str, now: dt.datetime) -> None:
    def remove(shares: dict[str, ShareRole]) -> None:
        shares.pop(uid, None)

    _write_shares(client, trip_id, owner, now, remove)
