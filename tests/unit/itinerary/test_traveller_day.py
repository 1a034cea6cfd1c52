"""A traveller's day (issue 13): meals on every full day apart from the sight cap, no unexplained idle hours, meal
venues reused only on another day, days kept in one part of the city. Pure, in-process; every plan is validated."""

from __future__ import annotations

import datetime as dt

from common.domain.itinerary import (
    DEFAULT_PACE_POLICIES,
    DayPlan,
    Itinerary,
    MealKind,
    Pace,
    Place,
    Preferences,
    Stop,
    TimeWindow,
    WarningCode,
    plan_trip,
    validate,
    with_day_windows,
)
from common.domain.itinerary.clusters import balanced_clusters, clustered_spread_km, spread_km
from common.domain.itinerary.planning import PlanningContext, Visit
from tests.unit.itinerary.factories import MONDAY, daily_periods, place, problem

BOTH = [MealKind.LUNCH, MealKind.DINNER]


def restaurant(place_id: str, east_m: float, north_m: float = 0.0) -> Place:
    return place(place_id, east_m, north_m, meals=BOTH, category="restaurant", visit_minutes=60)


def meals_of(day: DayPlan) -> list[MealKind]:
    return sorted(stop.meal for stop in day.stops if stop.meal is not None)


def idle_gaps(day: DayPlan) -> list[int]:
    gaps = []
    for previous, stop in zip(day.stops, day.stops[1:], strict=False):
        leg = stop.leg_from_previous.minutes if stop.leg_from_previous else 0
        gaps.append(stop.arrive_minute - previous.depart_minute - leg)
    return gaps


def test_a_full_day_has_lunch_and_dinner_on_top_of_the_sight_cap() -> None:
    sights = [place(f"s{index}", 300 * index, visit_minutes=90, priority=2) for index in range(1, 7)]
    venues = [restaurant("bistro", 600, 200), restaurant("trattoria", 900, -200), restaurant("diner", 1200, 100)]
    trip = problem([*sights, *venues], preferences=Preferences(pace=Pace.RELAXED))
    plan = plan_trip(trip)
    assert validate(trip, plan) == []
    day = plan.days[0]
    assert meals_of(day) == [MealKind.DINNER, MealKind.LUNCH]
    assert sum(1 for stop in day.stops if stop.meal is None) == DEFAULT_PACE_POLICIES[Pace.RELAXED].max_stops_per_day
    assert not [warning for warning in plan.warnings if warning.code == WarningCode.MEAL_MISSING]


def test_the_default_day_windows_require_both_meals_for_every_pace() -> None:
    for pace in Pace:
        trip = problem([place("s", 100)], preferences=Preferences(pace=pace))
        assert trip.required_meals() == (MealKind.LUNCH, MealKind.DINNER)


def test_a_traveller_may_opt_out_of_a_meal() -> None:
    sights = [place(f"s{index}", 300 * index, visit_minutes=90) for index in range(1, 4)]
    trip = problem(
        [*sights, restaurant("bistro", 600), restaurant("diner", 900)],
        preferences=Preferences(skip_meals=[MealKind.DINNER]),
    )
    plan = plan_trip(trip)
    assert validate(trip, plan) == []
    assert meals_of(plan.days[0]) == [MealKind.LUNCH]
    assert not [warning for warning in plan.warnings if warning.code == WarningCode.MEAL_MISSING]
    # The validator agrees that dinner is not required: a day without any meal lacks only lunch.
    bare = plan.model_copy(update={"days": [plan.days[0].model_copy(update={"stops": plan.days[0].stops[:1]})]})
    assert [violation.message for violation in validate(trip, bare) if violation.rule == "meal_missing"] == [
        "no lunch between 11:30 and 14:30"
    ]


def test_a_day_window_the_user_shortened_opts_out_of_dinner() -> None:
    sights = [place(f"s{index}", 300 * index, visit_minutes=90) for index in range(1, 4)]
    shortened = Preferences(day_window=TimeWindow(start="09:00", end="17:00"))
    trip = problem([*sights, restaurant("bistro", 600), restaurant("diner", 900)], preferences=shortened)
    plan = plan_trip(trip)
    assert validate(trip, plan) == []
    assert meals_of(plan.days[0]) == [MealKind.LUNCH]
    assert all(stop.depart_minute <= 17 * 60 for stop in plan.days[0].stops)


