"""Weather in the engine: outdoor sights leave wet days, indoor ones fill them, must-includes stay (issue 16)."""

from __future__ import annotations

import datetime as dt

import pytest

from common.domain.itinerary import Itinerary, Place, Preferences, WarningCode, plan_trip, validate
from common.domain.itinerary.weather import wet_area_order
from tests.unit.itinerary.factories import MONDAY, daily_periods, place, problem

TUESDAY = MONDAY + dt.timedelta(days=1)


def _outdoor(place_id: str, east_m: float, north_m: float = 0.0) -> Place:
    return place(place_id, east_m, north_m, category="park").model_copy(update={"outdoor": True})


def _two_areas() -> list[Place]:
    """West of the hotel: parks; east: museums. Without weather, each area is one day."""
    west = [_outdoor(f"park-{n}", -2000 - 150 * n, 100 * n) for n in range(3)]
    east = [place(f"museum-{n}", 2000 + 150 * n, 100 * n, category="museum") for n in range(3)]
    return west + east


def _day_of(itinerary: Itinerary) -> dict[str, dt.date]:
    return {stop.place_id: day.date for day in itinerary.days for stop in day.stops}


def _outdoor_share(itinerary: Itinerary, date: dt.date, outdoor: set[str]) -> float:
    (day,) = [day for day in itinerary.days if day.date == date]
    return sum(stop.place_id in outdoor for stop in day.stops) / max(1, len(day.stops))


@pytest.mark.parametrize("force_greedy", [False, True])
def test_a_wet_day_takes_the_indoor_area_and_says_what_moved(force_greedy: bool) -> None:
    places = _two_areas()
    outdoor = {p.id for p in places if p.outdoor}
    dry = plan_trip(problem(places, days=2), force_greedy=force_greedy)
    parks_day = {_day_of(dry)[place_id] for place_id in outdoor}
    assert len(parks_day) == 1  # one area a day without weather
    wet_date = parks_day.pop()

    wet_problem = problem(places, days=2, wet_dates=[wet_date])
    wet = plan_trip(wet_problem, force_greedy=force_greedy)
    assert validate(wet_problem, wet) == []
    assert _outdoor_share(wet, wet_date, outdoor) == 0.0
    assert set(_day_of(wet)) == set(_day_of(dry))  # nothing lost, only moved
    moved = [warning for warning in wet.warnings if warning.code == WarningCode.WEATHER_MOVED]
    wet_index = (wet_date - MONDAY).days
    assert {warning.place_id for warning in moved} == outdoor
    assert all(warning.day_index == wet_index for warning in moved)
    other = (MONDAY if wet_date == TUESDAY else TUESDAY).strftime("%a")
    assert all(warning.message.endswith(f"moved to {other} for drier weather") for warning in moved)


def test_without_wet_days_nothing_changes_and_nothing_is_said() -> None:
    places = _two_areas()
    assert plan_trip(problem(places, days=2)).days == plan_trip(problem(places, days=2, wet_dates=[])).days
    assert not [w for w in plan_trip(problem(places, days=2)).warnings if w.code == WarningCode.WEATHER_MOVED]


def test_indoor_places_fill_a_wet_day_from_other_areas() -> None:
    """Three days, parks everywhere but museums only in one area: the wet day gets the museums, no park."""
    places = [
        *[_outdoor(f"park-w{n}", -3000 - 150 * n) for n in range(3)],
        *[_outdoor(f"park-e{n}", 3000 + 150 * n) for n in range(3)],
        *[_outdoor(f"park-n{n}", 0, 3000 + 150 * n) for n in range(2)],
        place("museum-n", 150, 3000, category="museum"),
        place("gallery-s", 0, -1500, category="museum"),
    ]
    outdoor = {p.id for p in places if p.outdoor}
    wet_date = MONDAY + dt.timedelta(days=1)
    itinerary = plan_trip(problem(places, days=3, wet_dates=[wet_date]))
    assert _outdoor_share(itinerary, wet_date, outdoor) == 0.0
    (wet_day,) = [day for day in itinerary.days if day.date == wet_date]
    assert {stop.place_id for stop in wet_day.stops} <= {"museum-n", "gallery-s"}
    assert wet_day.stops


def test_a_must_include_outdoor_sight_is_kept_and_goes_to_a_dry_day() -> None:
    places = _two_areas()
    must = "park-0"
    preferences = Preferences(lunch_window=None, dinner_window=None, must_include_ids=[must])
    dry = plan_trip(problem(places, days=2, preferences=preferences))
    wet_date = _day_of(dry)[must]
    wet = plan_trip(problem(places, days=2, preferences=preferences, wet_dates=[wet_date]))
    assert _day_of(wet)[must] != wet_date


def test_a_must_include_open_only_on_the_wet_day_stays_there() -> None:
    places = _two_areas()
    only_monday = place("garden", -2000, 500, category="park", periods=daily_periods("00:00", "23:59", [1]))
    only_monday = only_monday.model_copy(update={"outdoor": True})
    preferences = Preferences(lunch_window=None, dinner_window=None, must_include_ids=["garden"])
    wet = plan_trip(problem([*places, only_monday], days=2, preferences=preferences, wet_dates=[MONDAY]))
    assert _day_of(wet)["garden"] == MONDAY
    assert not [w for w in wet.warnings if w.code == WarningCode.MUST_INCLUDE_DROPPED]


def test_one_wet_day_alone_prefers_indoor_sights_when_the_day_is_full() -> None:
    places = _two_areas()
    preferences = Preferences(lunch_window=None, dinner_window=None, max_places_per_day=3)
    wet = plan_trip(problem(places, days=1, preferences=preferences, wet_dates=[MONDAY]))
    assert {stop.place_id for stop in wet.days[0].stops} == {"museum-0", "museum-1", "museum-2"}


def test_wet_area_order_swaps_with_the_driest_area_of_the_same_start() -> None:
    # Areas 0..2 hold 3, 0 and 1 outdoor sights; day 0 is wet.
    assert wet_area_order([3, 0, 1], ["h", "h", "h"], [True, False, False]) == [1, 0, 2]
    # A day starting elsewhere (another city) is never swapped with.
    assert wet_area_order([3, 0, 1], ["h", "x", "h"], [True, False, False]) == [2, 1, 0]
    # Nothing drier: kept.
    assert wet_area_order([0, 2, 1], ["h", "h", "h"], [True, False, False]) == [0, 1, 2]
    # Two wet days take the two driest areas.
    assert sorted(wet_area_order([3, 0, 1, 2], ["h"] * 4, [True, True, False, False])[:2]) == [1, 2]
