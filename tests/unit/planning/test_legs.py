"""The estimate-then-verify loop (``common/services/planning/legs.py``) as pure logic, with an in-process stand-in
for ``MapsService.route_legs`` that answers legs slower than the estimates and counts what it is asked."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from common.domain.itinerary import validate
from common.domain.maps import LatLng, MapsUsage, TravelMode, TravelTime, Waypoint
from common.domain.maps.legs import LegQuery
from common.services.planning.legs import plan_on_real_legs, used_legs
from tests.unit.itinerary.factories import HOTEL, METRES_PER_DEGREE, daily_periods, place, problem


class SlowRoutes:
    """Real legs: the straight line at ``metres_per_minute`` (the estimates assumed 80)."""

    def __init__(self, metres_per_minute: float) -> None:
        self.metres_per_minute = metres_per_minute
        self.asked: list[tuple[str, str]] = []

    def route_legs(self, queries: Sequence[LegQuery], mode: TravelMode, *, usage: Any = None) -> list[TravelTime]:
        answers = []
        for query in queries:
            self.asked.append((query.origin.id, query.destination.id))
            a, b = query.origin.location, query.destination.location
            metres = math.hypot(a.latitude - b.latitude, a.longitude - b.longitude) * METRES_PER_DEGREE
            answers.append(
                TravelTime(
                    origin_id=query.origin.id,
                    destination_id=query.destination.id,
                    status="OK",
                    duration_s=round(metres / self.metres_per_minute * 60),
                    distance_m=round(metres),
                )
            )
        return answers


def _nodes(places: list[Any]) -> list[Waypoint]:
    hotel = Waypoint(id=HOTEL, location=LatLng(latitude=0.0, longitude=0.0))
    return [hotel] + [
        Waypoint(id=item.id, location=LatLng(latitude=item.location.lat, longitude=item.location.lng))
        for item in places
    ]


def _plan(places: list[Any], days: int, routes: SlowRoutes) -> Any:
    trip = problem(places, days=days)
    maps: Any = routes  # duck-typed: only route_legs is used
    verified = plan_on_real_legs(
        trip, maps, _nodes(places), mode="walk", fallback_mode=None, time_zone="UTC", usage=MapsUsage()
    )
    return trip, verified


def test_real_legs_as_estimated_need_one_fetch_of_the_used_legs_only() -> None:
    places = [place(f"p{index}", 300 * index, 200 * (index % 3)) for index in range(1, 9)]
    routes = SlowRoutes(80.0)
    trip, verified = _plan(places, 2, routes)
    used = {pair for pair, _, _ in used_legs(trip, verified.itinerary)}
    assert sorted(routes.asked) == sorted(used)  # each used leg once, nothing else
    assert verified.repaired_days == set()
    assert validate(verified.problem, verified.itinerary) == []


def test_slower_real_legs_are_repaired_and_the_validator_sees_only_real_legs() -> None:
    closing = daily_periods("09:00", "15:00")
    places = [place(f"p{index}", 900 * index, periods=closing, priority=index) for index in range(1, 7)]
    routes = SlowRoutes(40.0)  # half the estimated speed: the estimated day (4 sights) no longer fits by 15:00
    trip, verified = _plan(places, 1, routes)
    assert verified.repaired_days == {0}
    assert verified.emptied_days == []
    kept = [stop.place_id for stop in verified.itinerary.days[0].stops]
    assert 0 < len(kept) < 4  # one sight dropped (trimmed), the others kept
    assert "p6" in kept  # the highest priority stays
    assert validate(verified.problem, verified.itinerary) == []
    matrix = verified.problem.matrix
    position = matrix.position()
    used = {pair for pair, _, _ in used_legs(trip, verified.itinerary)}
    assert used
    for origin in matrix.node_ids:
        for target in matrix.node_ids:
            cell = matrix.seconds[position[origin]][position[target]]
            if origin == target:
                continue
            # The validator's matrix holds real legs only (fetched ones), and every leg the plan travels.
            if cell is not None:
                assert (origin, target) in routes.asked
            if (origin, target) in used:
                assert cell is not None
    for day in verified.itinerary.days:
        for stop in day.stops:
            assert stop.leg_from_previous is not None
    assert len(routes.asked) <= 3 * len(used) + 10  # bounded repairs
