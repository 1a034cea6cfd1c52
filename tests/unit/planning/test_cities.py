"""How a multi-city trip's days are shared: each city's days, when a transfer leaves and what is left of its day at
each end, what it costs, and that a travel day's stops never overlap its transfer."""

from __future__ import annotations

import datetime as dt

from common.domain.itinerary import TimeWindow
from common.services.planning.cities import (
    SETTLE_MIN,
    TransferRoute,
    city_days,
    plan_travel_day,
    transfer_cost,
    transfer_overlaps,
    travel_day,
)
from common.services.trips.models import CityStay, Day, MealKind, Money, Stop, Transfer, TransferMode
from tests.unit.trips.factories import trip_from

MODERATE = TimeWindow(start=9 * 60, end=22 * 60)
DATE = dt.date(2027, 4, 5)  # Europe on summer time: London UTC+1, Paris UTC+2


def route(
    minutes: int, mode: TransferMode = "transit", metres: int = 450_000, estimated: bool = False
) -> TransferRoute:
    return TransferRoute(
        from_index=0, to_index=1, mode=mode, duration_min=minutes, distance_m=metres, estimated=estimated
    )


def stay(name: str, nights: int | None) -> CityStay:
    return CityStay(destination=name, nights=nights)


def test_each_city_gets_its_nights_and_a_travel_day_counts_for_the_city_reached() -> None:
    assert city_days([stay("Tokyo", 3), stay("Kyoto", 2)], 6) == [(0, 2), (3, 5)]
    # A one-night middle city has its arrival day only: the next morning is the next travel day.
    assert city_days([stay("A", 2), stay("B", 1), stay("C", 2)], 6) == [(0, 1), (2, 2), (3, 5)]


def test_a_short_move_leaves_after_breakfast_and_leaves_the_afternoon_for_the_city_reached() -> None:
    travel = plan_travel_day(route(148), DATE, "Asia/Tokyo", "Asia/Tokyo", MODERATE)
    assert (travel.depart_minute, travel.arrive_minute) == (9 * 60, 9 * 60 + 148)
    assert travel.before is None
    assert travel.after == TimeWindow(start=9 * 60 + 148 + SETTLE_MIN, end=22 * 60)


def test_arrival_is_in_the_local_time_of_the_city_reached() -> None:
    travel = plan_travel_day(route(143), DATE, "Europe/London", "Europe/Paris", MODERATE)
    assert travel.arrive_minute == 9 * 60 + 143 + 60, "Paris is an hour ahead of London"


def test_a_middling_move_leaves_after_lunch_with_a_morning_at_one_end_and_dinner_at_the_other() -> None:
    travel = plan_travel_day(route(268, "flight", 1_100_000, True), DATE, "Europe/Rome", "Europe/Paris", MODERATE)
    assert travel.depart_minute == 14 * 60
    assert travel.before == TimeWindow(start=9 * 60, end=14 * 60)
    assert travel.after is not None
    assert travel.after.start == 14 * 60 + 268 + SETTLE_MIN
    assert travel.after.end - travel.after.start >= 90, "room for dinner"


def test_a_long_move_leaves_in_the_morning_so_the_evening_is_left() -> None:
    travel = plan_travel_day(route(420, "drive"), DATE, "Europe/Rome", "Europe/Rome", MODERATE)
    assert travel.depart_minute == 9 * 60
    assert travel.before is None
    assert travel.after is not None
    assert travel.after.start == 9 * 60 + 420 + SETTLE_MIN


def test_costs_follow_the_mode_and_the_group() -> None:
    rail = transfer_cost(route(148, "transit", 450_000), 2, "USD")
    assert rail == 180.0, "0.20 USD per km and traveller"
    assert transfer_cost(route(300, "drive", 450_000), 2, "USD") == transfer_cost(
        route(300, "drive", 450_000), 1, "USD"
    )
    flight = transfer_cost(route(268, "flight", 1_100_000, True), 1, "USD")
    assert flight == 60 + 0.12 * 1100


def _stop(name: str, arrive: str, depart: str, meal: MealKind | None = None, cost: float = 10.0) -> Stop:
    return Stop(
        place_id=name.lower(),
        name=name,
        category="restaurant" if meal else "museum",
        location=None,
        arrive=arrive,
        depart=depart,
        duration_min=60,
        cost_estimate=Money(amount=cost, currency="EUR"),
        description="",
        travel_from_previous=None,
        meal=meal,
    )


def _part(stops: list[Stop], theme: str) -> Day:
    total = sum(stop.cost_estimate.amount for stop in stops)
    return Day(
        date=DATE,
        theme=theme,
        summary="",
        stops=stops,
        travel_min=20,
        cost_estimate=Money(amount=total + 5, currency="EUR"),
        cost_by_category={"activities": total, "food": 0.0, "local_transport": 5.0},
    )


