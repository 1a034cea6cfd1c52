"""Engine behaviour on small problems with known answers; every plan is also checked by the validator."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from common.domain.itinerary import (
    DayAnchor,
    DropReason,
    Itinerary,
    LatLng,
    MealKind,
    Pace,
    Preferences,
    Producer,
    TimeWindow,
    TravelMode,
    TripProblem,
    WarningCode,
    plan_trip,
    replan_day,
    validate,
)
from common.domain.itinerary.hours import open_intervals_on
from tests.unit.itinerary.factories import METRES_PER_DEGREE, MONDAY, daily_periods, place, problem, walking_matrix

NO_MEALS = Preferences(lunch_window=None, dinner_window=None)


def planned_ids(plan: Itinerary) -> list[list[str]]:
    return [[stop.place_id for stop in day.stops] for day in plan.days]


def assert_valid(trip: TripProblem, plan: Itinerary) -> None:
    assert validate(trip, plan) == []


def drop_reason(plan: Itinerary, place_id: str) -> DropReason:
    return next(drop.reason for drop in plan.dropped if drop.place_id == place_id)


@pytest.mark.parametrize("force_greedy", [False, True])
def test_points_on_a_line_are_visited_in_order(force_greedy: bool) -> None:
    places = [place(f"p{metres}", metres) for metres in (2400, 800, 3200, 1600)]
    station = LatLng(lat=0, lng=4000 / METRES_PER_DEGREE)  # the day ends at the far end of the line
    matrix = walking_matrix(places, extra_nodes={"station": station})
    anchor = DayAnchor(start_node_id="hotel", end_node_id="station")
    trip = problem(places, preferences=NO_MEALS, matrix=matrix, anchor=anchor)
    plan = plan_trip(trip, force_greedy=force_greedy)
    assert planned_ids(plan) == [["p800", "p1600", "p2400", "p3200"]]
    assert plan.days[0].travel_minutes == 50  # 4 km at 80 m/min
    assert plan.produced_by == (Producer.GREEDY if force_greedy else Producer.SOLVER)
    assert_valid(trip, plan)


def test_times_and_legs_are_consistent() -> None:
    trip = problem([place("a", 800, visit_minutes=45)], preferences=NO_MEALS)
    day = plan_trip(trip).days[0]
    only = day.stops[0]
    assert (only.arrive, only.depart) == ("09:10", "09:55")
    assert only.leg_from_previous is not None
    assert only.leg_from_previous.minutes == 10
    assert day.leg_to_end is not None
    assert day.leg_to_end.metres == 800
    assert (day.start_minute, day.end_minute, day.travel_minutes) == (540, 605, 20)


def test_museum_closed_on_tuesday_is_never_planned_on_a_tuesday() -> None:
    not_tuesday = [0, 1, 3, 4, 5, 6]
    museum = place("museum", 500, priority=10, periods=daily_periods("09:00", "18:00", days=not_tuesday))
    fillers = [place(f"sight{index}", 300 + 100 * index) for index in range(6)]
    trip = problem([museum, *fillers], days=3, start=MONDAY + dt.timedelta(days=1), preferences=NO_MEALS)
    plan = plan_trip(trip)
    museum_days = [day.date for day in plan.days for stop in day.stops if stop.place_id == "museum"]
    assert len(museum_days) == 1
    assert museum_days[0].isoweekday() != 2
    assert_valid(trip, plan)


def test_only_open_on_a_closed_day_is_dropped_as_closed() -> None:
    museum = place("museum", 500, periods=daily_periods("09:00", "18:00", days=[2]), priority=5)
    trip = problem([museum], days=1, preferences=NO_MEALS.model_copy(update={"must_include_ids": ["museum"]}))
    plan = plan_trip(trip)
    assert drop_reason(plan, "museum") == DropReason.CLOSED
    assert [warning.code for warning in plan.warnings] == [WarningCode.MUST_INCLUDE_DROPPED]
    assert_valid(trip, plan)


def test_lunch_break_closure_is_respected() -> None:
    split_hours = daily_periods("09:00", "12:00") + daily_periods("14:00", "18:00")
    shop = place("shop", 800, visit_minutes=90, periods=split_hours, priority=5)
    trip = problem(
        [shop],
        preferences=NO_MEALS.model_copy(update={"day_window": TimeWindow(start="10:45", end="19:00")}),
    )
    stop = plan_trip(trip).days[0].stops[0]
    # 10:55 is too late for the morning (ends 12:25 > 12:00): the visit waits for the afternoon opening.
    assert (stop.arrive, stop.depart) == ("14:00", "15:30")
    assert open_intervals_on(split_hours, MONDAY) == [(540, 720), (840, 1080)]


def test_lunch_is_planned_inside_the_window() -> None:
    preferences = Preferences(lunch_window=TimeWindow(start="12:00", end="14:00"), dinner_window=None)
    places = [
        place("sight", 400, visit_minutes=120),
        place("bistro", 800, meals=[MealKind.LUNCH], category="restaurant", visit_minutes=60),
        place("diner", 5000, meals=[MealKind.LUNCH], category="restaurant", visit_minutes=60),
    ]
    trip = problem(places, preferences=preferences)
    plan = plan_trip(trip)
    lunches = [stop for stop in plan.days[0].stops if stop.meal == MealKind.LUNCH]
    assert [stop.place_id for stop in lunches] == ["bistro"]
    assert 12 * 60 <= lunches[0].arrive_minute <= 14 * 60
    assert drop_reason(plan, "diner") == DropReason.MEAL_NOT_NEEDED
    assert_valid(trip, plan)


def test_day_without_a_fitting_restaurant_gets_a_meal_warning() -> None:
    preferences = Preferences(lunch_window=TimeWindow(start="12:00", end="14:00"), dinner_window=None)
    closed_at_lunch = place("bistro", 800, meals=[MealKind.LUNCH], periods=daily_periods("18:00", "23:00"))
    trip = problem([closed_at_lunch, place("sight", 400)], preferences=preferences)
    plan = plan_trip(trip)
    assert [warning.code for warning in plan.warnings] == [WarningCode.MEAL_MISSING]
    assert_valid(trip, plan)


def test_impossible_must_include_is_dropped_with_a_warning() -> None:
    too_long = place("cathedral", 800, visit_minutes=800, priority=1)  # longer than the 780-minute day
    trip = problem(
        [too_long, place("park", 400)], preferences=NO_MEALS.model_copy(update={"must_include_ids": ["cathedral"]})
    )
    plan = plan_trip(trip)
    assert planned_ids(plan) == [["park"]]
    assert drop_reason(plan, "cathedral") == DropReason.CLOSED
    warning = next(warning for warning in plan.warnings if warning.code == WarningCode.MUST_INCLUDE_DROPPED)
    assert warning.place_id == "cathedral"
    assert_valid(trip, plan)


def test_must_include_beats_higher_priorities() -> None:
    wanted = place("wanted", 4000, priority=0.1, visit_minutes=300)
    others = [place(f"star{index}", 400 * index, priority=9, visit_minutes=120) for index in range(1, 5)]
    trip = problem([wanted, *others], preferences=NO_MEALS.model_copy(update={"must_include_ids": ["wanted"]}))
    plan = plan_trip(trip)
    assert "wanted" in planned_ids(plan)[0]
    assert_valid(trip, plan)


def test_avoided_and_unreachable_places_are_dropped_with_reasons() -> None:
    places = [place("park", 400), place("church", 800, category="religious_site"), place("island", 900)]
    matrix = walking_matrix(places, unreachable={frozenset(("hotel", "island"))})
    preferences = NO_MEALS.model_copy(update={"avoid_categories": ["religious_site"]})
    trip = problem(places, preferences=preferences, matrix=matrix)
    plan = plan_trip(trip)
    assert planned_ids(plan) == [["park"]]
    assert drop_reason(plan, "church") == DropReason.AVOIDED
    assert drop_reason(plan, "island") == DropReason.UNREACHABLE
    assert_valid(trip, plan)


def test_zero_budget_keeps_only_free_places() -> None:
    places = [place("free", 400), place("paid", 800, cost=5, priority=9), place("free2", 1200)]
    trip = problem(places, preferences=NO_MEALS.model_copy(update={"budget_limit": 0.0}))
    plan = plan_trip(trip)
    assert sorted(planned_ids(plan)[0]) == ["free", "free2"]
    assert drop_reason(plan, "paid") == DropReason.OVER_BUDGET
    assert plan.costs.total == 0
    assert plan.costs.within_budget
    assert_valid(trip, plan)


def test_budget_post_pass_drops_lowest_value_per_cost() -> None:
    places = [
        place("cheap-good", 400, cost=10, priority=5),
        place("dear-meh", 800, cost=30, priority=1),
        place("dear-good", 1200, cost=30, priority=8),
    ]
    trip = problem(places, preferences=NO_MEALS.model_copy(update={"budget_limit": 45.0, "travellers": 1}))
    plan = plan_trip(trip)
    assert sorted(planned_ids(plan)[0]) == ["cheap-good", "dear-good"]
    assert drop_reason(plan, "dear-meh") == DropReason.OVER_BUDGET
    assert plan.costs.activities == 40
    assert_valid(trip, plan)


def test_must_includes_over_budget_stay_with_a_warning() -> None:
    trip = problem(
        [place("opera", 400, cost=100)],
        preferences=NO_MEALS.model_copy(update={"budget_limit": 50.0, "must_include_ids": ["opera"]}),
    )
    plan = plan_trip(trip)
    assert planned_ids(plan) == [["opera"]]
    assert [warning.code for warning in plan.warnings] == [WarningCode.BUDGET_EXCEEDED]
    assert_valid(trip, plan)


def test_pace_caps_stops_per_day() -> None:
    places = [place(f"s{index}", 100 * index, visit_minutes=20) for index in range(1, 12)]
    trip = problem(places, preferences=NO_MEALS.model_copy(update={"pace": Pace.RELAXED}))
    plan = plan_trip(trip)
    # The relaxed pace allows 3 sights a day (it allowed 4 stops, meals included, before meals were counted apart).
    assert len(plan.days[0].stops) == 3
    capped = problem(places, preferences=NO_MEALS.model_copy(update={"pace": Pace.PACKED, "max_places_per_day": 3}))
    assert len(plan_trip(capped).days[0].stops) == 3


def test_one_day_trip_with_meals_validates() -> None:
    places = [
        place("sight1", 500, visit_minutes=120, priority=3),
        place("sight2", 1500, visit_minutes=90, priority=2),
        place("lunch", 1000, meals=[MealKind.LUNCH, MealKind.DINNER], category="restaurant", cost=20),
        place("dinner", 700, meals=[MealKind.DINNER], category="restaurant", cost=30),
    ]
    trip = problem(places, preferences=Preferences(pace=Pace.PACKED, travellers=2))
    plan = plan_trip(trip)
    meals = {stop.meal: stop.place_id for stop in plan.days[0].stops if stop.meal}
    assert set(meals) == {MealKind.LUNCH, MealKind.DINNER}
    assert plan.costs.food == 100
    assert_valid(trip, plan)


def test_thirty_day_trip_runs_in_reasonable_time() -> None:
    places = [
        place(
            f"s{index}",
            300 * (index % 9),
            300 * (index // 9),
            priority=1 + index % 5,
            visit_minutes=60 + index % 3 * 30,
        )
        for index in range(60)
    ] + [
        place(f"r{index}", 200 * index, 150, meals=[MealKind.LUNCH, MealKind.DINNER], category="restaurant")
        for index in range(20)
    ]
    trip = problem(places, days=30, preferences=Preferences(pace=Pace.MODERATE))
    started = time.monotonic()
    plan = plan_trip(trip)
    assert time.monotonic() - started < 15
    assert len(plan.days) == 30
    assert sum(len(day.stops) for day in plan.days) >= 60
    assert_valid(trip, plan)


def test_same_input_gives_the_same_plan() -> None:
    places = [place(f"s{index}", 250 * (index % 5), 250 * (index // 5), priority=index % 4 + 1) for index in range(15)]
    places += [
        place(f"r{index}", 300 * index, 100, meals=[MealKind.LUNCH], category="restaurant") for index in range(4)
    ]
    trip = problem(places, days=3, preferences=Preferences(dinner_window=None))
    first, second = plan_trip(trip), plan_trip(trip)
    assert first.model_dump(exclude={"solve_seconds"}) == second.model_dump(exclude={"solve_seconds"})


def replan_fixture() -> TripProblem:
    places = [place(f"s{index}", 200 * (index % 6), 200 * (index // 6), priority=1 + index % 3) for index in range(18)]
    places += [place(f"r{index}", 250 * index, 50, meals=[MealKind.LUNCH], category="restaurant") for index in range(6)]
    return problem(places, days=3, preferences=Preferences(dinner_window=None, pace=Pace.RELAXED))


def test_replan_leaves_other_days_identical_and_never_repeats() -> None:
    trip = replan_fixture()
    original = plan_trip(trip)
    used_on_day_1 = [stop.place_id for stop in original.days[1].stops]
    overrides = dict.fromkeys(used_on_day_1, 0.0)
    replanned = replan_day(trip, original, 1, priority_overrides=overrides)
    assert replanned.days[0] == original.days[0]
    assert replanned.days[2] == original.days[2]
    all_ids = [place_id for day in planned_ids(replanned) for place_id in day]
    assert len(all_ids) == len(set(all_ids))
    assert planned_ids(replanned)[1] != used_on_day_1
    assert_valid(trip, replanned)


def test_replan_with_greedy_also_validates() -> None:
    trip = replan_fixture()
    replanned = replan_day(trip, plan_trip(trip), 0, force_greedy=True)
    assert replanned.produced_by == Producer.GREEDY
    assert_valid(trip, replanned)


def test_replan_rejects_a_day_outside_the_trip() -> None:
    trip = replan_fixture()
    with pytest.raises(ValueError, match="outside the trip"):
        replan_day(trip, plan_trip(trip), 3)


def test_greedy_fallback_validates_on_a_multi_day_trip() -> None:
    trip = replan_fixture()
    plan = plan_trip(trip, force_greedy=True)
    assert plan.produced_by == Producer.GREEDY
    assert sum(len(day.stops) for day in plan.days) == 12  # relaxed: 4 stops a day, lunch included
    assert_valid(trip, plan)


def test_reduced_walking_uses_the_fallback_matrix_for_long_walks() -> None:
    places = [place("near", 400), place("far", 4000)]
    transit = walking_matrix(places, mode=TravelMode.TRANSIT, metres_per_minute=400)
    preferences = NO_MEALS.model_copy(update={"reduced_walking": True, "max_walk_minutes": 15})
    trip = problem(places, preferences=preferences, fallback_matrix=transit)
    plan = plan_trip(trip)
    legs = {stop.place_id: stop.leg_from_previous for stop in plan.days[0].stops}
    modes = {place_id: leg.mode for place_id, leg in legs.items() if leg}
    assert TravelMode.TRANSIT in modes.values()
    assert_valid(trip, plan)


def test_a_search_cut_by_the_time_limit_says_so_and_still_validates() -> None:
    trip = replan_fixture().model_copy(update={"solver_time_limit_seconds": 0.001})
    plan = plan_trip(trip)
    assert WarningCode.SOLVER_TIME_LIMIT in [warning.code for warning in plan.warnings]
    assert_valid(trip, plan)
