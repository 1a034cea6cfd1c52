"""A day's shape as a traveller lives it: out near the start of the day window, no crossing town to fill a wait,
must-includes on a day of their own area. Pure, in-process; every plan is validated."""

from __future__ import annotations

from common.domain.itinerary import MealKind, Pace, Preferences, WarningCode, plan_trip, validate
from common.domain.itinerary.daytime import DAY_TRAVEL_FACTOR, dead_minutes, well_timed
from common.domain.itinerary.planning import PlanningContext, Visit
from tests.unit.itinerary.factories import daily_periods, place, problem


def test_a_long_wait_for_dinner_is_spread_over_the_days_sights_not_moved_to_the_morning() -> None:
    sights = [place(name, 80 * (index + 1)) for index, name in enumerate(("a", "b", "c"))]
    bistro = place("bistro", 320, meals=[MealKind.DINNER], category="restaurant")
    trip = problem([*sights, bistro], preferences=Preferences(skip_meals=[MealKind.LUNCH]))  # moderate: 09:00-22:00
    context = PlanningContext(trip)
    day = context.days[0]
    earliest = context.schedule(day, [*(Visit(sight) for sight in sights), Visit(bistro, MealKind.DINNER)])
    assert earliest is not None
    settled = context.settle(earliest)
    # Each sight may stay up to 60 * 1.6 = 96 minutes: 3 x 36 minutes of the 356-minute wait are spent there, and
    # only the rest (248) starts the day later; stretching the last sight alone started it at 14:21.
    assert [timed.stay for timed in settled.visits[:3]] == [96, 96, 96]
    assert settled.visits[0].arrive_minute == 9 * 60 + 1 + 248
    assert settled.visits[3].arrive_minute == 18 * 60
    assert context.waits(settled) == []


def _lunch_first_trip() -> tuple[PlanningContext, list[Visit]]:
    # The restaurant lies on the way out: the least travel order (139 minutes) has lunch first, reached at 09:50,
    # long before its window; its reverse ends too late for lunch. Lunch between the sights costs 145 minutes.
    bistro = place("bistro", 4000, meals=[MealKind.LUNCH], category="restaurant")
    sights = [place("museum", 4000, 400, visit_minutes=180), place("garden", 4000, 2400, visit_minutes=180)]
    trip = problem([bistro, *sights], preferences=Preferences(skip_meals=[MealKind.DINNER]))
    context = PlanningContext(trip)
    return context, [Visit(bistro, MealKind.LUNCH), *(Visit(sight) for sight in sights)]


def test_the_least_travel_order_that_starts_with_lunch_gives_way_to_a_morning_of_sights() -> None:
    context, visits = _lunch_first_trip()
    day = context.days[0]
    lunch_first = context.schedule(day, visits)
    assert lunch_first is not None
    best = context.best_order(day, visits)
    assert best is not None
    assert best.travel_minutes == lunch_first.travel_minutes
    assert dead_minutes(context, lunch_first) > 60  # settled, the day would leave after 10:00

    shaped = well_timed(context, lunch_first)
    assert shaped.visits[0].visit.meal is None
    assert dead_minutes(context, shaped) == 0
    assert shaped.travel_minutes <= best.travel_minutes * DAY_TRAVEL_FACTOR


def test_a_planned_day_leaves_near_the_start_of_its_window() -> None:
    context, _ = _lunch_first_trip()
    plan = plan_trip(context.problem)
    assert validate(context.problem, plan) == []
    day = plan.days[0]
    assert len(day.stops) == 3
    assert day.stops[0].meal is None
    assert day.start_minute == 9 * 60  # the least travel order would leave at 10:40