def test_a_wait_for_lunch_is_absorbed_by_lingering_and_a_later_start() -> None:
    # One sight next to the lodging, then lunch: earliest timing would wait two hours for the lunch window.
    trip = problem(
        [place("garden", 200, visit_minutes=60), restaurant("bistro", 400)],
        preferences=Preferences(skip_meals=[MealKind.DINNER]),
    )
    plan = plan_trip(trip)
    assert validate(trip, plan) == []
    day = plan.days[0]
    assert [stop.place_id for stop in day.stops] == ["garden", "bistro"]
    assert idle_gaps(day) == [0]
    garden = day.stops[0]
    assert garden.depart_minute - garden.arrive_minute > 60  # lingered (moderate pace: up to 96 minutes)
    assert garden.depart_minute - garden.arrive_minute <= 96
    assert not [warning for warning in plan.warnings if warning.code == WarningCode.IDLE_GAP]


def test_a_wait_for_a_place_that_opens_later_is_explained_and_the_validator_wants_the_explanation() -> None:
    early = place("market", 400, visit_minutes=60, periods=daily_periods("09:00", "11:00"))
    late = place("observatory", 800, visit_minutes=60, periods=daily_periods("15:00", "17:00"))
    preferences = Preferences(lunch_window=None, dinner_window=None, must_include_ids=["market", "observatory"])
    trip = problem([early, late], preferences=preferences)
    plan = plan_trip(trip)
    assert validate(trip, plan) == []
    day = plan.days[0]
    assert [stop.place_id for stop in day.stops] == ["market", "observatory"]
    assert day.stops[0].depart_minute == 11 * 60  # stays until it closes
    assert idle_gaps(day)[0] > 45
    idle = [warning for warning in plan.warnings if warning.code == WarningCode.IDLE_GAP]
    assert len(idle) == 1
    assert idle[0].day_index == 0
    assert "opens at 15:00" in idle[0].message
    unexplained = plan.model_copy(update={"warnings": [w for w in plan.warnings if w.code != WarningCode.IDLE_GAP]})
    assert [violation.rule for violation in validate(trip, unexplained)] == ["idle_gap"]


def test_a_short_idle_time_needs_no_warning() -> None:
    trip = problem([place("a", 400), place("b", 800)], preferences=Preferences(lunch_window=None, dinner_window=None))
    plan = Itinerary(
        days=[
            DayPlan(
                date=MONDAY,
                stops=[
                    Stop(place_id="a", arrive_minute=600, depart_minute=660),
                    Stop(place_id="b", arrive_minute=660 + 5 + 45, depart_minute=780),  # 5 minutes' walk, 45 idle
                ],
            )
        ]
    )
    assert validate(trip, plan) == []
    late = plan.model_copy(
        update={
            "days": [
                plan.days[0].model_copy(
                    update={"stops": [plan.days[0].stops[0], Stop(place_id="b", arrive_minute=711, depart_minute=780)]}
                )
            ]
        }
    )
    assert [violation.rule for violation in validate(trip, late)] == ["idle_gap"]


def test_a_meal_venue_serves_a_second_day_when_the_trip_has_more_meals_than_venues() -> None:
    sights = [place(f"s{index}", 300 * index, visit_minutes=90) for index in range(1, 7)]
    venues = [restaurant("bistro", 600, 200), restaurant("trattoria", 900, -200), restaurant("diner", 1200, 100)]
    trip = problem([*sights, *venues], days=2, preferences=Preferences())
    plan = plan_trip(trip)
    assert validate(trip, plan) == []
    assert [meals_of(day) for day in plan.days] == [[MealKind.DINNER, MealKind.LUNCH]] * 2
    for day in plan.days:
        assert len({stop.place_id for stop in day.stops}) == len(day.stops)  # never twice on one day
    uses = [stop.place_id for day in plan.days for stop in day.stops if stop.meal is not None]
    assert len(set(uses)) == 3  # every venue first, one of them twice


