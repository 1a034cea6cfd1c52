"""``PATCH /trips/{id}``: the edit an app sends, its validation, and the trip fields it produces.

``days`` replaces the stops of each day it names (other days are untouched): stops are given by place id or by name;
a stop moved from another day keeps what was known about it; times come in pairs (``arrive`` and ``depart``, both
``HH:MM``) or not at all, in which case the stop is timed automatically (provisionally here, from real travel times
by the ``enrich_places`` trigger). Optimistic concurrency: the edit names the version it was made from.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from common.domain.maps.names import casefolded
from common.foundation.config import Settings
from common.foundation.errors import Conflict, InvalidRequest
from common.foundation.times import LAST_MINUTE_OF_DAY, clock_minutes, clock_text
from common.services.trips import access, day_inputs, store
from common.services.trips.models import (
    CalendarDate,
    Day,
    EnrichmentReport,
    LinkSharing,
    Money,
    PlaceName,
    Stop,
    Trip,
    _clean_text,
    _problems_from,
)

if TYPE_CHECKING:
    from google.cloud import firestore

MAX_TITLE = 120
MAX_NOTES = 2000
DAY_START_MINUTE = 9 * 60
PROVISIONAL_TRAVEL_MIN = 15
DEFAULT_VISIT_MIN = 60
_CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
_PLACE_ID = r"^[A-Za-z0-9_\-]{1,512}$"
_ETAG = re.compile(r'^(?:W/)?"?([0-9]{1,12})"?$')


def _clean_notes(value: str) -> str:
    return "" if not value.strip() else _clean_text(value)


Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE), AfterValidator(_clean_text)
]
Notes = Annotated[str, StringConstraints(max_length=MAX_NOTES), AfterValidator(_clean_notes)]
Clock = Annotated[str, StringConstraints(pattern=_CLOCK)]
PlaceId = Annotated[str, StringConstraints(pattern=_PLACE_ID)]


class StopEdit(BaseModel):
    """A stop of an edited day: ``place_id`` or ``name`` (or both); ``arrive`` and ``depart`` together or neither."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    place_id: PlaceId | None = None
    name: PlaceName | None = None
    arrive: Clock | None = Field(None, description="HH:MM, local time at the destination")
    depart: Clock | None = Field(None, description="HH:MM, after arrive")
    locked: bool | None = Field(
        None,
        description="Lock the stop at its place and times (arrive/depart, else its current ones): re-plans and "
        "enrichment never move it. Unset: a stop already on the trip keeps its lock",
    )


class DayEdit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    date: CalendarDate = Field(description="A date of the trip")
    stops: list[StopEdit] = Field(max_length=100, description="The day's stops in order; [] empties the day")