def test_a_wait_is_not_filled_by_crossing_town_with_a_sight_of_the_day() -> None:
    # A loop east, north-east, north and home. The square closes at 11:00, the view opens at 15:00, the park at
    # 16:00: only the tower could fill the wait before the view, crossing the loop (184 minutes of travel, not 153).
    square = place("square", 100, 0, periods=daily_periods("09:00", "11:00"))
    view = place("view", 3000, 0, periods=daily_periods("15:00", "22:00"))
    tower = place("tower", 3000, 3000)
    park = place("park", 0, 3000, periods=daily_periods("16:00", "22:00"))
    ids = ["square", "view", "tower", "park"]
    preferences = Preferences(lunch_window=None, dinner_window=None, must_include_ids=ids)
    trip = problem([square, view, tower, park], preferences=preferences)
    plan = plan_trip(trip)
    assert validate(trip, plan) == []
    day = plan.days[0]
    assert [stop.place_id for stop in day.stops] == ids
    assert day.travel_minutes == 153
    assert any(warning.code == WarningCode.IDLE_GAP for warning in plan.warnings)  # the wait is said, not hidden


def test_a_must_include_goes_on_the_day_of_its_area_and_displaces_a_lesser_sight_there() -> None:
    # Relaxed: three sights a day. The east has three sights and the must-include; the west two. Left free, the
    # shrine filled the west's spare place and the day crossed town (165 minutes of travel against 82).
    west = [place(f"w{index}", -3000 - 200 * index, 100 * index, priority=2.0) for index in range(2)]
    east = [place(f"e{index}", 3000 + 200 * index, 100 * index, priority=1.0 + index / 10) for index in range(3)]
    shrine = place("shrine", 3300, -300, priority=1.0)
    trip = problem(
        [*west, *east, shrine],
        days=2,
        preferences=Preferences(pace=Pace.RELAXED, must_include_ids=["shrine"], lunch_window=None, dinner_window=None),
    )
    plan = plan_trip(trip)
    assert validate(trip, plan) == []
    day_of = {stop.place_id: index for index, day in enumerate(plan.days) for stop in day.stops}
    assert "shrine" in day_of
    east_days = {day_of[sight.id] for sight in east if sight.id in day_of}
    assert east_days == {day_of["shrine"]}
    assert {day_of[sight.id] for sight in west} == {1 - day_of["shrine"]}
    assert "e0" not in day_of  # the east's least sight made room


def test_must_includes_that_overfill_their_area_still_all_go_in_the_plan() -> None:
    # Four must-includes in the east, three sights a day: one has to go on the western day.
    west = [place(f"w{index}", -3000 - 200 * index, 100 * index) for index in range(2)]
    east = [place(f"e{index}", 3000 + 200 * index, 100 * index) for index in range(4)]
    must = [sight.id for sight in east]
    preferences = Preferences(pace=Pace.RELAXED, must_include_ids=must, lunch_window=None, dinner_window=None)
    trip = problem([*west, *east], days=2, preferences=preferences)
    for force_greedy in (False, True):
        plan = plan_trip(trip, force_greedy=force_greedy)
        assert validate(trip, plan) == []
        planned = {stop.place_id for day in plan.days for stop in day.stops}
        assert set(must) <= planned


def test_a_park_is_left_before_the_evening_and_never_planned_after_dinner_unlike_a_viewpoint() -> None:
    bistro = place("bistro", 300, meals=[MealKind.DINNER], category="restaurant")
    park = place("park", 600, visit_minutes=90, category="park").model_copy(update={"outdoor": True})
    view = place("view", 600, visit_minutes=60, category="viewpoint").model_copy(update={"outdoor": True})
    trip = problem([bistro, park, view], preferences=Preferences(skip_meals=[MealKind.LUNCH]))
    context = PlanningContext(trip)
    day = context.days[0]
    dinner = trip.preferences.dinner_window
    assert dinner is not None
    assert park.daylight_only
    assert not view.daylight_only
    assert max(high for _, high in context.arrival_windows(Visit(park), day)) == dinner.start - 90
    assert context.schedule(day, [Visit(bistro, MealKind.DINNER), Visit(park)]) is None
    assert context.schedule(day, [Visit(bistro, MealKind.DINNER), Visit(view)]) is not None
    plan = plan_trip(trip)
    assert validate(trip, plan) == []
    stops = plan.days[0].stops
    assert [stop.place_id for stop in stops].index("park") < [stop.meal for stop in stops].index(MealKind.DINNER)
