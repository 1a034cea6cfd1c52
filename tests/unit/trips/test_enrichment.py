"""Enrichment's pure parts: input hashes, changed days, event staleness and age, and the day computation on fake
Maps clients (resolution, legs, automatic times, validator warnings, transient vs. permanent errors)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from google.api_core import exceptions as core_exceptions

from common.domain.maps import MapsConfig, MapsService, MapsUsage
from common.foundation.config import load_settings
from common.foundation.errors import RetryableError
from common.foundation.times import as_utc
from common.services.enrich.compute import EnrichmentFailed, enrich_days
from common.services.enrich.handler import is_stale, is_too_old, trip_id_of
from common.services.trips import day_inputs
from tests.unit.maps.fakes import FakeClock, FakePlaces, FakeRoutes, api_error, make_place
from tests.unit.trips.factories import day_documents, trip_from, typed_days

SETTINGS = load_settings()
DATE = "2026-06-03"  # a Wednesday


def _stop(place_id: str | None, name: str, arrive: str, depart: str, timing: str = "fixed") -> dict[str, Any]:
    return {"place_id": place_id, "name": name, "arrive": arrive, "depart": depart, "timing": timing, "warnings": []}


def _trip(stops: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "id": "t1",
        "status": "ready",
        "transport": "walk",
        "pace": "moderate",
        "travelers": 2,
        "language": "en",
        "start_date": DATE,
        "end_date": DATE,
        "destination": {"name": "Paris", "place_id": "city-paris", "location": {"lat": 48.8566, "lng": 2.3522}},
        "budget": {"currency": "EUR"},
        "days": [{"date": DATE, "stops": stops}],
        **extra,
    }


def _input_hash(trip: dict[str, Any]) -> str:
    return day_inputs.trip_input_hash(trip_from(trip))


def _changed(trip: dict[str, Any]) -> list[str]:
    return day_inputs.changed_dates(trip_from(trip))


def test_hash_covers_dates_places_times_and_transport_only() -> None:
    trip = _trip([_stop("louvre", "Louvre", "10:00", "12:00")])
    base = _input_hash(trip)
    assert _input_hash(trip | {"title": "x", "notes": "y"}) == base
    renamed = _trip([_stop("louvre", "Le Louvre", "10:00", "12:00") | {"description": "new"}])
    assert _input_hash(renamed) == base, "a resolved stop is known by its id"
    assert _input_hash(_trip([_stop("louvre", "Louvre", "10:00", "12:30")])) != base
    assert _input_hash(trip | {"transport": "drive"}) != base
    by_name = _trip([_stop(None, "Louvre  Museum", "10:00", "12:00")])
    assert _input_hash(by_name) == _input_hash(_trip([_stop(None, "louvre museum", "10:00", "12:00")]))


def test_changed_dates_use_stored_day_hashes_or_unresolved_stops() -> None:
    resolved = _trip([_stop("louvre", "Louvre", "10:00", "12:00")])
    assert _changed(resolved) == [], "straight from the planner"
    assert _changed(_trip([_stop(None, "Louvre", "10:00", "12:00")])) == [DATE]
    hashes = day_inputs.day_hashes(typed_days(resolved["days"]))
    enriched = resolved | {"enrichment": {"day_hashes": hashes, "transport": "walk"}}
    assert _changed(enriched) == []
    assert _changed(enriched | {"transport": "drive"}) == [DATE]
    moved = enriched | {"days": [{"date": DATE, "stops": [_stop("louvre", "Louvre", "10:30", "12:00")]}]}
    assert _changed(moved) == [DATE]


def test_event_staleness_age_and_document_names() -> None:
    t1 = dt.datetime(2026, 5, 1, 10, tzinfo=dt.UTC)
    t2 = t1 + dt.timedelta(seconds=5)
    old = _trip([_stop(None, "Louvre", "10:00", "12:00")])
    new = _trip([_stop("louvre", "Louvre", "10:00", "12:00")])
    assert is_stale(t1, trip_from(old), t2, trip_from(new)), "older and the inputs changed since"
    assert not is_stale(t1, trip_from(new), t2, trip_from(new)), (
        "older but same inputs: a no-op write sends no event, so enrich anyway"
    )
    assert not is_stale(t2, trip_from(old), t1, trip_from(new))
    assert is_stale(t1, trip_from(old), None, trip_from(new | {"enrichment": {"source_update_time": t2}}))
    assert is_too_old(t1, t1 + dt.timedelta(seconds=3601), 3600)
    assert not is_too_old(t1, t1 + dt.timedelta(seconds=3600), 3600)
    assert not is_too_old(None, t1, 3600)
    assert as_utc("2026-05-01T10:00:00Z") == t1
    assert as_utc("yesterday") is None
    assert trip_id_of("projects/p/databases/(default)/documents/trips/abc") == "abc"
    assert trip_id_of("projects/p/databases/(default)/documents/trips/abc/notes/n") is None
    assert trip_id_of("projects/p/databases/(default)/documents/users/abc") is None


PLACES = [
    make_place("louvre", "Louvre Museum", 48.8606, 2.3376, types=["museum"]),
    make_place(
        "orsay",
        "Orsay Museum",
        48.8600,
        2.3266,
        types=["museum"],
        regular_opening_hours={
            "periods": [
                {"open": {"day": day, "hour": 9, "minute": 30}, "close": {"day": day, "hour": 18, "minute": 0}}
                for day in range(7)
            ]
        },
    ),
    make_place("city-paris", "Paris", 48.8566, 2.3522, types=["locality", "political"]),
]


def _maps(places: FakePlaces, routes: FakeRoutes | None = None) -> MapsService:
    config = MapsConfig(backoff_base_seconds=0.0, max_retries=0)
    return MapsService(config, places, routes or FakeRoutes(), None, clock=FakeClock(), sleep=lambda _: None)


def _enrich(trip: dict[str, Any], dates: list[str], places: FakePlaces) -> list[dict[str, Any]]:
    """Enrich the typed form of ``trip``; the days in their stored form."""
    return day_documents(enrich_days(trip_from(trip), dates, _maps(places), MapsUsage(), SETTINGS))


def test_a_day_is_resolved_timed_and_validated() -> None:
    stops = [
        _stop("louvre", "Louvre", "00:00", "00:00", timing="auto"),
        _stop(None, "orsay museum", "09:00", "10:00"),
        _stop(None, "Nowhere Palace", "00:00", "00:00", timing="auto"),
    ]
    days = _enrich(_trip(stops), [DATE], FakePlaces(PLACES))
    louvre, orsay, nowhere = days[0]["stops"]
    assert louvre["arrive"] > "09:00", "left the centre at 09:00 and walked"
    assert louvre["travel_from_previous"]["mode"] == "walk"
    assert louvre["travel_from_previous"]["duration_min"] > 0
    assert louvre["cost_estimate"]["currency"] == "EUR"
    assert orsay["place_id"] == "orsay"
    assert orsay["name"] == "Orsay Museum"
    assert (orsay["arrive"], orsay["depart"]) == ("09:00", "10:00"), "the user's times are kept"
    rules = " ".join(orsay["warnings"])
    assert "closed" in rules
    assert "overlaps" in rules, "it starts before the Louvre visit ends"
    assert nowhere["place_id"] is None
    assert nowhere["warnings"] == ["not found on Google Maps near Paris"]
    assert days[0]["travel_min"] > 0
    written_back = _input_hash(_trip(days[0]["stops"]))
    again = _enrich(_trip(days[0]["stops"]), [DATE], FakePlaces(PLACES))
    assert _input_hash(_trip(again[0]["stops"])) == written_back, "enriching its own output changes nothing"


def test_transient_maps_errors_raise_and_a_trip_without_destination_fails_permanently() -> None:
    places = FakePlaces(PLACES)
    places.failures = [api_error(core_exceptions.ServiceUnavailable)]
    with pytest.raises(RetryableError):
        _enrich(_trip([_stop(None, "Louvre", "10:00", "11:00")]), [DATE], places)
    with pytest.raises(EnrichmentFailed):
        _enrich(_trip([], destination=None), [DATE], FakePlaces(PLACES))


def test_unchanged_days_are_left_as_stored() -> None:
    trip = _trip([_stop(None, "Louvre", "10:00", "11:00")])
    trip["days"].append({"date": "2026-06-04", "stops": [_stop(None, "Orsay", "10:00", "11:00")]})
    trip["end_date"] = "2026-06-04"
    places = FakePlaces(PLACES)
    days = _enrich(trip, ["2026-06-04"], places)
    assert days[0] == day_documents(trip_from(trip).days)[0]
    assert days[1]["stops"][0]["place_id"] == "orsay"