def _transfer(depart: str, arrive: str) -> Transfer:
    return Transfer(
        from_city=0,
        to_city=1,
        from_name="Rome",
        to_name="Paris",
        mode="flight",
        depart=depart,
        arrive=arrive,
        duration_min=268,
        distance_m=1_100_000,
        cost_estimate=Money(amount=300.0, currency="EUR"),
        estimated=True,
        source="estimate",
        label="Flight from Rome to Paris",
    )


def test_a_travel_day_puts_the_morning_the_transfer_and_the_evening_together_and_counts_the_transfer() -> None:
    morning = _part([_stop("Colosseum", "09:30", "11:00"), _stop("Trattoria", "12:00", "13:15", "lunch")], "Ruins")
    evening = _part([_stop("Bistro", "19:00", "20:30", "dinner")], "Food")
    day = travel_day(DATE, 1, _transfer("14:00", "18:28"), morning, evening)
    assert [stop.name for stop in day.stops] == ["Colosseum", "Trattoria", "Bistro"]
    assert day.city == 1
    assert day.transfer is not None
    assert day.cost_by_category is not None
    assert day.cost_by_category["transfers"] == 300.0
    assert day.cost_estimate.amount == morning.cost_estimate.amount + evening.cost_estimate.amount + 300.0
    assert day.theme == "Ruins in Rome, then Paris", "the evening has only dinner: the morning names the day"
    assert "flight at 14:00, in Paris at 18:28" in day.summary
    assert "estimated" in day.summary
    assert transfer_overlaps(day) == []
    before, after = day.stops_around_transfer()
    assert [stop.name for stop in before] == ["Colosseum", "Trattoria"]
    assert [stop.name for stop in after] == ["Bistro"]


def test_a_stop_running_into_the_transfer_is_found() -> None:
    late = _part([_stop("Colosseum", "12:30", "14:30")], "Ruins")
    early = _part([_stop("Bistro", "18:00", "19:00", "dinner")], "Food")
    day = travel_day(DATE, 1, _transfer("14:00", "18:28"), late, early)
    assert transfer_overlaps(day) == [
        "Colosseum ends at 14:30, after the departure",
        "Bistro starts at 18:00, before the arrival",
    ]


def test_city_of_finds_each_days_city_and_falls_back_to_the_destination() -> None:
    city = {"place_id": "p", "location": {"lat": 1.0, "lng": 2.0}, "nights": 1}
    trip = trip_from(
        {
            "destination": {"name": "Rome"},
            "cities": [
                city | {"name": "Rome", "time_zone": "Europe/Rome", "first_day": 1, "last_day": 1},
                city | {"name": "Paris", "time_zone": "Europe/Paris", "first_day": 2, "last_day": 2, "place_id": "q"},
            ],
            "days": [{"date": "2027-04-05", "city": 0}, {"date": "2027-04-06", "city": 1}],
        }
    )
    assert [trip.city_of(index).name for index in (0, 1)] == ["Rome", "Paris"]  # type: ignore[union-attr]
    single = trip_from({"destination": {"name": "Kyoto"}, "days": [{"date": "2027-04-05"}]})
    found = single.city_of(0)
    assert found is not None
    assert (found.name, found.time_zone) == ("Kyoto", "Europe/Paris")


def test_a_meal_the_travel_day_has_no_room_for_is_eaten_on_the_way_and_said_so() -> None:
    evening = _part([_stop("Museum", "14:00", "16:00"), _stop("Bistro", "19:00", "20:30", "dinner")], "Art")
    day = travel_day(DATE, 1, _transfer("10:00", "13:23"), None, evening)
    assert day.warnings == ["no lunch planned: the move to Paris takes the middle of the day; eat on the way"]
    skipped = travel_day(DATE, 1, _transfer("10:00", "13:23"), None, evening, skip_meals=["lunch"])
    assert skipped.warnings == [], "a meal the traveller leaves out is not missing"
    late = travel_day(DATE, 1, _transfer("14:00", "22:10"), None, None)
    assert late.warnings == [
        "no lunch planned: the move to Paris takes the middle of the day; eat on the way",
        "no dinner planned: you reach Paris at 22:10; eat on the way",
    ]
    engine_said = _part([_stop("Museum", "14:00", "16:00")], "Art").model_copy(
        update={"warnings": ["no dinner venue fits 2027-04-05"]}
    )
    explained = travel_day(DATE, 1, _transfer("10:00", "11:00"), None, engine_said)
    assert explained.warnings == [
        "no dinner venue fits 2027-04-05",
        "no lunch planned: the move to Paris takes the middle of the day; eat on the way",
    ]