class TripPatch(BaseModel):
    """An edit. ``version`` (or an ``If-Match: "N"`` header) is the trip version the edit was made from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int | None = Field(None, ge=1, description="Required unless If-Match is sent")
    title: Title | None = None
    notes: Notes | None = Field(None, description="Empty text clears the notes")
    days: list[DayEdit] | None = Field(None, max_length=60)
    link_sharing: LinkSharing | None = Field(
        None, description="Who may create share links: owner, or editors too (only the owner may change it)"
    )


def version_from_if_match(header: str | None) -> int | None:
    """``If-Match: "7"`` (or ``W/"7"``, or ``7``) -> 7; absent -> None; anything else is refused."""
    if header is None:
        return None
    match = _ETAG.match(header.strip())
    if not match:
        raise InvalidRequest(
            "If-Match is not valid", details=[{"field": "If-Match", "message": 'must be the trip version, as "N"'}]
        )
    return int(match.group(1))


def _rule_problems(patch: TripPatch, trip: Trip, settings: Settings) -> list[dict[str, str]]:
    problems: list[dict[str, str]] = []
    if patch.days is None:
        return problems
    dates = (trip.start_date, trip.end_date)
    known = _known_stops(trip.days)
    seen: set[dt.date] = set()
    max_stops = settings.max_places_per_day * 2
    for day_index, day in enumerate(patch.days):
        where = f"days.{day_index}"
        if not dates[0] <= day.date <= dates[1]:
            problems.append(
                {"field": f"{where}.date", "message": f"must be a date of the trip ({dates[0]}..{dates[1]})"}
            )
        if day.date in seen:
            problems.append({"field": f"{where}.date", "message": "named twice"})
        seen.add(day.date)
        if len(day.stops) > max_stops:
            problems.append({"field": f"{where}.stops", "message": f"at most {max_stops} stops a day"})
        for stop_index, stop in enumerate(day.stops):
            at = f"{where}.stops.{stop_index}"
            if stop.place_id is None and stop.name is None:
                problems.append({"field": at, "message": "give a place_id or a name"})
            if (stop.arrive is None) != (stop.depart is None):
                problems.append({"field": at, "message": "give both arrive and depart, or neither"})
            elif stop.arrive is not None and stop.depart is not None and stop.depart <= stop.arrive:
                problems.append({"field": f"{at}.depart", "message": "must be after arrive"})
            elif stop.locked and stop.arrive is None and _existing(stop, known) is None:
                problems.append({"field": f"{at}.locked", "message": "a new stop is locked at given times: send them"})
    return problems


def parse_patch(body: Any, trip: Trip, settings: Settings, if_match: int | None) -> tuple[TripPatch, int]:
    """The validated edit and the version it was made from; every problem is listed."""
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object", details=[{"field": "body", "message": "not an object"}])
    problems: list[dict[str, str]] = []
    patch: TripPatch | None = None
    try:
        patch = TripPatch.model_validate(body)
    except ValidationError as error:
        problems = _problems_from(error)
    if patch is not None:
        problems += _rule_problems(patch, trip, settings)
        if patch.title is None and patch.notes is None and patch.days is None and patch.link_sharing is None:
            problems.append({"field": "body", "message": "nothing to change: give title, notes, days or link_sharing"})
    version = patch.version if patch is not None else None
    if version is not None and if_match is not None and version != if_match:
        problems.append({"field": "version", "message": "differs from If-Match"})
    version = version if version is not None else if_match
    if version is None and not any(problem["field"] == "version" for problem in problems):
        problems.append({"field": "version", "message": 'required (or send If-Match: "N")'})
    if problems or patch is None or version is None:
        raise InvalidRequest("the edit is not valid", details=problems)
    return patch, version


KnownStops = tuple[dict[str, Stop], dict[str, Stop]]


def _known_stops(days: list[Day]) -> KnownStops:
    by_id: dict[str, Stop] = {}
    by_name: dict[str, Stop] = {}
    for day in days:
        for stop in day.stops:
            if stop.place_id:
                by_id.setdefault(stop.place_id, stop)
            if stop.name:
                by_name.setdefault(casefolded(stop.name), stop)
    return by_id, by_name


def _new_stop(edit: StopEdit, currency: str) -> Stop:
    return Stop(
        place_id=edit.place_id,
        name=edit.name or "",
        category="other",
        location=None,
        arrive="00:00",
        depart="00:00",
        duration_min=DEFAULT_VISIT_MIN,
        cost_estimate=Money(amount=0.0, currency=currency),
        description="",
        travel_from_previous=None,
    )


def _existing(edit: StopEdit, known: KnownStops) -> Stop | None:
    """The trip's stop an edited stop names (by place id, else by name when it has no place id)."""
    by_id, by_name = known
    existing = by_id.get(edit.place_id) if edit.place_id else None
    if existing is None and edit.name and not edit.place_id:
        existing = by_name.get(casefolded(edit.name))
    return existing


def edited_stops(day: DayEdit, known: KnownStops, currency: str) -> list[Stop]:
    """The stored stops of an edited day: known places keep their details; times are the user's (``timing: fixed``)
    or provisional (``timing: auto``: previous departure + 15 min, for the stop's usual duration). A locked stop
    keeps its times (given, else its current ones); what keeps it from being kept is a warning on it
    (``lock_warnings``), it is never moved."""
    stops: list[Stop] = []
    free_from = DAY_START_MINUTE
    for edit in day.stops:
        existing = _existing(edit, known)
        stop = existing.model_copy(deep=True) if existing is not None else _new_stop(edit, currency)
        if edit.name and existing is None:
            stop.name = edit.name
        stop.warnings = []
        stop.locked = edit.locked if edit.locked is not None else stop.locked
        duration = stop.duration_min or DEFAULT_VISIT_MIN
        if edit.arrive is not None and edit.depart is not None:
            arrive, depart = clock_minutes(edit.arrive), clock_minutes(edit.depart)
            stop.timing = "fixed"
        elif stop.locked and existing is not None:
            arrive, depart = clock_minutes(existing.arrive), clock_minutes(existing.depart)
            stop.timing = "fixed"
        else:
            arrive = free_from + (PROVISIONAL_TRAVEL_MIN if stops else 0)
            depart = min(LAST_MINUTE_OF_DAY, arrive + duration)
            stop.timing = "auto"
        stop.arrive, stop.depart = clock_text(arrive), clock_text(depart)
        stop.duration_min = max(0, clock_minutes(stop.depart) - clock_minutes(stop.arrive))
        free_from = clock_minutes(stop.depart)
        stops.append(stop)
    lock_warnings(stops)
    return stops


