from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from google.api_core import exceptions as core_exceptions

from common.domain.maps import MapsApiDisabled, MapsConfig, MapsService, MapsUsage, PlaceSearch, TravelMode, Waypoint
from common.domain.maps.errors import MapsPlaceNotFound, MapsUnavailable
from common.domain.maps.models import LatLng
from tests.unit.maps.fakes import FakeClock, FakePlaces, FakeRoutes, api_error, make_place

PLACES = [
    make_place("louvre", "Louvre Museum", 48.8606, 2.3376),
    make_place("orsay", "Orsay Museum", 48.8600, 2.3266),
    make_place("city-paris", "Paris", 48.8566, 2.3522, types=["locality", "political"]),
]


def _service(places: FakePlaces, routes: FakeRoutes | None = None, **overrides: object) -> MapsService:
    config = MapsConfig(backoff_base_seconds=0.0, **overrides)  # type: ignore[arg-type]
    return MapsService(config, places, routes or FakeRoutes(), None, clock=FakeClock(), sleep=lambda _: None)


def test_twenty_concurrent_identical_misses_make_one_upstream_call() -> None:
    places = FakePlaces(PLACES, delay=0.3)
    service = _service(places)
    usage = MapsUsage()
    start = threading.Barrier(20)

    def fetch() -> str:
        start.wait()
        return service.get_place("louvre", usage=usage).name

    with ThreadPoolExecutor(max_workers=20) as pool:
        names = list(pool.map(lambda _: fetch(), range(20)))
    assert names == ["Louvre Museum"] * 20
    assert places.calls["get_place"] == 1
    assert usage.coalesced == 19
    assert usage.total_upstream_calls == 1


def test_l1_serves_repeats_until_the_ttl_passes() -> None:
    places = FakePlaces(PLACES)
    clock = FakeClock()
    service = MapsService(MapsConfig(l1_ttl_seconds=60), places, FakeRoutes(), None, clock=clock)
    usage = MapsUsage()
    search = PlaceSearch(text="museum", near=LatLng(latitude=48.86, longitude=2.34))
    first = service.search_places(search, usage=usage)
    assert service.search_places(search, usage=usage) == first
    assert places.calls["search_text"] == 1
    clock.advance(61)
    service.search_places(search, usage=usage)
    assert places.calls["search_text"] == 2
    snapshot = usage.snapshot()
    assert snapshot["cache_hits"] == {"l1": 1, "l2": 0}
    assert snapshot["cache_misses"] == {"search": 2}


def test_caching_off_calls_upstream_every_time() -> None:
    places = FakePlaces(PLACES)
    service = _service(places, caching_enabled=False)
    for _ in range(3):
        service.get_place("orsay")
    assert places.calls["get_place"] == 3


def test_each_operation_asks_for_its_own_narrow_mask() -> None:
    places = FakePlaces(PLACES)
    service = _service(places)
    service.resolve_destination("Paris")
    service.search_places(PlaceSearch(text="museum"))
    service.get_place("louvre")
    destination_mask, search_mask, details_mask = places.masks
    assert "places.viewport" in destination_mask
    assert "places.timeZone" in destination_mask
    assert "places.rating" not in destination_mask
    assert "places.regularOpeningHours" in search_mask
    assert "places.editorialSummary" not in search_mask
    assert details_mask.startswith("id,")
    assert "editorialSummary" in details_mask
    assert "places." not in details_mask


def test_destination_prefers_a_locality_and_unknown_names_are_not_found() -> None:
    service = _service(FakePlaces(PLACES))
    destination = service.resolve_destination("Paris")
    assert destination.place_id == "city-paris"
    with pytest.raises(MapsPlaceNotFound):
        service.resolve_destination("Atlantis")


def test_disabled_apis_give_a_clear_configuration_error() -> None:
    service = _service(FakePlaces(PLACES), places_enabled=False, distance_matrix_enabled=False)
    with pytest.raises(MapsApiDisabled, match="MAPS_PLACES_API_ENABLED"):
        service.get_place("louvre")
    with pytest.raises(MapsApiDisabled, match="MAPS_DISTANCE_MATRIX_API_ENABLED"):
        service.travel_matrix([], [], TravelMode.WALK)


def test_disabled_time_zone_api_leaves_time_zone_out_of_the_mask() -> None:
    places = FakePlaces(PLACES)
    _service(places, timezone_enabled=False).resolve_destination("Paris")
    assert "timeZone" not in places.masks[0]


def test_retryable_failures_are_retried_and_counted() -> None:
    places = FakePlaces(PLACES)
    places.failures = [
        api_error(core_exceptions.ServiceUnavailable, "1"),
        api_error(core_exceptions.TooManyRequests, "2"),
    ]
    usage = MapsUsage()
    assert _service(places).get_place("louvre", usage=usage).id == "louvre"
    assert usage.upstream_calls["get_place"] == 3
    assert usage.retries == 2


def test_retry_budget_exhausted_gives_a_typed_error() -> None:
    places = FakePlaces(PLACES)
    places.failures = [api_error(core_exceptions.ServiceUnavailable, str(n)) for n in range(10)]
    with pytest.raises(MapsUnavailable):
        _service(places, max_retries=2).get_place("louvre")
    assert places.calls["get_place"] == 3


def _points(count: int) -> list[Waypoint]:
    return [Waypoint(id=f"p{i}", location=LatLng(latitude=48.85 + i * 0.002, longitude=2.35)) for i in range(count)]


def test_matrix_counts_elements_and_reuses_cached_pairs() -> None:
    routes = FakeRoutes()
    service = _service(FakePlaces(PLACES), routes)
    points = _points(5)
    usage = MapsUsage()
    matrix = service.travel_matrix(points, points, TravelMode.WALK, usage=usage)
    assert routes.matrix_sizes == [(5, 5)]
    assert usage.billable_elements == 25
    assert matrix.seconds("p0", "p0") == 0
    seconds = matrix.seconds("p0", "p4")
    assert seconds is not None
    assert seconds > 0
    grown = [*points, *_points(6)[5:]]
    service.travel_matrix(grown, grown, TravelMode.WALK, usage=usage)
    assert sorted(routes.matrix_sizes[1:]) == [(1, 5), (5, 1)]  # only the new row and column


def test_matrix_reports_unreachable_pairs() -> None:
    service = _service(FakePlaces(PLACES))
    paris = Waypoint(id="paris", location=LatLng(latitude=48.8566, longitude=2.3522))
    tokyo = Waypoint(id="tokyo", location=LatLng(latitude=35.68, longitude=139.76))
    matrix = service.travel_matrix([paris], [tokyo], TravelMode.DRIVE)
    entry = matrix.get("paris", "tokyo")
    assert entry.status == "ROUTE_NOT_FOUND"
    assert not entry.reachable
    assert matrix.seconds("paris", "tokyo") is None


def test_transit_matrix_is_split_within_the_transit_limit() -> None:
    routes = FakeRoutes()
    points = _points(12)
    _service(FakePlaces(PLACES), routes).travel_matrix(points, points, TravelMode.TRANSIT)
    assert all(o * d <= 100 for o, d in routes.matrix_sizes)
    assert sum(o * d for o, d in routes.matrix_sizes) == 144


def test_route_and_no_route() -> None:
    service = _service(FakePlaces(PLACES))
    a, b = _points(2)
    route = service.route(a, b, TravelMode.WALK)
    assert route is not None
    assert route.distance_m > 0
    tokyo = Waypoint(id="tokyo", location=LatLng(latitude=35.68, longitude=139.76))
    assert service.route(a, tokyo, TravelMode.WALK) is None
