"""Small problem builders for the itinerary tests: places on a plane, walking at 80 m/min."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

from common.domain.itinerary import (
    DayAnchor,
    LatLng,
    MealKind,
    OpeningPeriod,
    OpeningTime,
    Place,
    Preferences,
    TravelMatrix,
    TravelMode,
    TripProblem,
)

METRES_PER_DEGREE = 111_000.0
WALK_METRES_PER_MINUTE = 80.0
HOTEL = "hotel"
# 2024-06-03 is a Monday.
MONDAY = dt.date(2024, 6, 3)


def daily_periods(open_hhmm: str, close_hhmm: str, days: Iterable[int] = range(7)) -> list[OpeningPeriod]:
    """The same opening on each Google weekday in ``days`` (0 = Sunday); a close before the open is the next day."""
    open_hour, open_minute = (int(part) for part in open_hhmm.split(":"))
    close_hour, close_minute = (int(part) for part in close_hhmm.split(":"))
    past_midnight = (close_hour, close_minute) <= (open_hour, open_minute)
    return [
        OpeningPeriod(
            open=OpeningTime(day=day, hour=open_hour, minute=open_minute),
            close=OpeningTime(day=(day + 1) % 7 if past_midnight else day, hour=close_hour, minute=close_minute),
        )
        for day in days
    ]


def place(
    place_id: str,
    east_m: float,
    north_m: float = 0.0,
    *,
    visit_minutes: int = 60,
    priority: float = 1.0,
    periods: list[OpeningPeriod] | None = None,
    cost: float = 0.0,
    category: str = "attraction",
    meals: Iterable[MealKind] = (),
) -> Place:
    return Place(
        id=place_id,
        name=place_id.title(),
        location=LatLng(lat=north_m / METRES_PER_DEGREE, lng=east_m / METRES_PER_DEGREE),
        category=category,
        priority=priority,
        visit_minutes=visit_minutes,
        opening_periods=periods if periods is not None else daily_periods("00:00", "23:59"),
        cost_per_person=cost,
        meal_kinds=list(meals),
    )


def walking_matrix(
    places: list[Place],
    hotel: LatLng | None = None,
    *,
    mode: TravelMode = TravelMode.WALK,
    metres_per_minute: float = WALK_METRES_PER_MINUTE,
    unreachable: set[frozenset[str]] | None = None,
    extra_nodes: dict[str, LatLng] | None = None,
) -> TravelMatrix:
    points = {HOTEL: hotel or LatLng(lat=0, lng=0), **(extra_nodes or {}), **{p.id: p.location for p in places}}
    ids = list(points)
    seconds: list[list[int | None]] = []
    metres: list[list[int | None]] = []
    for origin in ids:
        second_row: list[int | None] = []
        metre_row: list[int | None] = []
        for destination in ids:
            a, b = points[origin], points[destination]
            distance = math.hypot(a.lat - b.lat, a.lng - b.lng) * METRES_PER_DEGREE
            blocked = unreachable is not None and frozenset((origin, destination)) in unreachable
            second_row.append(None if blocked else round(distance / metres_per_minute * 60))
            metre_row.append(None if blocked else round(distance))
        seconds.append(second_row)
        metres.append(metre_row)
    return TravelMatrix(mode=mode, node_ids=ids, seconds=seconds, metres=metres)


def problem(
    places: list[Place],
    *,
    days: int = 1,
    start: dt.date = MONDAY,
    preferences: Preferences | None = None,
    matrix: TravelMatrix | None = None,
    anchor: DayAnchor | None = None,
    **extra: object,
) -> TripProblem:
    return TripProblem.model_validate(
        {
            "start_date": start,
            "end_date": start + dt.timedelta(days=days - 1),
            "anchors": [anchor or DayAnchor(start_node_id=HOTEL, end_node_id=HOTEL)],
            "places": places,
            "matrix": matrix or walking_matrix(places),
            "preferences": preferences or Preferences(lunch_window=None, dinner_window=None),
            **extra,
        }
    )
