"""Routes of the ``trips`` HTTP function and the checks on the ids in its paths.

functions-framework hands every path to the one function, so the function routes on the path itself. Locally the
function answers at ``TRIPS_URL/trips/...``; deployed, at ``https://REGION-PROJECT.cloudfunctions.net/trips/...``.
Both forms work because one leading ``trips`` segment is optional: ``/trips/{id}`` and ``/{id}`` name the same
trip. (Generated trip ids are 20 lower-case letters and digits, so a trip is never itself called ``trips``.)

Routes (``n`` is the day number, 1 for the first day):

    GET    /trips                      the caller's trips and those shared with them
    GET    /trips/{id}                 one trip
    GET    /trips/{id}.ics             the trip as an iCalendar file
    PATCH  /trips/{id}                 edit title, notes, days (version required)
    DELETE /trips/{id}                 delete (owner only)
    POST   /trips/{id}/days/{n}/replan re-plan one day
    POST   /trips/{id}/share           share with a user (owner only)
    DELETE /trips/{id}/share/{uid}     stop sharing (owner only)
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from typing import Literal

from common.foundation.errors import InvalidRequest, NotFound

RouteKind = Literal["list", "trip", "ics", "replan", "share", "unshare"]
PREFIX = "trips"
MAX_DOCUMENT_ID_BYTES = 1500
MAX_UID_CHARS = 128  # Firebase Auth uids (as the OpenAPI document says)
MAX_PATH_CHARS = 8192
ICS_SUFFIX = ".ics"
_RESERVED_ID = re.compile(r"^__.*__$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DAY_NUMBER = re.compile(r"^[0-9]{1,3}$")

METHODS: dict[RouteKind, tuple[str, ...]] = {
    "list": ("GET",),
    "trip": ("GET", "PATCH", "DELETE"),
    "ics": ("GET",),
    "replan": ("POST",),
    "share": ("POST",),
    "unshare": ("DELETE",),
}


@dataclass(frozen=True)
class Route:
    kind: RouteKind
    trip_id: str | None = None
    day_number: int | None = None
    share_uid: str | None = None


def check_document_id(value: str, what: str) -> str:
    """``value`` when it can name a Firestore document; else ``InvalidRequest`` saying why."""
    problem = None
    if not value:
        problem = "must not be empty"
    elif "/" in value:
        problem = "must not contain '/'"
    elif value in (".", ".."):
        problem = "must not be '.' or '..'"
    elif _RESERVED_ID.match(value):
        problem = "must not start and end with '__'"
    elif _CONTROL.search(value):
        problem = "must not contain control characters"
    elif len(value.encode("utf-8")) > MAX_DOCUMENT_ID_BYTES:
        problem = f"must be at most {MAX_DOCUMENT_ID_BYTES} bytes"
    if problem:
        raise InvalidRequest(f"the {what} is not valid", details=[{"field": what, "message": problem}])
    return value


def split_path(raw_path: str) -> list[str]:
    """Path segments, each percent-decoded *after* splitting, so an encoded ``%2F`` stays inside its segment."""
    if len(raw_path) > MAX_PATH_CHARS:
        raise InvalidRequest("the path is too long", details=[{"field": "path", "message": "too long"}])
    path = raw_path.split("?", 1)[0]
    segments = path.split("/")
    if segments and segments[0] == "":
        segments = segments[1:]
    if segments and segments[-1] == "":
        segments = segments[:-1]
    decoded = []
    for segment in segments:
        try:
            decoded.append(urllib.parse.unquote(segment, errors="strict"))
        except UnicodeDecodeError:
            raise InvalidRequest("the path is not valid UTF-8") from None
    return decoded


def _no_route() -> NotFound:
    return NotFound("no such route", details=[{"routes": sorted({"/trips", "/trips/{id}", "/trips/{id}.ics"})}])


def match_route(segments: list[str]) -> Route:
    """The route a list of decoded path segments names (one leading ``trips`` segment is optional)."""
    if segments and segments[0] == PREFIX:
        segments = segments[1:]
    if not segments:
        return Route("list")
    trip_part, rest = segments[0], segments[1:]
    if not rest:
        if trip_part.endswith(ICS_SUFFIX) and len(trip_part) > len(ICS_SUFFIX):
            return Route("ics", trip_id=check_document_id(trip_part[: -len(ICS_SUFFIX)], "trip_id"))
        return Route("trip", trip_id=check_document_id(trip_part, "trip_id"))
    if rest == [".."] or any(segment in (".", "..") for segment in rest):
        raise InvalidRequest("the path must not contain '.' or '..' segments")
    trip_id = check_document_id(trip_part, "trip_id")
    if len(rest) == 3 and rest[0] == "days" and rest[2] == "replan":
        if not _DAY_NUMBER.match(rest[1]) or int(rest[1]) < 1:
            raise InvalidRequest(
                "the day number is not valid", details=[{"field": "day", "message": "must be 1 for the first day, 2.."}]
            )
        return Route("replan", trip_id=trip_id, day_number=int(rest[1]))
    if rest == ["share"]:
        return Route("share", trip_id=trip_id)
    if len(rest) == 2 and rest[0] == "share":
        uid = check_document_id(rest[1], "uid")
        if len(uid) > MAX_UID_CHARS:
            message = f"must be at most {MAX_UID_CHARS} characters"
            raise InvalidRequest("the uid is not valid", details=[{"field": "uid", "message": message}])
        return Route("unshare", trip_id=trip_id, share_uid=uid)
    raise _no_route()
