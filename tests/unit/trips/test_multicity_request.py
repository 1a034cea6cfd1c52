"""A multi-city request: ``destinations`` with nights (and lodging) per city, or the single ``destination``; every
problem of the cities' count and nights listed in one 400."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from common.foundation.config import Settings
from common.foundation.errors import InvalidRequest
from common.services.trips.models import parse_trip_request

TODAY = dt.date(2026, 12, 2)
SETTINGS = Settings(max_trip_cities=3)


def body(*cities: dict[str, Any], nights: int = 5, **fields: Any) -> dict[str, Any]:
    start = dt.date(2027, 1, 10)
    return {
        "destinations": list(cities),
        "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=nights)).isoformat(),
    } | fields


def problems(request_body: dict[str, Any], settings: Settings = SETTINGS) -> list[dict[str, str]]:
    with pytest.raises(InvalidRequest) as refused:
        parse_trip_request(request_body, settings, TODAY)
    return list(refused.value.details)


def test_cities_with_nights_and_lodging_parse_and_the_last_city_may_take_the_nights_left() -> None:
    request = parse_trip_request(
        body({"destination": "Tokyo", "nights": 3, "lodging": "Park Hotel"}, {"destination": "Kyoto"}), SETTINGS, TODAY
    )
    assert [(stay.destination, stay.nights, stay.lodging) for stay in request.stays] == [
        ("Tokyo", 3, "Park Hotel"),
        ("Kyoto", 2, None),
    ]
    assert request.first_city == "Tokyo"
    assert request.destination is None


def test_a_one_city_list_is_the_single_form() -> None:
    listed = parse_trip_request(body({"destination": "Kyoto", "nights": 5}), SETTINGS, TODAY)
    single = parse_trip_request(
        {"destination": "Kyoto", "start_date": "2027-01-10", "end_date": "2027-01-15"}, SETTINGS, TODAY
    )
    assert [(stay.destination, stay.nights) for stay in listed.stays] == [("Kyoto", 5)]
    assert [(stay.destination, stay.nights) for stay in single.stays] == [("Kyoto", 5)]


def test_every_problem_of_the_cities_is_listed_at_once() -> None:
    found = problems(
        body(
            {"destination": "Tokyo", "nights": 0},
            {"destination": "Kyoto"},
            {"destination": "Osaka", "nights": 2},
            {"destination": "Nara", "nights": 9},
            destination="Tokyo",
            lodging="Somewhere",
        )
    )
    fields = [problem["field"] for problem in found]
    assert "destinations.0.nights" in fields, "zero nights"
    assert "destinations.1.nights" in fields, "a city before the last without nights"
    assert "lodging" in fields, "lodging goes with each city"
    messages = " | ".join(problem["message"] for problem in found)
    assert "not both" in messages
    assert "at most 3 cities" in messages
    assert "more than the trip's 5 nights" in messages


def test_nights_must_add_up_to_the_trip() -> None:
    short = problems(body({"destination": "Rome", "nights": 2}, {"destination": "Paris", "nights": 2}))
    assert short == [
        {
            "field": "destinations",
            "message": "the cities' nights (4) fall short of the trip's 5 nights (2027-01-10 to 2027-01-15): they "
            "must add up",
        }
    ]
    implied = problems(body({"destination": "Rome", "nights": 5}, {"destination": "Paris"}))
    assert implied[0]["field"] == "destinations"
    assert "and at least 1 for the last city) are more than" in implied[0]["message"]


def test_neither_form_is_refused_and_the_limit_is_configured() -> None:
    neither = problems({"start_date": "2027-01-10", "end_date": "2027-01-12"})
    assert neither == [{"field": "destination", "message": "give destination (one city) or destinations (several)"}]
    cities = [{"destination": name, "nights": 1} for name in ("Tokyo", "Kyoto", "Osaka")]
    parse_trip_request(body(*cities, nights=3), SETTINGS, TODAY)
    assert "at most 2 cities" in problems(body(*cities, nights=3), Settings(max_trip_cities=2))[0]["message"]
