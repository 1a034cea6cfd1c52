"""A multi-city trip's .ics read by icalendar, ical.js and node-ical: each stop in its city's zone, the transfer
from one zone to the other, every reader at the same instants (London is UTC+0 in January, Paris UTC+1)."""

from __future__ import annotations

import datetime as dt

import icalendar

from common.services.trips.ics import trip_calendar
from tests.integration.trips.test_ics_readers import _node_readers, _utc
from tests.unit.trips.factories import trip_from

CITY = {"nights": 1, "location": {"lat": 0.0, "lng": 0.0}}
TRANSFER = {
    "from_city": 0,
    "to_city": 1,
    "from_name": "London",
    "to_name": "Paris",
    "mode": "transit",
    "depart": "09:00",
    "arrive": "12:23",
    "duration_min": 143,
    "distance_m": 429_000,
    "cost_estimate": {"amount": 159.0, "currency": "EUR"},
    "estimated": False,
    "source": "routes_api",
    "label": "Train from London to Paris, 2 h 23 min (Google Maps Routes)",
}


def _stop(name: str, arrive: str, depart: str) -> dict[str, str]:
    return {"place_id": name.casefold(), "name": name, "arrive": arrive, "depart": depart}


def test_each_event_is_in_its_citys_zone_and_the_transfer_spans_both() -> None:
    trip = trip_from(
        {
            "destination": {"name": "London", "time_zone": "Europe/London"},
            "cities": [
                CITY
                | {"name": "London", "place_id": "london", "time_zone": "Europe/London", "first_day": 1, "last_day": 1},
                CITY
                | {"name": "Paris", "place_id": "paris", "time_zone": "Europe/Paris", "first_day": 2, "last_day": 2},
            ],
            "days": [
                {"date": "2027-01-10", "city": 0, "stops": [_stop("British Museum", "10:00", "12:00")]},
                {
                    "date": "2027-01-11",
                    "city": 1,
                    "transfer": TRANSFER,
                    "stops": [_stop("Louvre", "14:00", "16:00")],
                },
            ],
        }
    )
    calendar = trip_calendar(trip)
    parsed = icalendar.Calendar.from_ical(calendar)
    assert sorted(str(zone["tzid"]) for zone in parsed.walk("VTIMEZONE")) == ["Europe/London", "Europe/Paris"]
    events = list(parsed.walk("VEVENT"))
    assert [str(event["summary"]) for event in events] == ["British Museum", "London to Paris", "Louvre"]
    transfer = events[1]
    assert (transfer["dtstart"].params["TZID"], transfer["dtend"].params["TZID"]) == ("Europe/London", "Europe/Paris")
    assert "Train from London to Paris" in str(transfer["description"])
    expected = [
        dt.datetime(2027, 1, 10, 10, tzinfo=dt.UTC),
        dt.datetime(2027, 1, 11, 9, tzinfo=dt.UTC),
        dt.datetime(2027, 1, 11, 13, tzinfo=dt.UTC),
    ]
    assert [event.decoded("dtstart").astimezone(dt.UTC) for event in events] == expected
    assert transfer.decoded("dtend").astimezone(dt.UTC) == dt.datetime(2027, 1, 11, 11, 23, tzinfo=dt.UTC)
    readers = _node_readers(calendar)
    assert [_utc(text) for text in readers["icaljs"]] == expected
    assert [_utc(text) for text in readers["nodeical"]] == expected