def test_a_venue_is_not_reused_while_new_ones_remain() -> None:
    venues = [restaurant(f"r{index}", 200 * index, 100) for index in range(1, 5)]
    trip = problem([place("s", 300), *venues], days=2, preferences=Preferences())
    plan = plan_trip(trip)
    assert validate(trip, plan) == []
    uses = [stop.place_id for day in plan.days for stop in day.stops if stop.meal is not None]
    assert len(uses) == 4
    assert len(set(uses)) == 4


def test_the_validator_refuses_one_venue_for_lunch_and_dinner_on_the_same_day() -> None:
    trip = problem([restaurant("bistro", 400)], preferences=Preferences())
    plan = Itinerary(
        days=[
            DayPlan(
                date=MONDAY,
                stops=[
                    Stop(place_id="bistro", arrive_minute=12 * 60, depart_minute=13 * 60, meal=MealKind.LUNCH),
                    Stop(place_id="bistro", arrive_minute=18 * 60, depart_minute=19 * 60, meal=MealKind.DINNER),
                ],
            )
        ],
        warnings=[],
    )
    rules = {violation.rule for violation in validate(trip, plan)}
    assert "place_repeated" in rules


def test_the_validator_refuses_a_sight_on_two_days_even_marked_as_a_meal() -> None:
    trip = problem([place("museum", 400)], days=2, preferences=Preferences(lunch_window=None, dinner_window=None))
    stop = Stop(place_id="museum", arrive_minute=12 * 60, depart_minute=13 * 60, meal=MealKind.LUNCH)
    plan = Itinerary(
        days=[DayPlan(date=MONDAY, stops=[stop]), DayPlan(date=MONDAY + dt.timedelta(days=1), stops=[stop])]
    )
    assert [violation.rule for violation in validate(trip, plan)] == ["place_repeated"]


def test_each_day_stays_in_one_part_of_the_city() -> None:
    west = [place(f"w{index}", -3000 - 150 * index, 100 * index, visit_minutes=60) for index in range(3)]
    east = [place(f"e{index}", 3000 + 150 * index, -100 * index, visit_minutes=60) for index in range(3)]
    preferences = Preferences(pace=Pace.RELAXED, lunch_window=None, dinner_window=None)
    trip = problem([*west, *east], days=2, preferences=preferences)
    plan = plan_trip(trip)
    assert validate(trip, plan) == []
    sides = [{stop.place_id[0] for stop in day.stops} for day in plan.days]
    assert sorted(map(sorted, sides)) == [["e"], ["w"]]


def test_area_costs_pull_each_day_towards_its_own_cluster() -> None:
    west = [place(f"w{index}", -3000 - 150 * index, 0) for index in range(3)]
    east = [place(f"e{index}", 3000 + 150 * index, 0) for index in range(3)]
    trip = problem([*west, *east], days=2)
    context = PlanningContext(trip)
    visits = [Visit(candidate) for candidate in trip.places]
    costs = context.area_costs(context.days, visits)
    first, second = costs[0], costs[1]
    west_day = 0 if first[0] < second[0] else 1
    east_day = 1 - west_day
    assert all(costs[west_day][index] < costs[east_day][index] for index in range(3))
    assert all(costs[east_day][index] < costs[west_day][index] for index in range(3, 6))
    assert PlanningContext(problem(trip.places, days=1)).area_costs(context.days[:1], visits) == {0: [0] * 6}


def test_balanced_clusters_have_even_sizes_and_beat_an_interleaved_split() -> None:
    points = [(0.0, 0.01 * index) for index in range(5)] + [(0.5, 0.01 * index) for index in range(4)]
    labels = balanced_clusters(points, 3)
    assert sorted(labels.count(group) for group in range(3)) == [3, 3, 3]
    interleaved = [[points[index] for index in range(len(points)) if index % 3 == group] for group in range(3)]
    clustered = clustered_spread_km(interleaved)
    assert clustered < sum(spread_km(group) for group in interleaved) / 3
    assert balanced_clusters(points, 1) == [0] * len(points)
    assert balanced_clusters([], 3) == []


