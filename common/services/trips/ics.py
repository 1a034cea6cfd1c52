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

import icalendar

from common.domain.maps.names import casefolded
from common.services.trips.models import Stop, Trip

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


def stop_uid(trip_id: str, stop: Stop, occurrence: int) -> str:
    """Stable per stop: the trip, the place (its id, else a hash of its name) and which visit of it this is."""
    place_key = stop.place_id or "name-" + hashlib.sha256(casefolded(stop.name).encode()).hexdigest()[:16]
    suffix = f"-{occurrence}" if occurrence > 1 else ""
    return f"{trip_id}-{place_key}{suffix}@{UID_DOMAIN}"


def _description(stop: Stop) -> str:
    lines = []
    if stop.description:
        lines.append(stop.description)
    leg = stop.travel_from_previous
    if leg is not None:
        kilometres = leg.distance_m / 1000
        lines.append(f"Getting there: {leg.duration_min} min by {leg.mode} ({kilometres:.1f} km)")
    for warning in stop.warnings:
        lines.append(f"Warning: {warning}")
    return "\n".join(lines)


def trip_calendar(trip: Trip, *, default_time_zone: str = "UTC") -> bytes:
    """The trip's stops as an iCalendar (RFC 5545) file."""
    destination = trip.destination
    zone = _zone(destination.time_zone if destination else None, default_time_zone)
    trip_id = trip.id
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    title = trip.title or f"Trip to {destination.name if destination else trip.request.destination}"
    calendar.add("x-wr-calname", title)
    calendar.add("x-wr-timezone", zone.key)
    stamp = trip.updated_at
    seen: Counter[str] = Counter()
    for day in trip.days:
        date = day.date
        for stop in day.stops:
            key = stop.place_id or stop.name
            seen[key] += 1
            event = icalendar.Event()
            event.add("uid", stop_uid(trip_id, stop, seen[key]))
            event.add("dtstamp", stamp.astimezone(dt.UTC))
            event.add("summary", stop.name or "Stop")
            event.add("dtstart", _local(date, stop.arrive, zone))
            event.add("dtend", _local(date, stop.depart, zone))
            event.add("location", stop.name)
            if stop.location is not None:
                event.add("geo", (stop.location.lat, stop.location.lng))
            description = _description(stop)
            if description:
                event.add("description", description)
            if stop.category:
                event.add("categories", [stop.category])
            calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
