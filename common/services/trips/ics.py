"""``GET /trips/{id}.ics``: a trip as an iCalendar file, one VEVENT per stop.

Times are local times at the destination, written with its time zone (``TZID`` on DTSTART/DTEND, and the matching
VTIMEZONE), so calendars show 09:30 in Kyoto as 09:30 in Kyoto wherever the reader is. Each event's UID depends only
on the trip and the stop's place (or name), so re-importing an edited trip updates events instead of duplicating
them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from collections import Counter
from collections.abc import Mapping
from typing import Any

import icalendar

PRODUCT_ID = "-//Trip planner backend//trips ics//EN"
UID_DOMAIN = "trip-planner"


def _zone(name: str | None, fallback: str) -> zoneinfo.ZoneInfo:
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return zoneinfo.ZoneInfo(candidate)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue
    return zoneinfo.ZoneInfo("UTC")


def _local(date: dt.date, clock: str, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    hours, minutes = (int(part) for part in clock.split(":"))
    if hours == 24:
        return dt.datetime.combine(date + dt.timedelta(days=1), dt.time(0, minutes), tzinfo=zone)
    return dt.datetime.combine(date, dt.time(hours, minutes), tzinfo=zone)


def stop_uid(trip_id: str, stop: Mapping[str, Any], occurrence: int) -> str:
    """Stable per stop: the trip, the place (its id, else a hash of its name) and which visit of it this is."""
    place_key = (
        stop.get("place_id")
        or "name-" + hashlib.sha256(" ".join(str(stop.get("name") or "").casefold().split()).encode()).hexdigest()[:16]
    )
    suffix = f"-{occurrence}" if occurrence > 1 else ""
    return f"{trip_id}-{place_key}{suffix}@{UID_DOMAIN}"


def _description(stop: Mapping[str, Any]) -> str:
    lines = []
    if stop.get("description"):
        lines.append(str(stop["description"]))
    leg = stop.get("travel_from_previous")
    if isinstance(leg, Mapping) and leg.get("duration_min") is not None:
        kilometres = (leg.get("distance_m") or 0) / 1000
        lines.append(f"Getting there: {leg['duration_min']} min by {leg.get('mode', 'transit')} ({kilometres:.1f} km)")
    for warning in stop.get("warnings") or []:
        lines.append(f"Warning: {warning}")
    return "\n".join(lines)


def trip_calendar(trip: Mapping[str, Any], *, default_time_zone: str = "UTC") -> bytes:
    """The trip's stops as an iCalendar (RFC 5545) file."""
    destination = trip.get("destination") or {}
    zone = _zone(destination.get("time_zone"), default_time_zone)
    trip_id = str(trip["id"])
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    title = trip.get("title") or f"Trip to {destination.get('name') or (trip.get('request') or {}).get('destination')}"
    calendar.add("x-wr-calname", title)
    calendar.add("x-wr-timezone", zone.key)
    stamp = trip.get("updated_at")
    stamp = stamp if isinstance(stamp, dt.datetime) else dt.datetime.now(dt.UTC)
    seen: Counter[str] = Counter()
    for day in trip.get("days") or []:
        date = dt.date.fromisoformat(str(day["date"]))
        for stop in day.get("stops") or []:
            key = str(stop.get("place_id") or stop.get("name"))
            seen[key] += 1
            event = icalendar.Event()
            event.add("uid", stop_uid(trip_id, stop, seen[key]))
            event.add("dtstamp", stamp.astimezone(dt.UTC))
            event.add("summary", str(stop.get("name") or "Stop"))
            event.add("dtstart", _local(date, str(stop["arrive"]), zone))
            event.add("dtend", _local(date, str(stop["depart"]), zone))
            event.add("location", str(stop.get("name") or ""))
            location = stop.get("location")
            if isinstance(location, Mapping) and location.get("lat") is not None:
                event.add("geo", (float(location["lat"]), float(location["lng"])))
            description = _description(stop)
            if description:
                event.add("description", description)
            if stop.get("category"):
                event.add("categories", [str(stop["category"])])
            calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
