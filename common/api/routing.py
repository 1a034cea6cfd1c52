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
    GET    /trips/{id}/links           the trip's read-only share links (owner; editors if allowed)
    POST   /trips/{id}/links           create a share link (its token is shown once)
    DELETE /trips/{id}/links/{link_id} revoke a share link
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from common.foundation.errors import InvalidRequest, NotFound

RouteKind = Literal["list", "trip", "ics", "replan", "share", "unshare", "links", "link"]
PREFIX = "trips"
MAX_DOCUMENT_ID_BYTES = 1500
MAX_UID_CHARS = 128  # Firebase Auth uids (as the OpenAPI document says)
MAX_PATH_CHARS = 8192
ICS_SUFFIX = ".ics"
_RESERVED_ID = re.compile(r"^__.*__$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DAY_NUMBER = re.compile(r"^[0-9]{1,3}$")


@dataclass(frozen=True)
class RouteSpec:
    """A path pattern (segments after the optional ``trips``; ``{name}`` captures one segment, ``{name}.ics`` one
    segment with that suffix) and the methods it answers."""

    kind: RouteKind
    pattern: tuple[str, ...]
    methods: tuple[str, ...]


# The route table, in matching order (``{trip_id}.ics`` before ``{trip_id}``).
ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("list", (), ("GET",)),
    RouteSpec("ics", ("{trip_id}.ics",), ("GET",)),
    RouteSpec("trip", ("{trip_id}",), ("GET", "PATCH", "DELETE")),
    RouteSpec("replan", ("{trip_id}", "days", "{day_number}", "replan"), ("POST",)),
    RouteSpec("share", ("{trip_id}", "share"), ("POST",)),
    RouteSpec("unshare", ("{trip_id}", "share", "{share_uid}"), ("DELETE",)),
    RouteSpec("links", ("{trip_id}", "links"), ("GET", "POST")),
    RouteSpec("link", ("{trip_id}", "links", "{link_id}"), ("DELETE",)),
)
METHODS: dict[RouteKind, tuple[str, ...]] = {route.kind: route.methods for route in ROUTES}


@dataclass(frozen=True)
class Route:
    kind: RouteKind
    trip_id: str | None = None
    day_number: int | None = None
    share_uid: str | None = None
    link_id: str | None = None


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


def _day_number(text: str) -> int:
    if not _DAY_NUMBER.match(text) or int(text) < 1:
        raise InvalidRequest(
            "the day number is not valid", details=[{"field": "day", "message": "must be 1 for the first day, 2.."}]
        )
    return int(text)


def _share_uid(text: str) -> str:
    uid = check_document_id(text, "uid")
    if len(uid) > MAX_UID_CHARS:
        message = f"must be at most {MAX_UID_CHARS} characters"
        raise InvalidRequest("the uid is not valid", details=[{"field": "uid", "message": message}])
    return uid


_PARAMETERS: dict[str, Callable[[str], object]] = {
    "trip_id": lambda text: check_document_id(text, "trip_id"),
    "day_number": _day_number,
    "share_uid": _share_uid,
    "link_id": lambda text: check_document_id(text, "link_id"),
}


def _captures(pattern: tuple[str, ...], segments: list[str]) -> dict[str, str] | None:
    """The raw captures of ``segments`` against ``pattern`` (literal segments must match), or ``None``."""
    if len(pattern) != len(segments):
        return None
    captured: dict[str, str] = {}
    for part, segment in zip(pattern, segments, strict=True):
        if part.startswith("{"):
            name, _, suffix = part[1:].partition("}")
            if suffix and not (segment.endswith(suffix) and len(segment) > len(suffix)):
                return None
            captured[name] = segment[: len(segment) - len(suffix)] if suffix else segment
        elif part != segment:
            return None
    return captured


def match_route(segments: list[str]) -> Route:
    """The route of the table that a list of decoded path segments names (one leading ``trips`` segment is
    optional); the captured ids are checked (400 saying why), and no route is a 404."""
    if segments and segments[0] == PREFIX:
        segments = segments[1:]
    if len(segments) > 1 and any(segment in (".", "..") for segment in segments[1:]):
        raise InvalidRequest("the path must not contain '.' or '..' segments")
    for route in ROUTES:
        captured = _captures(route.pattern, segments)
        if captured is not None:
            values = {name: _PARAMETERS[name](text) for name, text in captured.items()}
            return Route(route.kind, **values)  # type: ignore[arg-type]
    raise _no_route()
