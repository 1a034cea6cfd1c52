"""Property: any small generated problem yields a plan the independent validator accepts."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.domain.itinerary import MealKind, OpeningPeriod, Pace, Place, Preferences, TripProblem, plan_trip, validate
from tests.unit.itinerary.factories import MONDAY, daily_periods, place, problem

HOURS_CHOICES: list[list[OpeningPeriod] | None] = [
    None,
    daily_periods("00:00", "23:59"),
    daily_periods("09:00", "17:00"),
    daily_periods("10:00", "12:30") + daily_periods("14:00", "19:00"),
    daily_periods("09:00", "18:00", days=[0, 2, 4, 6]),
    daily_periods("11:30", "15:00") + daily_periods("18:30", "23:30"),
    daily_periods("18:00", "02:00"),
]


@st.composite
def small_problems(draw: st.DrawFn) -> TripProblem:
    count = draw(st.integers(min_value=1, max_value=9))
    places: list[Place] = []
    for index in range(count):
        is_restaurant = draw(st.booleans())
        places.append(
            place(
                f"p{index}",
                draw(st.integers(min_value=-3000, max_value=3000)),
                draw(st.integers(min_value=-3000, max_value=3000)),
                visit_minutes=draw(st.sampled_from([30, 60, 90, 150])),
                priority=draw(st.floats(min_value=0, max_value=5)),
                periods=draw(st.sampled_from(HOURS_CHOICES)),
                cost=draw(st.sampled_from([0.0, 5.0, 20.0])),
                category="restaurant" if is_restaurant else draw(st.sampled_from(["museum", "park"])),
                meals=[MealKind.LUNCH, MealKind.DINNER] if is_restaurant else [],
            )
        )
    ids = [candidate.id for candidate in places]
    preferences = Preferences(
        pace=draw(st.sampled_from(list(Pace))),
        must_include_ids=draw(st.lists(st.sampled_from(ids), max_size=2, unique=True)),
        avoid_categories=draw(st.sampled_from([[], ["park"]])),
        travellers=draw(st.integers(min_value=1, max_value=3)),
        budget_limit=draw(st.sampled_from([None, 0.0, 30.0, 200.0])),
        max_places_per_day=draw(st.sampled_from([None, 2, 5])),
    )
    days = draw(st.integers(min_value=1, max_value=3))
    start = MONDAY + dt.timedelta(days=draw(st.integers(min_value=0, max_value=6)))
    return problem(places, days=days, start=start, preferences=preferences, solver_time_limit_seconds=2.0)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trip=small_problems(), force_greedy=st.booleans())
def test_every_generated_plan_validates(trip: TripProblem, force_greedy: bool) -> None:
    plan = plan_trip(trip, force_greedy=force_greedy)
    assert validate(trip, plan) == []
    planned = [stop.place_id for day in plan.days for stop in day.stops]
    dropped = [drop.place_id for drop in plan.dropped]
    assert sorted(set(planned) | set(dropped)) == sorted(candidate.id for candidate in trip.places)
    assert not set(planned) & set(dropped)
    # A place comes back only as a meal venue serving a meal on a second, different day.
    places = {candidate.id: candidate for candidate in trip.places}
    for place_id in {place_id for place_id in planned if planned.count(place_id) > 1}:
        uses = [(day.date, stop.meal) for day in plan.days for stop in day.stops if stop.place_id == place_id]
        assert len(uses) == 2
        assert uses[0][0] != uses[1][0]
        assert all(meal is not None and meal in places[place_id].meal_kinds for _, meal in uses)