def test_day_windows_per_pace_can_be_configured() -> None:
    policies = with_day_windows({"relaxed": (11 * 60, 20 * 60)})
    assert policies[Pace.RELAXED].day_window == TimeWindow(start="11:00", end="20:00")
    assert policies[Pace.RELAXED].max_stops_per_day == DEFAULT_PACE_POLICIES[Pace.RELAXED].max_stops_per_day
    assert policies[Pace.MODERATE] == DEFAULT_PACE_POLICIES[Pace.MODERATE]
    trip = problem([place("s", 100)], preferences=Preferences(pace=Pace.RELAXED), pace_policies=policies)
    assert trip.day_window == TimeWindow(start="11:00", end="20:00")
    assert trip.required_meals() == (MealKind.LUNCH, MealKind.DINNER)


def test_no_venue_comes_back_when_only_a_meal_no_venue_serves_is_short() -> None:
    # Lunch-only venues and no dinner venue (as the vegetarian demo in Kyoto): dinner cannot be had, lunch needs no
    # second use, so every lunch is at a new place and each day says dinner is missing.
    cafes = [
        place(f"cafe{index}", 300 * index, 100, meals=[MealKind.LUNCH], category="cafe", visit_minutes=45)
        for index in range(1, 5)
    ]
    sights = [place(f"s{index}", 250 * index, -100, visit_minutes=90) for index in range(1, 7)]
    trip = problem([*sights, *cafes], days=3, preferences=Preferences())
    plan = plan_trip(trip)
    assert validate(trip, plan) == []
    lunches = [stop.place_id for day in plan.days for stop in day.stops if stop.meal == MealKind.LUNCH]
    assert len(lunches) == 3
    assert len(set(lunches)) == 3
    missing = [(w.day_index, w.meal) for w in plan.warnings if w.code == WarningCode.MEAL_MISSING]
    assert missing == [(0, MealKind.DINNER), (1, MealKind.DINNER), (2, MealKind.DINNER)]


def test_sights_keep_to_their_area_unless_closed_there_or_required() -> None:
    west = [place(f"w{index}", -3000 - 150 * index, 0) for index in range(3)]
    east = [place(f"e{index}", 3000 + 150 * index, 0) for index in range(3)]
    # Open only on Tuesday (Google day 2), the trip's second day.
    tuesday_only = place("w3", -3100, 100, periods=daily_periods("09:00", "18:00", days=[2]))
    trip = problem([*west, *east, tuesday_only], days=2, preferences=Preferences(must_include_ids=["e2"]))
    context = PlanningContext(trip)
    visits = [Visit(candidate) for candidate in trip.places]
    homes = context.home_days(context.days, visits, {"e2"})
    assert len({frozenset(homes[f"w{index}"]) for index in range(3)}) == 1
    assert len(homes["w0"]) == 1
    assert homes["e0"] == homes["e1"] != homes["w0"]
    assert "e2" not in homes  # a must-include may go on any day
    assert homes["w3"] == {1}  # nearest area among the days it is open


def test_a_viewpoint_moves_after_dinner_when_it_costs_no_more_travel() -> None:
    museum = place("museum", 1200, visit_minutes=120, periods=daily_periods("09:00", "17:00"), category="museum")
    view = place("view", 2420, visit_minutes=45, category="viewpoint")  # open around the clock, next to the bistro
    venues = [restaurant("bistro", 2400), place("cafe", 1300, meals=[MealKind.LUNCH], category="cafe")]
    trip = problem([museum, view, *venues], preferences=Preferences(pace=Pace.RELAXED))
    plan = plan_trip(trip)
    assert validate(trip, plan) == []
    stops = plan.days[0].stops
    assert [stop.meal for stop in stops[-2:]] == [MealKind.DINNER, None]
    assert stops[-1].place_id == "view"
    assert stops[-1].arrive_minute >= 19 * 60
