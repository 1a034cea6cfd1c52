"""Page tokens and pages of the listing; validation and application of PATCH edits (pure)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from common.foundation.config import load_settings
from common.foundation.errors import Conflict, InvalidRequest
from common.services.trips import day_inputs, editing, listing, store
from common.services.trips.models import Trip
from tests.unit.trips.factories import trip_from, typed_days

SETTINGS = load_settings(max_places_per_day=4)
T0 = dt.datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)


def test_page_tokens_round_trip_and_bad_ones_are_refused() -> None:
    cursor = listing.PageCursor(created_at=T0, trip_id="abc")
    token = listing.encode_page_token(cursor)
    assert "=" not in token
    assert listing.decode_page_token(token) == cursor
    for bad in ("", "!!!", "e30", "x" * 600, listing.encode_page_token(cursor)[:-3]):
        with pytest.raises(InvalidRequest):
            listing.decode_page_token(bad)


def test_list_parameters_are_bounded_and_every_problem_listed() -> None:
    assert listing.parse_list_params({}) == listing.ListParams(page_size=20)
    assert listing.parse_list_params({"page_size": "50", "status": "ready"}).page_size == 50
    with pytest.raises(InvalidRequest) as caught:
        listing.parse_list_params({"page_size": "51", "status": "lost", "page_token": "zz", "colour": "red"})
    fields = [detail["field"] for detail in caught.value.details]
    assert fields == ["colour", "page_size", "status", "page_token"]


def _trip(trip_id: str, seconds: int) -> Trip:
    return trip_from({"id": trip_id, "created_at": T0 + dt.timedelta(seconds=seconds)})


def test_pages_are_newest_first_with_ties_broken_by_id_and_nothing_lost_or_repeated() -> None:
    trips = [_trip("a", 5), _trip("b", 5), _trip("c", 5), _trip("d", 3), _trip("e", 9), _trip("c", 5)]
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page, cursor = listing.newest_page(trips, 2, cursor)
        seen += [trip.id for trip in page]
        if cursor is None:
            break
    assert seen == ["e", "c", "b", "a", "d"]


DAY1, DAY2 = "2026-06-01", "2026-06-02"


def _stop(place_id: str, arrive: str, depart: str) -> dict[str, Any]:
    return {
        "place_id": place_id,
        "name": place_id.title(),
        "category": "museum",
        "location": {"lat": 1.0, "lng": 2.0},
        "arrive": arrive,
        "depart": depart,
        "duration_min": 60,
        "cost_estimate": {"amount": 5.0, "currency": "EUR"},
        "description": f"about {place_id}",
        "travel_from_previous": None,
        "warnings": ["old"],
    }


def planned_trip() -> Trip:
    return trip_from(planned_document())


def planned_document() -> dict[str, Any]:
    return {
        "id": "t1",
        "status": "ready",
        "version": 3,
        "transport": "walk",
        "start_date": DAY1,
        "end_date": DAY2,
        "budget": {"currency": "EUR"},
        "days": [
            {
                "date": DAY1,
                "theme": "x",
                "stops": [_stop("louvre", "09:00", "11:00"), _stop("orsay", "11:30", "13:00")],
            },
            {"date": DAY2, "theme": "y", "stops": [_stop("pantheon", "10:00", "11:00")]},
        ],
    }


def test_patch_validation_lists_every_problem() -> None:
    body = {
        "title": "",
        "colour": "red",
        "days": [
            {"date": "2026-07-01", "stops": [{}]},
            {
                "date": DAY1,
                "stops": [{"name": "A", "arrive": "10:00"}, {"name": "B", "arrive": "10:00", "depart": "09:00"}],
            },
            {"date": DAY1, "stops": [{"name": "x"}] * 9},
        ],
    }
    with pytest.raises(InvalidRequest) as caught:
        editing.parse_patch(body, planned_trip(), SETTINGS, None)
    fields = {detail["field"] for detail in caught.value.details}
    assert {"title", "colour"} <= fields
    body.pop("title")
    body.pop("colour")
    with pytest.raises(InvalidRequest) as caught:
        editing.parse_patch(body, planned_trip(), SETTINGS, None)
    fields = {detail["field"] for detail in caught.value.details}
    assert fields == {
        "days.0.date",
        "days.0.stops.0",
        "days.1.stops.0",
        "days.1.stops.1.depart",
        "days.2.date",
        "days.2.stops",
        "version",
    }
    with pytest.raises(InvalidRequest):
        editing.parse_patch(
            {"version": 3, "days": [{"date": DAY1, "stops": [{"name": "A", "arrive": "9:00"}]}]},
            planned_trip(),
            SETTINGS,
            None,
        )


def test_version_comes_from_the_body_or_if_match() -> None:
    assert editing.parse_patch({"title": "T"}, planned_trip(), SETTINGS, 3)[1] == 3
    assert editing.parse_patch({"title": "T", "version": 3}, planned_trip(), SETTINGS, None)[1] == 3
    with pytest.raises(InvalidRequest):
        editing.parse_patch({"title": "T", "version": 2}, planned_trip(), SETTINGS, 3)
    assert editing.version_from_if_match('"7"') == 7
    assert editing.version_from_if_match('W/"7"') == 7
    with pytest.raises(InvalidRequest):
        editing.version_from_if_match("*")


def test_a_stale_version_is_a_conflict() -> None:
    patch, _ = editing.parse_patch({"title": "T", "version": 2}, planned_trip(), SETTINGS, None)
    with pytest.raises(Conflict):
        editing.patch_fields(planned_trip(), patch, 2, T0)


def test_edits_move_add_remove_and_retime_stops() -> None:
    trip = planned_trip()
    body = {
        "version": 3,
        "notes": "bring umbrella",
        "days": [
            {"date": DAY1, "stops": [{"place_id": "louvre", "arrive": "10:00", "depart": "12:00"}]},
            {"date": DAY2, "stops": [{"place_id": "pantheon"}, {"name": "Orsay"}, {"name": "Sainte-Chapelle"}]},
        ],
    }
    patch, version = editing.parse_patch(body, trip, SETTINGS, None)
    edited, names = editing.patch_fields(trip, patch, version, T0)
    fields = store.fields_of(edited, names)
    assert fields["version"] == 4
    assert fields["notes"] == "bring umbrella"
    day1, day2 = fields["days"]
    assert [(s["place_id"], s["arrive"], s["depart"], s["timing"]) for s in day1["stops"]] == [
        ("louvre", "10:00", "12:00", "fixed")
    ]
    assert day1["stops"][0]["warnings"] == []
    moved = day2["stops"][1]
    assert moved["place_id"] == "orsay", "a stop moved by name keeps what was known about it"
    assert moved["description"] == "about orsay"
    added = day2["stops"][2]
    assert (added["place_id"], added["name"], added["category"]) == (None, "Sainte-Chapelle", "other")
    times = [(s["arrive"], s["depart"]) for s in day2["stops"]]
    assert times == [("09:00", "10:00"), ("10:15", "11:15"), ("11:30", "12:30")], "provisional automatic times"
    assert all(stop["timing"] == "auto" for stop in day2["stops"])
    enrichment = fields["enrichment"]
    assert enrichment["status"] == "pending"
    assert enrichment["day_hashes"] == day_inputs.day_hashes(typed_days(planned_document()["days"])), (
        "the planner's days are the baseline"
    )
    assert trip == planned_trip(), "the stored trip is not mutated"


def test_days_of_a_trip_still_planning_cannot_be_edited() -> None:
    trip = trip_from(planned_document() | {"status": "planning"})
    patch, version = editing.parse_patch({"version": 3, "days": [{"date": DAY1, "stops": []}]}, trip, SETTINGS, None)
    with pytest.raises(Conflict):
        editing.patch_fields(trip, patch, version, T0)
