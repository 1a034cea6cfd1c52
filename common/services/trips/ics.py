"""``GET /trips/{id}.ics``: a trip as an iCalendar file, one VEVENT per stop and per transfer between cities.

Times are local times in the day's city (``Trip.city_of``; on a travel day the stops before the transfer are in the
city left, and the transfer runs from one zone to the other), written with that city's time zone (``TZID`` on
DTSTART/DTEND, and a VTIMEZONE for every zone used), so calendars show 09:30 in Kyoto as 09:30 in Kyoto wherever the
reader is. The VTIMEZONE lists each offset change around the trip as its own observance with one DTSTART (no RDATE
lists, which ical.js reads only the first date of), so icalendar, node-ical and ical.js agree across a DST change.
Each event's UID depends only on the trip and the stop's place (or name), so re-importing an edited trip updates
events instead of duplicating them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from collections import Counter

import icalendar

from common.domain.maps.names import casefolded
from common.services.trips.models import Day, Stop, Trip

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


def _transfer_event(trip: Trip, day: Day, zones: tuple[zoneinfo.ZoneInfo, zoneinfo.ZoneInfo]) -> icalendar.Event:
    """The move between two cities: it starts in the zone left and ends in the zone reached."""
    transfer = day.transfer
    assert transfer is not None
    event = icalendar.Event()
    event.add("uid", f"{trip.id}-transfer-{day.date.isoformat()}@{UID_DOMAIN}")
    event.add("dtstamp", trip.updated_at.astimezone(dt.UTC))
    event.add("summary", f"{transfer.from_name} to {transfer.to_name}")
    event.add("dtstart", _local(day.date, transfer.depart, zones[0]))
    event.add("dtend", _local(day.date, transfer.arrive, zones[1]))
    event.add("location", transfer.from_name)
    cost = transfer.cost_estimate
    event.add("description", f"{transfer.label}\nAbout {cost.amount:.0f} {cost.currency} for the group")
    event.add("categories", ["transfer"])
    return event


def trip_calendar(trip: Trip, *, default_time_zone: str = "UTC") -> bytes:
    """The trip's stops (and transfers between cities) as an iCalendar (RFC 5545) file, each event in the time zone
    of the city it happens in (``Trip.city_of``), with a VTIMEZONE for every zone used."""
    destination = trip.destination
    zone = _zone(destination.time_zone if destination else None, default_time_zone)
    trip_id = trip.id
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    names = [city.name for city in trip.cities] or [destination.name if destination else trip.request.first_city]
    title = trip.title or f"Trip to {', '.join(names)}"
    calendar.add("x-wr-calname", title)
    calendar.add("x-wr-timezone", zone.key)
    stamp = trip.updated_at
    seen: Counter[str] = Counter()
    used: dict[str, zoneinfo.ZoneInfo] = {zone.key: zone}
    for index, day in enumerate(trip.days):
        date = day.date
        city = trip.city_of(index)
        day_zone = _zone(city.time_zone if city else None, default_time_zone)
        left_zone = day_zone
        if day.transfer is not None and trip.cities and day.transfer.from_city < len(trip.cities):
            left_zone = _zone(trip.cities[day.transfer.from_city].time_zone, default_time_zone)
        before = len(day.stops_around_transfer()[0])
        used.setdefault(day_zone.key, day_zone)
        used.setdefault(left_zone.key, left_zone)
        if day.transfer is not None:
            calendar.add_component(_transfer_event(trip, day, (left_zone, day_zone)))
        for position, stop in enumerate(day.stops):
            stop_zone = left_zone if position < before else day_zone
            key = stop.place_id or stop.name
            seen[key] += 1
            event = icalendar.Event()
            event.add("uid", stop_uid(trip_id, stop, seen[key]))
            event.add("dtstamp", stamp.astimezone(dt.UTC))
            event.add("summary", stop.name or "Stop")
            event.add("dtstart", _local(date, stop.arrive, stop_zone))
            event.add("dtend", _local(date, stop.depart, stop_zone))
            event.add("location", stop.name)
            if stop.location is not None:
                event.add("geo", (stop.location.lat, stop.location.lng))
            description = _description(stop)
            if description:
                event.add("description", description)
            if stop.category:
                event.add("categories", [stop.category])
            calendar.add_component(event)
    first = min((day.date for day in trip.days), default=trip.start_date)
    last = max((day.date for day in trip.days), default=trip.end_date)
    for used_zone in used.values():
        calendar.add_component(vtimezone(used_zone, first, last))
    return bytes(calendar.to_ical())


TIMEZONE_MARGIN = dt.timedelta(days=7)
EPOCH_OBSERVANCE = dt.datetime(1970, 1, 1)  # an observance's DTSTART is a local time, without a zone


def _offset_changes(zone: zoneinfo.ZoneInfo, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """The UTC instants (to the minute) in ``[start, end)`` where the zone's UTC offset or DST flag changes."""

    def state(moment: dt.datetime) -> tuple[dt.timedelta | None, dt.timedelta | None]:
        local = moment.astimezone(zone)
        return local.utcoffset(), local.dst()

    changes = []
    step = dt.timedelta(hours=6)
    moment = start
    while moment < end:
        following = min(moment + step, end)
        if state(moment) != state(following):
            low, high = moment, following  # the change is in (low, high]: narrow it to the minute
            while high - low > dt.timedelta(minutes=1):
                middle = low + (high - low) / 2
                middle = middle.replace(second=0, microsecond=0)
                if middle <= low:
                    break
                if state(middle) == state(low):
                    low = middle
                else:
                    high = middle
            changes.append(high)
        moment = following
    return changes


def _observance(
    kind: type[icalendar.TimezoneStandard] | type[icalendar.TimezoneDaylight],
    starts: dt.datetime,
    offset_from: dt.timedelta,
    offset_to: dt.timedelta,
    name: str | None,
) -> icalendar.cal.Component:
    observance = kind()
    observance.add("dtstart", starts)
    observance.add("tzoffsetfrom", offset_from)
    observance.add("tzoffsetto", offset_to)
    if name:
        observance.add("tzname", name)
    return observance


def vtimezone(zone: zoneinfo.ZoneInfo, first: dt.date, last: dt.date) -> icalendar.Timezone:
    """A VTIMEZONE valid from a week before ``first`` to a week after ``last``: the offset then, and every change
    in between as its own observance (STANDARD or DAYLIGHT) with a single DTSTART in local time."""
    start = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC) - TIMEZONE_MARGIN
    end = dt.datetime.combine(last, dt.time(), tzinfo=dt.UTC) + TIMEZONE_MARGIN
    timezone = icalendar.Timezone()
    timezone.add("tzid", zone.key)
    initial = start.astimezone(zone)
    offset = initial.utcoffset() or dt.timedelta(0)
    kind = icalendar.TimezoneDaylight if initial.dst() else icalendar.TimezoneStandard
    timezone.add_component(_observance(kind, EPOCH_OBSERVANCE, offset, offset, initial.tzname()))
    for change in _offset_changes(zone, start, end):
        after = change.astimezone(zone)
        new_offset = after.utcoffset() or dt.timedelta(0)
        local_start = (change + offset).replace(tzinfo=None)  # the wall-clock time, in the old offset, of the change
        kind = icalendar.TimezoneDaylight if after.dst() else icalendar.TimezoneStandard
        timezone.add_component(_observance(kind, local_start, offset, new_offset, after.tzname()))
        offset = new_offset
    return timezone
