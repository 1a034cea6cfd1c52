"""MapsService.route_legs (the legs a plan uses) with the real routing_v2 client against the Maps stand-in over HTTP,
its compact cache on the Firestore stand-in. The stand-in's road variation is on: real legs are not the straight-line
model (a per-pair factor, transit slower in the rush hours)."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import time
import zoneinfo
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from common.domain.maps import (
    MapsApiDisabled,
    MapsConfig,
    MapsService,
    MapsUnavailable,
    MapsUsage,
    PlaceSearch,
    TravelMode,
    Waypoint,
    build_places_client,
    build_routes_client,
)
from common.domain.maps.legs import LEG_DOC_PREFIX, MAX_AGE_SECONDS, LegQuery
from common.domain.maps_engine import engine_day_matrix
from common.foundation.collection_names import ROUTE_CACHE
from common.foundation.config import load_settings
from tests.integration.maps.support import Clock, maps_admin

if TYPE_CHECKING:
    from google.cloud import firestore

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
WEDNESDAY = dt.date(2027, 6, 9)


def _calls(stack: dict[str, str]) -> dict[str, int]:
    answer = maps_admin(stack, "calls")
    return {**answer["calls"], "elements": answer["elements"]}


@pytest.fixture(autouse=True)
def standin(stack: dict[str, str]) -> Iterator[dict[str, str]]:
    maps_admin(stack, "reset", {})
    maps_admin(stack, "travel", {"road_variation": True})
    yield stack
    maps_admin(stack, "reset", {})


def _service(stack: dict[str, str], firestore_client: firestore.Client | None = None, **overrides: Any) -> MapsService:
    settings = load_settings(
        maps_api_endpoint=stack["MAPS_API_ENDPOINT"], google_maps_api_key=stack["GOOGLE_MAPS_API_KEY"]
    )
    clock = overrides.pop("clock", time.time)
    config = MapsConfig.from_settings(settings, **overrides)
    return MapsService(
        config, build_places_client(settings), build_routes_client(settings), firestore_client, clock=clock
    )


def _paris_day(service: MapsService) -> tuple[Waypoint, list[Waypoint]]:
    paris = service.resolve_destination("Paris")
    found = service.search_places(PlaceSearch(text="museum", near=paris.location, radius_m=15_000))
    return Waypoint.of(paris), [Waypoint.of(place) for place in found[:5]]


def _day_legs(anchor: Waypoint, stops: list[Waypoint], hour: int = 10) -> list[LegQuery]:
    points = [anchor, *stops, anchor]
    departure = dt.datetime.combine(WEDNESDAY, dt.time(hour), tzinfo=PARIS)
    return [LegQuery(origin=a, destination=b, departure=departure) for a, b in itertools.pairwise(points)]


def _leg_docs(client: firestore.Client) -> dict[str, dict[str, Any]]:
    return {
        doc.id: doc.to_dict() or {}
        for doc in client.collection(ROUTE_CACHE).stream()
        if doc.id.startswith(LEG_DOC_PREFIX)
    }


def test_a_walking_day_is_one_compute_routes_request_and_its_legs_are_in_order(standin: dict[str, str]) -> None:
    service = _service(standin)
    anchor, stops = _paris_day(service)
    queries = _day_legs(anchor, stops)
    before = _calls(standin)
    legs = service.route_legs(queries, TravelMode.WALK)
    after = _calls(standin)
    assert after["compute_routes"] - before["compute_routes"] == 1
    assert after["compute_route_matrix"] == before["compute_route_matrix"]
    assert [leg.status for leg in legs] == ["OK"] * len(queries)
    # Each leg of the chained route is the leg Maps gives for that pair alone (order and values kept).
    for query, leg in zip(queries, legs, strict=True):
        alone = service.route(query.origin, query.destination, TravelMode.WALK)
        assert alone is not None
        assert (leg.origin_id, leg.destination_id) == (query.origin.id, query.destination.id)
        assert (leg.duration_s, leg.distance_m) == (alone.duration_s, alone.distance_m)


def test_transit_legs_go_one_by_one_with_their_departure_time(standin: dict[str, str]) -> None:
    service = _service(standin)
    anchor, stops = _paris_day(service)
    rush = _day_legs(anchor, stops[:2], hour=8)
    noon = _day_legs(anchor, stops[:2], hour=12)
    before = _calls(standin)["compute_routes"]
    rush_legs = service.route_legs(rush, TravelMode.TRANSIT)
    noon_legs = service.route_legs(noon, TravelMode.TRANSIT)
    assert _calls(standin)["compute_routes"] - before == len(rush) + len(noon)
    # The stand-in slows transit by a fifth in the rush hours (07-10, 17-20): the departure time reached it.
    for slow, fast in zip(rush_legs, noon_legs, strict=True):
        assert slow.duration_s is not None
        assert fast.duration_s is not None
        assert slow.duration_s == pytest.approx(fast.duration_s * 1.2, abs=2)


def test_legs_are_cached_in_few_documents_shared_by_instances(
    standin: dict[str, str], firestore_client: firestore.Client
) -> None:
    clock = Clock()
    first = _service(standin, firestore_client, clock=clock)
    anchor, stops = _paris_day(first)
    walk, transit = _day_legs(anchor, stops), _day_legs(anchor, stops[:3], hour=9) + _day_legs(anchor, stops[3:], 15)
    existing = set(_leg_docs(firestore_client))
    first.route_legs(walk, TravelMode.WALK)
    first.route_legs(transit, TravelMode.TRANSIT)
    docs = {name: doc for name, doc in _leg_docs(firestore_client).items() if name not in existing}
    # 6 walking legs in one document (band "any"), 7 transit legs in one per time band (09-12, 15-18).
    assert sorted(doc["band"] for doc in docs.values()) == ["any", "wd09", "wd15"]
    assert sum(len(doc["legs"]) for doc in docs.values()) == len(walk) + len(transit)
    for doc in docs.values():
        remaining = (doc["expire_at"] - dt.datetime.fromtimestamp(clock.now, tz=dt.UTC)).total_seconds()
        assert 0 < remaining <= MAX_AGE_SECONDS

    before = _calls(standin)
    usage = MapsUsage()
    second = _service(standin, firestore_client, clock=clock)  # a new instance: empty L1, same Firestore
    again = second.route_legs(walk, TravelMode.WALK, usage=usage) + second.route_legs(
        transit, TravelMode.TRANSIT, usage=usage
    )
    assert _calls(standin) == before
    assert usage.cache_hits["l2"] == len(walk) + len(transit)
    assert all(leg.status == "OK" for leg in again)


def test_legs_older_than_thirty_days_are_fetched_again_and_pruned(
    standin: dict[str, str], firestore_client: firestore.Client
) -> None:
    clock = Clock()
    anchor, stops = _paris_day(_service(standin))
    queries = _day_legs(anchor, stops[:2])
    _service(standin, firestore_client, clock=clock).route_legs(queries, TravelMode.DRIVE)
    other = _day_legs(anchor, stops[2:4])
    clock.now += 20 * 86400
    _service(standin, firestore_client, clock=clock).route_legs(other, TravelMode.DRIVE)
    clock.now += 11 * 86400  # the first legs are 31 days old, the others 11
    before = _calls(standin)["compute_routes"]
    _service(standin, firestore_client, clock=clock).route_legs(queries + other, TravelMode.DRIVE)
    assert _calls(standin)["compute_routes"] - before == 1  # only the stale chain, as one request
    (doc,) = [doc for doc in _leg_docs(firestore_client).values() if doc["mode"] == TravelMode.DRIVE.value]
    ages = [clock.now - entry["t"] for entry in doc["legs"].values()]
    assert len(ages) == len(queries) + len(other)
    assert max(ages) < 12 * 86400  # the stale entries were replaced, none is kept past 30 days


def test_a_small_matrix_is_used_when_it_bills_less(standin: dict[str, str]) -> None:
    service = _service(standin, route_request_usd_per_1000=100.0)
    anchor, stops = _paris_day(service)
    queries = _day_legs(anchor, stops[:2], hour=11)
    before = _calls(standin)
    legs = service.route_legs(queries, TravelMode.TRANSIT)
    after = _calls(standin)
    assert after["compute_routes"] == before["compute_routes"]
    origins = {query.origin.id for query in queries}
    destinations = {query.destination.id for query in queries}
    # The pairs are fetched as the fewest elements covering them (here one element per leg), not a full square.
    assert len(queries) <= after["elements"] - before["elements"] < len(origins) * len(destinations)
    assert all(leg.status == "OK" for leg in legs)
    assert all(math.isfinite(float(leg.duration_s or 0)) for leg in legs)


def test_with_compute_routes_off_legs_come_from_matrices_and_with_both_off_it_says_so(
    standin: dict[str, str],
) -> None:
    service = _service(standin, directions_enabled=False)
    anchor, stops = _paris_day(service)
    queries = _day_legs(anchor, stops[:2])
    before = _calls(standin)
    legs = service.route_legs(queries, TravelMode.WALK)
    after = _calls(standin)
    assert after["compute_routes"] == before["compute_routes"]
    assert after["elements"] - before["elements"] >= len(queries)
    assert all(leg.status == "OK" for leg in legs)
    with pytest.raises(MapsApiDisabled, match="MAPS_DISTANCE_MATRIX_API_ENABLED"):
        _service(standin, directions_enabled=False, distance_matrix_enabled=False).route_legs(queries, TravelMode.WALK)


def test_a_failing_routes_api_raises_instead_of_reading_as_no_route(standin: dict[str, str]) -> None:
    service = _service(standin, max_retries=1, backoff_base_seconds=0.01)
    anchor, stops = _paris_day(service)
    maps_admin(standin, "faults", {"error_rate": 1.0, "error_code": 503})
    with pytest.raises(MapsUnavailable):
        service.route_legs(_day_legs(anchor, stops[:2]), TravelMode.TRANSIT)
    with pytest.raises(MapsUnavailable):
        service.route_legs(_day_legs(anchor, stops[:2]), TravelMode.WALK)


def test_a_days_engine_matrix_holds_its_legs_only(standin: dict[str, str]) -> None:
    service = _service(standin)
    anchor, stops = _paris_day(service)
    nodes = [anchor, *stops[:4]]
    order = [anchor.id, stops[2].id, stops[0].id, stops[1].id, anchor.id]  # stops[3] was taken off the day
    before = _calls(standin)
    matrix = engine_day_matrix(service, nodes, order, "walk", MapsUsage())
    after = _calls(standin)
    assert after["compute_routes"] - before["compute_routes"] == 1
    assert after["elements"] == before["elements"]
    position = matrix.position()
    travelled = set(itertools.pairwise(order))
    for origin in matrix.node_ids:
        for target in matrix.node_ids:
            cell = matrix.seconds[position[origin]][position[target]]
            if origin == target:
                assert cell == 0
            else:
                assert (cell is not None) == ((origin, target) in travelled)
