"""Properties of the itinerary engine beyond tests/unit/itinerary/test_properties.py (which draws hours from a fixed
menu, at most 9 places, walking only): here opening hours are drawn freely (0-3 windows a day, some past midnight,
including Saturday into Sunday, 24-hour places, closed days), with unreachable legs, a transit fallback for reduced
walking, transport costs, avoided places, per-day anchors, up to 14 places and 6 days.

Whatever the problem: the plan (solver and greedy) passes the independent validator, and every place is either
planned once or dropped with a reason.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.domain.itinerary import (
    DayAnchor,
    LatLng,
    MealKind,
    OpeningPeriod,
    OpeningTime,
    Pace,
    Place,
    Preferences,
    TransportCosts,
    TravelMode,
    TripProblem,
    plan_trip,
    validate,
)
from tests.unit.itinerary.factories import HOTEL, METRES_PER_DEGREE, MONDAY, place, problem, walking_matrix

EXAMPLES = 200
STATION = "station"


@st.composite
def opening_periods(draw: st.DrawFn) -> list[OpeningPeriod] | None:
    kind = draw(st.sampled_from(["unknown", "always", "drawn", "drawn", "drawn"]))
    if kind == "unknown":
        return None
    if kind == "always":  # Google's form of "open 24 hours": an open on Sunday 00:00 without a close
        return [OpeningPeriod(open=OpeningTime(day=0, hour=0, minute=0), close=None)]
    periods: list[OpeningPeriod] = []
    for day in range(7):
        cursor = draw(st.integers(min_value=0, max_value=20 * 60))
        for _ in range(draw(st.integers(min_value=0, max_value=3))):
            opens = cursor + draw(st.integers(min_value=0, max_value=6 * 60))
            length = draw(st.integers(min_value=15, max_value=10 * 60))
            if opens >= 24 * 60:
                break
            closes = opens + length
            close_day = (day + closes // (24 * 60)) % 7
            periods.append(
                OpeningPeriod(
                    open=OpeningTime(day=day, hour=opens // 60, minute=opens % 60),
                    close=OpeningTime(day=close_day, hour=(closes // 60) % 24, minute=closes % 60),
                )
            )
            cursor = closes + 1
            if closes >= 24 * 60:
                break
    return periods


@st.composite
def problems(draw: st.DrawFn) -> TripProblem:
    count = draw(st.integers(min_value=0, max_value=14))
    places: list[Place] = []
    for index in range(count):
        kind = draw(st.sampled_from(["restaurant", "cafe", "museum", "park", "viewpoint"]))
        meals = {"restaurant": [MealKind.LUNCH, MealKind.DINNER], "cafe": [MealKind.LUNCH]}.get(kind, [])
        places.append(
            place(
                f"p{index}",
                draw(st.integers(min_value=-6000, max_value=6000)),
                draw(st.integers(min_value=-6000, max_value=6000)),
                visit_minutes=draw(st.sampled_from([15, 45, 60, 120, 240])),
                priority=draw(st.floats(min_value=0, max_value=10)),
                periods=None,
                cost=draw(st.sampled_from([0.0, 3.5, 25.0, 120.0])),
                category=kind,
                meals=meals,
            ).model_copy(update={"opening_periods": draw(opening_periods())})
        )
    ids = [candidate.id for candidate in places]
    pairs = [frozenset((a, b)) for a in [HOTEL, *ids] for b in ids if a != b]
    unreachable = set(draw(st.lists(st.sampled_from(pairs), max_size=4))) if pairs else set()
    station = LatLng(lat=draw(st.integers(-3000, 3000)) / METRES_PER_DEGREE, lng=0.0)
    extra = {STATION: station}
    reduced_walking = draw(st.booleans())
    days = draw(st.integers(min_value=1, max_value=6))
    per_day_anchors = draw(st.booleans())
    anchors = (
        [DayAnchor(start_node_id=draw(st.sampled_from([HOTEL, STATION])), end_node_id=HOTEL) for _ in range(days)]
        if per_day_anchors
        else [DayAnchor(start_node_id=HOTEL, end_node_id=HOTEL)]
    )
    preferences = Preferences(
        pace=draw(st.sampled_from(list(Pace))),
        must_include_ids=draw(st.lists(st.sampled_from(ids), max_size=3, unique=True)) if ids else [],
        avoid_place_ids=draw(st.lists(st.sampled_from(ids), max_size=2, unique=True)) if ids else [],
        avoid_categories=draw(st.sampled_from([[], ["park"], ["restaurant", "viewpoint"]])),
        travellers=draw(st.integers(min_value=1, max_value=6)),
        budget_limit=draw(st.sampled_from([None, 0.0, 10.0, 80.0, 1000.0])),
        max_places_per_day=draw(st.sampled_from([None, 1, 3, 8])),
        reduced_walking=reduced_walking,
        lunch_window=draw(st.sampled_from([None, Preferences().lunch_window])),
        dinner_window=draw(st.sampled_from([None, Preferences().dinner_window])),
    )
    return problem(
        places,
        days=days,
        start=MONDAY + dt.timedelta(days=draw(st.integers(min_value=0, max_value=6))),
        preferences=preferences,
        matrix=walking_matrix(places, unreachable=unreachable, extra_nodes=extra),
        anchor=anchors[0],
        anchors=anchors,
        fallback_matrix=walking_matrix(places, mode=TravelMode.TRANSIT, metres_per_minute=400, extra_nodes=extra)
        if reduced_walking
        else None,
        transport_costs=TransportCosts(
            transit_fare_per_person_per_leg=draw(st.sampled_from([0.0, 2.5])),
            drive_cost_per_km=draw(st.sampled_from([0.0, 0.4])),
        ),
        solver_time_limit_seconds=1.0,
    )


@settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(trip=problems(), force_greedy=st.booleans())
def test_any_generated_problem_gives_a_plan_that_validates(trip: TripProblem, force_greedy: bool) -> None:
    plan = plan_trip(trip, force_greedy=force_greedy)
    assert validate(trip, plan) == []
    planned = [stop.place_id for day in plan.days for stop in day.stops]
    dropped = [drop.place_id for drop in plan.dropped]
    # No place twice, except a meal venue serving a meal on a second, different day (a trip with more meals than
    # venues).
    places = {candidate.id: candidate for candidate in trip.places}
    for place_id in {place_id for place_id in planned if planned.count(place_id) > 1}:
        uses = [(day.date, stop.meal) for day in plan.days for stop in day.stops if stop.place_id == place_id]
        assert len(uses) == 2, "no place twice"
        assert uses[0][0] != uses[1][0], "never twice on one day"
        assert all(meal is not None and meal in places[place_id].meal_kinds for _, meal in uses)
    assert sorted(set(planned) | set(dropped)) == sorted(candidate.id for candidate in trip.places)
    assert not set(planned) & set(dropped)
    assert all(drop.reason for drop in plan.dropped)
    assert [day.date for day in plan.days] == [
        trip.start_date + dt.timedelta(days=offset) for offset in range(trip.day_count)
    ]
