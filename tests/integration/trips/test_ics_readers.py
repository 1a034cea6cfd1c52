"""The .ics export read by three calendar libraries (icalendar, and ical.js and node-ical from npm): a trip across a
DST change lands at the same instants in each (ical.js reads only the first date of an RDATE list)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import icalendar

from common.services.trips.ics import trip_calendar
from tests.unit.trips.factories import trip_from

ROOT = Path(__file__).resolve().parents[3]
READERS = Path(__file__).with_name("ics_readers.js")


def _stop(name: str, arrive: str, depart: str) -> dict[str, str]:
    return {"place_id": name.casefold(), "name": name, "arrive": arrive, "depart": depart}


def _trip_across_dst(time_zone: str, dates: list[str]) -> bytes:
    """Paris's clocks go forward at 02:00 on 2027-03-28: 10:00 local is 09:00 UTC before, 08:00 UTC after."""
    days = [{"date": date, "stops": [_stop(f"Stop {date}", "10:00", "11:00")]} for date in dates]
    trip = trip_from({"destination": {"name": "Paris", "time_zone": time_zone}, "days": days})
    return trip_calendar(trip)


def _node_readers(calendar: bytes) -> dict[str, list[str]]:
    node = shutil.which("node")
    assert node is not None, "node is needed (the local stack's stand-ins run on it)"
    result = subprocess.run([node, str(READERS)], input=calendar, capture_output=True, check=True, cwd=ROOT, timeout=60)
    return dict(json.loads(result.stdout))


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)


def test_every_reader_puts_events_at_the_same_instants_across_a_dst_change() -> None:
    calendar = _trip_across_dst("Europe/Paris", ["2027-03-27", "2027-03-29"])
    expected = [dt.datetime(2027, 3, 27, 9, tzinfo=dt.UTC), dt.datetime(2027, 3, 29, 8, tzinfo=dt.UTC)]
    parsed = icalendar.Calendar.from_ical(calendar)
    assert [event.decoded("dtstart").astimezone(dt.UTC) for event in parsed.walk("VEVENT")] == expected
    readers = _node_readers(calendar)
    assert [_utc(text) for text in readers["icaljs"]] == expected
    assert [_utc(text) for text in readers["nodeical"]] == expected
    assert b"RDATE" not in calendar, "one DTSTART per observance"


def test_a_trip_across_the_autumn_change_and_a_zone_without_dst() -> None:
    autumn = _trip_across_dst("Europe/Paris", ["2027-10-30", "2027-11-01"])
    expected = [dt.datetime(2027, 10, 30, 8, tzinfo=dt.UTC), dt.datetime(2027, 11, 1, 9, tzinfo=dt.UTC)]
    readers = _node_readers(autumn)
    assert [_utc(text) for text in readers["icaljs"]] == expected
    assert [_utc(text) for text in readers["nodeical"]] == expected
    tokyo = _trip_across_dst("Asia/Tokyo", ["2027-03-27", "2027-03-29"])
    assert [_utc(text) for text in _node_readers(tokyo)["icaljs"]] == [
        dt.datetime(2027, 3, 27, 1, tzinfo=dt.UTC),
        dt.datetime(2027, 3, 29, 1, tzinfo=dt.UTC),
    ]