def lock_warnings(stops: list[Stop]) -> None:
    """Warn on each locked stop of a day that its neighbours keep from being kept as locked (the stop before it
    ends after it starts, or a stop with fixed times after it starts before it ends). Travel and opening hours are
    checked by enrichment, on real legs."""
    for index, stop in enumerate(stops):
        if not stop.locked:
            continue
        when = f"{stop.arrive}-{stop.depart}"
        before = stops[index - 1] if index else None
        after = stops[index + 1] if index + 1 < len(stops) else None
        if before is not None and clock_minutes(before.depart) > clock_minutes(stop.arrive):
            stop.warnings.append(f"locked at {when}, not moved: {before.name} before it ends at {before.depart}")
        if after is not None and after.timing == "fixed" and clock_minutes(after.arrive) < clock_minutes(stop.depart):
            stop.warnings.append(f"locked at {when}, not moved: {after.name} after it starts at {after.arrive}")


def _empty_day(date: dt.date, currency: str) -> Day:
    return Day(
        date=date,
        theme="",
        summary="",
        stops=[],
        travel_min=0,
        cost_estimate=Money(amount=0.0, currency=currency),
    )


def patch_fields(trip: Trip, patch: TripPatch, version: int, now: dt.datetime) -> tuple[Trip, list[str]]:
    """Pure: ``trip`` after ``patch`` and the names of the fields it changed (``Conflict`` when ``version`` is
    stale)."""
    current = trip.version
    if version != current:
        raise Conflict(
            f"the trip is at version {current}, the edit was made from version {version}",
            details=[{"current_version": current}],
        )
    update: dict[str, Any] = {"version": current + 1, "updated_at": now}
    if patch.title is not None:
        update["title"] = patch.title
    if patch.notes is not None:
        update["notes"] = patch.notes or None
    if patch.link_sharing is not None:
        update["link_sharing"] = patch.link_sharing
    if patch.days is not None:
        if trip.status != "ready":
            raise Conflict("only a ready trip's days can be edited", details=[{"status": trip.status}])
        update.update(_edited_days(trip, patch.days))
    return trip.model_copy(update=update), sorted(update)


def _edited_days(trip: Trip, edits: list[DayEdit]) -> dict[str, Any]:
    days = [day.model_copy() for day in trip.days]
    baseline = day_inputs.day_hashes(days)
    currency = trip.currency or "USD"
    known = _known_stops(days)
    by_date = {day.date: day for day in days}
    for edit in edits:
        day = by_date.get(edit.date) or _empty_day(edit.date, currency)
        stops = edited_stops(edit, known, currency)
        # What the last re-plan changed, and where it started from, no longer describe an edited day.
        cleared: dict[str, Any] = {"warnings": [], "changes": None, "replanned_from": None}
        by_date[edit.date] = day.model_copy(update={"stops": stops, **cleared})
    new_days = [by_date[date] for date in sorted(by_date)]
    enrichment = (trip.enrichment or EnrichmentReport()).model_copy()
    if enrichment.day_hashes is None:
        # First edit of a planned trip: the planner's days are the baseline, so only edited days are recomputed.
        enrichment.day_hashes = baseline
        enrichment.transport = trip.transport
    if day_inputs.input_hash(new_days, trip.transport) != enrichment.input_hash:
        enrichment.status = "pending"
        enrichment.reason = None
    return {"days": new_days, "enrichment": enrichment}


def apply_edit(
    client: firestore.Client, trip_id: str, uid: str, patch: TripPatch, version: int, now: dt.datetime
) -> Trip:
    """Store ``patch`` on the trip in a transaction that authorizes the caller again and checks ``version``."""

    def update(current: Trip | None) -> tuple[Trip, list[str]]:
        access.authorize(current, uid, "share" if patch.link_sharing is not None else "edit")
        assert current is not None
        return patch_fields(current, patch, version, now)

    return store.update_trip(client, trip_id, update)
