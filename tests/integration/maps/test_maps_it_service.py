"""MapsService with the real places_v1 / routing_v2 clients against the Maps stand-in over HTTP, and Firestore (L2)
on the Firestore stand-in. Data: the bundled catalogue's Paris and London."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest
from google.api_core import exceptions as core_exceptions
from google.api_core.client_options import ClientOptions
from google.maps import places_v1

from common.domain.maps import (
    MapsConfig,
    MapsPlaceNotFound,
    MapsQuotaExceeded,
    MapsRequestRejected,
    MapsService,
    MapsUnavailable,
    MapsUsage,
    PlaceSearch,
    TravelMode,
    build_places_client,
    build_routes_client,
)
from common.foundation.collection_names import PLACES_CACHE
from common.foundation.config import load_settings
from tests.integration.maps.support import Clock, maps_admin

if TYPE_CHECKING:
    from google.cloud import firestore

PINNED_NOW = "2025-06-04T10:00:00+00:00"  # a Wednesday, noon in Paris


def _calls(stack: dict[str, str]) -> int:
    return int(maps_admin(stack, "calls")["total"])


@pytest.fixture(autouse=True)
def standin(stack: dict[str, str]) -> Iterator[dict[str, str]]:
    """Faults off, counters zero and the clock pinned, before and after each test."""
    maps_admin(stack, "reset", {})
    maps_admin(stack, "clock", {"now": PINNED_NOW})
    yield stack
    maps_admin(stack, "reset", {})


def _service(stack: dict[str, str], firestore_client: firestore.Client | None = None, **overrides: Any) -> MapsService:
    settings = load_settings(
        maps_api_endpoint=stack["MAPS_API_ENDPOINT"], google_maps_api_key=stack["GOOGLE_MAPS_API_KEY"]
    )
    overrides.setdefault("backoff_base_seconds", 0.02)
    clock = overrides.pop("clock", time.time)
    config = MapsConfig.from_settings(settings, **overrides)
    places, routes = build_places_client(settings), build_routes_client(settings)
    return MapsService(config, places, routes, firestore_client, clock=clock)


def _paris_museums(service: MapsService, usage: MapsUsage | None = None) -> tuple[Any, ...]:
    paris = service.resolve_destination("Paris", usage=usage)
    return service.search_places(
        PlaceSearch(text="museum", near=paris.location, radius_m=15_000, included_type="museum"), usage=usage
    )


def test_resolve_a_city_by_name_and_by_alias(standin: dict[str, str]) -> None:
    service = _service(standin)
    paris = service.resolve_destination("Paris")
    assert "locality" in paris.types
    assert paris.time_zone == "Europe/Paris"
    assert paris.utc_offset_minutes == 120
    assert paris.viewport is not None
    assert paris.viewport.low.latitude < paris.location.latitude
    assert service.resolve_destination("パリ").place_id == paris.place_id
    with pytest.raises(MapsPlaceNotFound):
        service.resolve_destination("Zzyzx Atlantis")


def test_search_honours_type_rating_price_and_open_now(standin: dict[str, str]) -> None:
    service = _service(standin)
    museums = _paris_museums(service)
    assert len(museums) >= 4
    assert all("museum" in place.types for place in museums)
    assert all(place.opening_hours is not None and place.rating is not None for place in museums)
    assert all(place.website_uri is None for place in museums)  # not in the search mask
    near = museums[0].location
    rated = service.search_places(PlaceSearch(text="restaurant", near=near, min_rating=4.5, price_levels=(3, 4)))
    assert rated
    assert all(p.rating is not None and p.rating >= 4.5 and p.price_level in (3, 4) for p in rated)
    open_now = service.search_places(PlaceSearch(text="museum in Paris", open_now=True, page_size=20))
    assert open_now
    assert all(p.opening_hours is not None and p.opening_hours.is_open_at(3, 12) for p in open_now)
    assert len(service.search_places(PlaceSearch(text="restaurants in Paris", page_size=3))) == 3


def test_place_details_have_the_detail_fields(standin: dict[str, str]) -> None:
    service = _service(standin)
    place = service.get_place(_paris_museums(service)[0].id)
    assert place.maps_uri is not None
    assert place.maps_uri.startswith("https://")
    assert place.editorial_summary is not None
    assert place.opening_hours is not None
    assert place.opening_hours.weekday_descriptions
    assert place.time_zone == "Europe/Paris"
    assert place.category == "museum"


def test_field_masks_are_honoured_by_the_standin(standin: dict[str, str]) -> None:
    options = ClientOptions(api_endpoint=standin["MAPS_API_ENDPOINT"], api_key=standin["GOOGLE_MAPS_API_KEY"])
    client = places_v1.PlacesClient(transport="rest", client_options=options)
    place_id = _paris_museums(_service(standin))[0].id
    narrow = client.get_place(
        request={"name": f"places/{place_id}"}, metadata=[("x-goog-fieldmask", "id,displayName")], retry=None
    )
    assert narrow.display_name.text
    assert "rating" not in narrow
    assert "regular_opening_hours" not in narrow
    assert "location" not in narrow
    url = f"{standin['MAPS_API_ENDPOINT']}/v1/places/{place_id}?fields=id,location"
    request = urllib.request.Request(url, headers={"x-goog-api-key": standin["GOOGLE_MAPS_API_KEY"]})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert set(json.loads(response.read())) == {"id", "location"}
    with pytest.raises(core_exceptions.BadRequest, match="field mask"):
        client.get_place(request={"name": f"places/{place_id}"}, retry=None)


def test_unknown_place_is_not_found_and_not_retried(standin: dict[str, str]) -> None:
    with pytest.raises(MapsPlaceNotFound):
        _service(standin).get_place("paris-no-such-place")
    assert _calls(standin) == 1


def test_a_rejected_request_is_not_retried(standin: dict[str, str]) -> None:
    with pytest.raises(MapsRequestRejected, match="unsupported types"):
        _service(standin).search_places(PlaceSearch(text="anything", included_type="spaceship"))
    assert _calls(standin) == 1


def test_matrix_and_route(standin: dict[str, str]) -> None:
    service = _service(standin)
    museums = list(_paris_museums(service))[:5]
    london = service.resolve_destination("London")
    usage = MapsUsage()
    matrix = service.travel_matrix([*museums, london], museums, TravelMode.WALK, usage=usage)
    first, second = museums[0].id, museums[1].id
    assert matrix.seconds(first, first) == 0
    seconds = matrix.seconds(first, second)
    assert seconds is not None
    assert seconds > 0
    assert matrix.get(london.place_id, first).status == "ROUTE_NOT_FOUND"
    assert usage.billable_elements == 30
    assert usage.upstream_calls["compute_route_matrix"] == 1
    route = service.route(museums[0], museums[1], TravelMode.TRANSIT, include_polyline=True)
    assert route is not None
    assert route.encoded_polyline
    assert route.duration_s > 0
    assert service.route(museums[0], london, TravelMode.WALK) is None


def test_l1_cache_hits_and_expiry(standin: dict[str, str]) -> None:
    clock = Clock()
    service = _service(standin, clock=clock)
    place_id = _paris_museums(service)[0].id
    before = _calls(standin)
    usage = MapsUsage()
    service.get_place(place_id, usage=usage)
    service.get_place(place_id, usage=usage)
    assert _calls(standin) == before + 1
    assert usage.cache_hits["l1"] == 1
    clock.now += service.config.l1_ttl_seconds + 1
    service.get_place(place_id, usage=usage)
    assert _calls(standin) == before + 2


def test_l2_is_shared_between_instances(standin: dict[str, str], firestore_client: firestore.Client) -> None:
    first = _service(standin, firestore_client)
    museums = _paris_museums(first)
    details = first.get_places([place.id for place in museums[:3]])
    matrix = first.travel_matrix(museums[:6], museums[:6], TravelMode.DRIVE)
    assert _calls(standin) > 0
    maps_admin(standin, "reset", {})

    second = _service(standin, firestore_client)
    usage = MapsUsage()
    assert _paris_museums(second, usage) == museums
    assert second.get_places([place.id for place in museums[:3]], usage=usage) == details
    assert second.travel_matrix(museums[:6], museums[:6], TravelMode.DRIVE, usage=usage) == matrix
    assert _calls(standin) == 0
    assert usage.total_upstream_calls == 0
    assert usage.cache_hits["l2"] == 2 + 3 + 30  # destination + search, 3 places, 30 non-diagonal pairs

    stored = firestore_client.collection(PLACES_CACHE).document(museums[0].id).get().to_dict()
    assert stored is not None
    assert 0 < (stored["expire_at"] - stored["cached_at"]).total_seconds() <= 30 * 24 * 3600


def test_l2_entries_expire(standin: dict[str, str], firestore_client: firestore.Client) -> None:
    clock = Clock()
    place_id = "paris-louvre"
    _service(standin, firestore_client, clock=clock).get_place(place_id)
    clock.now += 8 * 24 * 3600  # past the 7-day place TTL
    before = _calls(standin)
    _service(standin, firestore_client, clock=clock).get_place(place_id)
    assert _calls(standin) == before + 1


def test_twenty_concurrent_identical_requests_make_one_upstream_call(standin: dict[str, str]) -> None:
    service = _service(standin)
    maps_admin(standin, "faults", {"latency_ms": 200})
    start = threading.Barrier(20)

    def fetch() -> str:
        start.wait()
        return service.get_place("paris-louvre").name

    with ThreadPoolExecutor(max_workers=20) as pool:
        names = set(pool.map(lambda _: fetch(), range(20)))
    assert len(names) == 1
    assert maps_admin(standin, "calls")["calls"]["get_place"] == 1


def test_caching_off_goes_upstream_every_time(standin: dict[str, str], firestore_client: firestore.Client) -> None:
    service = _service(standin, firestore_client, caching_enabled=False)
    for _ in range(3):
        service.get_place("paris-louvre")
    assert _calls(standin) == 3


@pytest.mark.parametrize("code", [503, 429])
def test_thirty_percent_failures_are_absorbed_by_retries(standin: dict[str, str], code: int) -> None:
    maps_admin(standin, "faults", {"error_rate": 0.3, "error_code": code, "seed": 7})
    service = _service(standin, caching_enabled=False, max_retries=4)
    usage = MapsUsage()
    for _ in range(20):
        assert service.get_place("paris-louvre", usage=usage).id == "paris-louvre"
    assert usage.retries > 0
    assert maps_admin(standin, "calls")["injected_failures"] == usage.retries


@pytest.mark.parametrize(("code", "error"), [(503, MapsUnavailable), (429, MapsQuotaExceeded)])
def test_total_outage_gives_a_typed_error_within_the_time_budget(
    standin: dict[str, str], code: int, error: type[Exception]
) -> None:
    maps_admin(standin, "faults", {"error_rate": 1.0, "error_code": code})
    service = _service(standin, max_retries=3, backoff_base_seconds=0.05)
    started = time.monotonic()
    with pytest.raises(error):
        service.get_place("paris-louvre")
    assert time.monotonic() - started < 3.0
    assert _calls(standin) == 4
