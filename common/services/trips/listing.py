"""``GET /trips``: the caller's trips and the trips shared with them, newest first, a bounded page at a time.

Pages are cut with ``where`` filters on the ordering fields (``created_at``, then ``id`` for trips created at the
same instant) rather than cursors or offsets: the Firestore stand-in ignores ``start_after``/``offset``, and the
filters are equivalent on real Firestore. The page token is opaque to clients: URL-safe base64 of the last trip's
``created_at`` and ``id``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from common.foundation.errors import InvalidRequest
from common.foundation.queries import build_query
from common.foundation.times import as_utc
from common.services.trips import store
from common.services.trips.access import Role, role_of
from common.services.trips.models import Trip, TripStatus

if TYPE_CHECKING:
    from google.cloud import firestore

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 50
MAX_TOKEN_CHARS = 512
STATUSES: tuple[str, ...] = ("queued", "planning", "ready", "failed")
LIST_PARAMETERS = frozenset({"page_size", "page_token", "status"})


@dataclass(frozen=True, order=True)
class PageCursor:
    """Where a page ended: the last trip's creation time and id (the listing is ordered by both, descending)."""

    created_at: dt.datetime
    trip_id: str


@dataclass(frozen=True)
class ListParams:
    page_size: int = DEFAULT_PAGE_SIZE
    status: str | None = None
    cursor: PageCursor | None = None


class TripSummary(BaseModel):
    """One trip in a listing (the whole trip is at ``GET /trips/{id}``)."""

    id: str
    title: str | None
    status: TripStatus
    role: Role
    destination: str | None = Field(description="The (first) city")
    cities: list[str] = Field(default_factory=list, description="Every city in the order travelled")
    start_date: dt.date
    end_date: dt.date
    day_count: int
    stop_count: int
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class TripList(BaseModel):
    trips: list[TripSummary]
    next_page_token: str | None


def encode_page_token(cursor: PageCursor) -> str:
    payload = json.dumps({"c": cursor.created_at.isoformat(), "i": cursor.trip_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _bad_token() -> InvalidRequest:
    return InvalidRequest(
        "the page token is not valid", details=[{"field": "page_token", "message": "use a token from a listing"}]
    )


def decode_page_token(token: str) -> PageCursor:
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise _bad_token()
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw.decode("utf-8"))
        created_at = dt.datetime.fromisoformat(data["c"])
        trip_id = data["i"]
    except (binascii.Error, ValueError, UnicodeDecodeError, KeyError, TypeError):
        raise _bad_token() from None
    if not isinstance(trip_id, str) or not trip_id or created_at.tzinfo is None:
        raise _bad_token()
    return PageCursor(created_at=created_at, trip_id=trip_id)


def parse_list_params(args: Mapping[str, str]) -> ListParams:
    """The listing's query parameters; every problem is listed, unknown parameters are refused."""
    problems: list[dict[str, str]] = []
    for name in sorted(set(args) - LIST_PARAMETERS):
        problems.append({"field": name, "message": "unknown parameter"})
    page_size = DEFAULT_PAGE_SIZE
    size_text = args.get("page_size")
    if size_text is not None:
        if not (size_text.isascii() and size_text.isdigit()) or not 1 <= int(size_text) <= MAX_PAGE_SIZE:
            problems.append({"field": "page_size", "message": f"must be a whole number from 1 to {MAX_PAGE_SIZE}"})
        else:
            page_size = int(size_text)
    status = args.get("status")
    if status is not None and status not in STATUSES:
        problems.append({"field": "status", "message": f"must be one of {', '.join(STATUSES)}"})
    cursor = None
    token = args.get("page_token")
    if token is not None:
        try:
            cursor = decode_page_token(token)
        except InvalidRequest as error:
            problems.extend(error.details)
    if problems:
        raise InvalidRequest("the listing parameters are not valid", details=problems)
    return ListParams(page_size=page_size, status=status, cursor=cursor)


def _created_at(value: Any) -> dt.datetime:
    created = as_utc(value) if isinstance(value, dt.datetime) else None
    if created is None:
        raise ValueError("created_at is not a timestamp")
    return created


def _sort_key(trip: Trip) -> tuple[dt.datetime, str]:
    return _created_at(trip.created_at), trip.id


def newest_page(
    trips: Iterable[Trip], page_size: int, cursor: PageCursor | None
) -> tuple[list[Trip], PageCursor | None]:
    """Pure: the page of ``trips`` after ``cursor`` (newest first, ties by id descending) and the next cursor."""
    unique = {trip.id: trip for trip in trips}
    ordered = sorted(unique.values(), key=_sort_key, reverse=True)
    if cursor is not None:
        ordered = [trip for trip in ordered if _sort_key(trip) < (cursor.created_at, cursor.trip_id)]
    page = ordered[:page_size]
    has_more = len(ordered) > page_size
    next_cursor = PageCursor(*_sort_key(page[-1])) if has_more and page else None
    return page, next_cursor


def _fetch(client: firestore.Client, uid: str, params: ListParams) -> list[Trip]:
    """At most ``page_size + 1`` of each kind of trip after the cursor; merged and cut by ``newest_page``."""
    limit = params.page_size + 1
    found: list[Trip] = []
    for kind, owner_values in (("owned", {"user_id": uid}), ("shared", {"shared_with_uids": uid})):
        name = f"{kind}_trips" + ("_by_status" if params.status else "")
        values: dict[str, Any] = {**owner_values, "status": params.status}
        queries = []
        if params.cursor is None:
            queries.append(build_query(client, name, values=values, limit=limit))
        else:
            same_time = {**values, "created_at": params.cursor.created_at, "id": params.cursor.trip_id}
            queries.append(build_query(client, f"{name}_same_time", values=same_time, range_op="<", limit=limit))
            before = {**values, "created_at": params.cursor.created_at}
            queries.append(build_query(client, f"{name}_before", values=before, range_op="<", limit=limit))
        for query in queries:
            found.extend(store.from_document(snapshot.to_dict() or {}) for snapshot in query.stream())
    return found


def summary(trip: Trip, role: Role) -> dict[str, Any]:
    return TripSummary(
        id=trip.id,
        title=trip.title,
        status=trip.status,
        role=role,
        destination=trip.destination.name if trip.destination else trip.request.first_city,
        cities=[city.name for city in trip.cities] or [stay.destination for stay in trip.request.stays],
        start_date=trip.start_date,
        end_date=trip.end_date,
        day_count=len(trip.days),
        stop_count=sum(len(day.stops) for day in trip.days),
        version=trip.version,
        created_at=trip.created_at,
        updated_at=trip.updated_at,
    ).model_dump(mode="json")


def list_trips(client: firestore.Client, uid: str, params: ListParams) -> dict[str, Any]:
    """The caller's page of trips as ``TripList``."""
    page, next_cursor = newest_page(_fetch(client, uid, params), params.page_size, params.cursor)
    trips = []
    for trip in page:
        role = role_of(trip, uid)
        if role is not None:
            trips.append(summary(trip, role))
    return {"trips": trips, "next_page_token": encode_page_token(next_cursor) if next_cursor else None}
