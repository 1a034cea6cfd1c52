"""``retime``: a plan re-timed on other travel times keeps each day's order; a day that no longer fits is emptied."""

from __future__ import annotations

from common.domain.itinerary import Preferences, plan_trip, retime, trim_day, validate
from common.domain.itinerary.models import TravelMatrix
from tests.unit.itinerary.factories import daily_periods, place, problem, walking_matrix


def _slower(matrix: TravelMatrix, factor: float) -> TravelMatrix:
    seconds = [[None if cell is None else round(cell * factor) for cell in row] for row in matrix.seconds]
    return matrix.model_copy(update={"seconds": seconds})


def test_same_matrix_gives_the_same_plan() -> None:
    places = [place(f"p{index}", 400 * index, 300 * (index % 2)) for index in range(1, 5)]
    trip = problem(places, days=2)
    planned = plan_trip(trip, force_greedy=True)
    again, failed = retime(trip, planned)
    assert failed == []
    assert again.days == planned.days
    assert again.costs == planned.costs


def test_slower_legs_move_the_times_and_keep_the_order() -> None:
    places = [place(f"p{index}", 500 * index) for index in range(1, 4)]
    trip = problem(places)
    planned = plan_trip(trip, force_greedy=True)
    slower = trip.model_copy(update={"matrix": _slower(trip.matrix, 2.0)})
    retimed, failed = retime(slower, planned)
    assert failed == []
    assert [stop.place_id for stop in retimed.days[0].stops] == [stop.place_id for stop in planned.days[0].stops]
    assert retimed.days[0].travel_minutes > planned.days[0].travel_minutes
    assert retimed.days[0].stops[-1].arrive_minute > planned.days[0].stops[-1].arrive_minute
    assert validate(slower, retimed) == []


def test_a_day_that_no_longer_fits_is_emptied_and_named() -> None:
    # The museum closes at 12:00: on legs ten times slower it cannot be reached before closing.
    museum = place("museum", 3_000, visit_minutes=60, periods=daily_periods("09:00", "12:00"))
    park = place("park", 200)
    trip = problem([museum, park], days=2)
    planned = plan_trip(trip, force_greedy=True)
    day_of_museum = next(
        index for index, day in enumerate(planned.days) if any(stop.place_id == "museum" for stop in day.stops)
    )
    slower = trip.model_copy(update={"matrix": _slower(walking_matrix([museum, park]), 10.0)})
    retimed, failed = retime(slower, planned)
    assert failed == [day_of_museum]
    assert retimed.days[day_of_museum].stops == []
    assert "museum" in {drop.place_id for drop in retimed.dropped}
    assert validate(slower, retimed) == []


def test_trim_drops_one_sight_so_the_day_fits_and_keeps_the_must_include() -> None:
    # Three sights in a row, 2 km apart; on legs four times slower only two fit before the museum closes.
    first = place("first", 2_000, priority=5.0, periods=daily_periods("09:00", "13:00"))
    low = place("low", 4_000, priority=1.0)
    high = place("high", 6_000, priority=3.0, periods=daily_periods("09:00", "13:00"))
    trip = problem(
        [first, low, high], preferences=Preferences(lunch_window=None, dinner_window=None, must_include_ids=["first"])
    )
    planned = plan_trip(trip, force_greedy=True)
    assert {stop.place_id for stop in planned.days[0].stops} == {"first", "low", "high"}
    slower = trip.model_copy(update={"matrix": _slower(trip.matrix, 4.0)})
    _, failed = retime(slower, planned)
    assert failed == [0]
    trimmed = trim_day(slower, planned, 0)
    assert trimmed is not None
    kept = [stop.place_id for stop in trimmed.days[0].stops]
    assert "first" in kept
    assert len(kept) == 2
    again, failed = retime(slower, trimmed)
    assert failed == []
    assert validate(slower, again) == []


def test_trim_gives_up_when_only_must_includes_could_go() -> None:
    one = place("one", 1_500, periods=daily_periods("09:00", "12:00"))
    two = place("two", 3_000, periods=daily_periods("09:00", "12:00"))
    preferences = Preferences(lunch_window=None, dinner_window=None, must_include_ids=["one", "two"])
    trip = problem([one, two], preferences=preferences)
    planned = plan_trip(trip, force_greedy=True)
    assert sorted(stop.place_id for stop in planned.days[0].stops) == ["one", "two"]
    slower = trip.model_copy(update={"matrix": _slower(trip.matrix, 10.0)})
    assert retime(slower, planned)[1] == [0]
    assert trim_day(slower, planned, 0) is None
