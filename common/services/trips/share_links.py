"""Read-only share links of a trip: ``POST /trips/{id}/links`` creates one, ``GET`` lists them, ``DELETE
/trips/{id}/links/{link_id}`` revokes one; ``trip_page`` shows the trip to whoever holds a link's token.

A token is 32 URL-safe characters from ``secrets`` (192 random bits). Only its SHA-256 digest is stored, as the
link's document id, like an API token: the token is shown once, in the answer that creates the link, and a copy of
the database (a backup, a user's export, a reader of ``share_links``) holds no working link. A salted or slow hash is
not needed: nobody can try 2**192 tokens. Looking a token up is one document read by id, the same for a token that
never existed, one revoked (its document is deleted: revocation is immediate) and one expired.

Who may create, list and revoke links: the owner, and editors when the owner set ``link_sharing: "editors"`` (only
the owner can set it, with ``PATCH /trips/{id}``). Viewers never. A link may expire (at most ``SHARE_LINK_MAX_DAYS``
ahead); an expired link's ``expire_at`` lets the TTL policy and ``cleanup_sessions`` delete it later, but it stops
working at ``expires_at`` whatever is left of it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from common.foundation.config import Settings
from common.foundation.errors import Conflict, InvalidRequest, NotFound, PermissionDenied
from common.foundation.times import as_utc
from common.services.trips import access, store
from common.services.trips.models import ShareLink, Trip

if TYPE_CHECKING:
    from google.cloud import firestore

MAX_LINKS_PER_TRIP = 20
TOKEN_BYTES = 24  # 32 characters of base64url
_LINK_ID = re.compile(r"^[0-9a-f]{64}$")


class LinkRequest(BaseModel):
    """Create a read-only link; without ``expires_in_days`` it works until revoked (or the trip is deleted)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    expires_in_days: int | None = Field(None, ge=1, strict=True, description="Days until the link stops working")


class CreatedLink(BaseModel):
    """A new link. ``token`` and ``url`` are shown this once: only a digest of the token is kept."""

    link: ShareLink
    token: str = Field(description="The secret part of the link (shown only now)")
    url: str = Field(description="The page anyone with the link can open, without signing in")


class LinkList(BaseModel):
    trip_id: str
    link_sharing: str = Field(description="Who may create links: owner, or editors too")
    links: list[ShareLink]


def token_digest(token: str) -> str:
    """The stored id of the link a token opens (hex SHA-256)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def page_url(settings: Settings, token: str) -> str:
    """Where a link's page answers: ``TRIP_PAGE_URL/t/{token}``, else the path ``/t/{token}``."""
    base = (settings.trip_page_url or "").rstrip("/")
    return f"{base}/t/{token}"


def check_link_id(value: str) -> str:
    if not _LINK_ID.match(value):
        details = [{"field": "link_id", "message": "must be a link id as listed (64 hexadecimal digits)"}]
        raise InvalidRequest("the link id is not valid", details=details)
    return value


def authorize_links(trip: Trip | None, uid: str) -> Trip:
    """The trip when the caller may create, list and revoke its links: the owner, or an editor when the owner allows
    it; 404 for those who may not see the trip, 403 for viewers and (unless allowed) editors."""
    role = access.authorize(trip, uid, "read")
    assert trip is not None
    if role == "owner" or (role == "editor" and trip.link_sharing == "editors"):
        return trip
    reason = "only the owner" if trip.link_sharing == "owner" else "only the owner and editors"
    raise PermissionDenied(f"{reason} may manage this trip's share links", details=[{"role": role}])


def expiry(settings: Settings, request: LinkRequest, now: dt.datetime) -> dt.datetime | None:
    if request.expires_in_days is None:
        return None
    if request.expires_in_days > settings.share_link_max_days:
        message = f"must be at most {settings.share_link_max_days}"
        raise InvalidRequest(
            "the link request is not valid", details=[{"field": "expires_in_days", "message": message}]
        )
    return now + dt.timedelta(days=request.expires_in_days)


def create_link(
    client: firestore.Client, settings: Settings, trip: Trip, uid: str, request: LinkRequest, now: dt.datetime
) -> CreatedLink:
    """A new link to ``trip`` (already authorized with ``authorize_links``) and its token, shown this once."""
    expires_at = expiry(settings, request, now)
    token = new_token()
    link = ShareLink(
        id=token_digest(token),
        trip_id=trip.id,
        created_by=uid,
        created_at=now,
        expires_at=expires_at,
    )
    if not store.create_link(client, link, MAX_LINKS_PER_TRIP):
        raise Conflict(f"a trip can have at most {MAX_LINKS_PER_TRIP} share links; revoke one first")
    return CreatedLink(link=link, token=token, url=page_url(settings, token))


def list_links(client: firestore.Client, trip: Trip) -> LinkList:
    return LinkList(
        trip_id=trip.id, link_sharing=trip.link_sharing, links=store.links_of_trip(client, trip.id, MAX_LINKS_PER_TRIP)
    )


def revoke_link(client: firestore.Client, trip: Trip, link_id: str) -> None:
    """Delete the link; a link of another trip (or none) is a 404, as if it did not exist."""
    link = store.read_link(client, check_link_id(link_id))
    if link is None or link.trip_id != trip.id:
        raise NotFound("no such share link")
    store.delete_link(client, link_id)


def is_live(link: ShareLink | None, now: dt.datetime) -> bool:
    """Whether a stored link still opens its trip."""
    if link is None:
        return False
    expires_at = as_utc(link.expires_at)
    return expires_at is None or now < expires_at


def open_link(client: firestore.Client, token: str, now: dt.datetime) -> Trip | None:
    """The trip a token opens, or ``None`` for a token that is unknown, revoked or expired, or whose trip is gone
    (one link read by the token's digest in every case, then the trip's read for a live link)."""
    link = store.read_link(client, token_digest(token))
    if not is_live(link, now):
        return None
    assert link is not None
    return store.read_trip(client, link.trip_id)
