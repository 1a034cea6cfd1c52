"""``retime``: a plan re-timed on other travel times keeps each day's order; a day that no longer fits is emptied."""

from __future__ import annotations

from common.domain.itinerary import plan_trip, retime, validate
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
