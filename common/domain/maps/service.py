"""``MapsService``: the one facade over Places API (New) and Routes API, with caching, limits and retries."""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from google.maps import places_v1, routing_v2
from pydantic import BaseModel, ConfigDict

from common.domain.maps import convert
from common.domain.maps.cache import (
    FirestoreCache,
    SingleFlight,
    TtlLruCache,
    sha256_key,
)
from common.domain.maps.errors import MapsApiDisabled, MapsPlaceNotFound
from common.domain.maps.legs import (
    CachedLeg,
    LegDoc,
    LegQuery,
    LegStore,
    area_of,
    doc_id,
    leg_key,
    straight_metres,
    time_band,
    transit_bands,
)
from common.domain.maps.matrix import Tile, element_limit, plan_tiles
from common.domain.maps.models import (
    Destination,
    Place,
    PlaceSearch,
    Route,
    TravelMatrix,
    TravelMode,
    TravelTime,
    Waypoint,
)
from common.domain.maps.resilience import CallGuard, RetryPolicy, TokenBucket
from common.domain.maps.usage import MapsUsage, usage_or_new
from common.foundation.clients import Lazy
from common.foundation.collection_names import PLACES_CACHE, ROUTE_CACHE, SEARCH_CACHE
from common.foundation.concurrency import fan_out
from common.foundation.errors import InvalidRequest

if TYPE_CHECKING:
    from google.cloud import firestore

    from common.foundation.config import Settings

logger = logging.getLogger(__name__)
T = TypeVar("T")
Metadata = Sequence[tuple[str, str]]

DAY = 24 * 3600

# The narrowest field masks serving each operation (billing follows the most expensive field asked for).
DESTINATION_FIELDS = (
    "places.id",
    "places.displayName",
    "places.formattedAddress",
    "places.location",
    "places.viewport",
    "places.types",
)
DESTINATION_TIME_FIELDS = ("places.timeZone", "places.utcOffsetMinutes")
PLACE_SUMMARY_FIELDS = (
    "id",
    "displayName",
    "location",
    "types",
    "primaryType",
    "rating",
    "userRatingCount",
    "priceLevel",
    "priceRange",
    "regularOpeningHours",
    "utcOffsetMinutes",
    "timeZone",
    "formattedAddress",
)
PLACE_DETAIL_FIELDS = (
    *PLACE_SUMMARY_FIELDS,
    "googleMapsUri",
    "websiteUri",
    "editorialSummary",
    "accessibilityOptions",
    "servesVegetarianFood",
)
SEARCH_FIELDS = tuple(f"places.{name}" for name in PLACE_SUMMARY_FIELDS)
MATRIX_FIELDS = ("originIndex", "destinationIndex", "status", "condition", "duration", "distanceMeters")
ROUTE_FIELDS = ("routes.duration", "routes.distanceMeters")
ROUTE_POLYLINE_FIELDS = ("routes.polyline.encodedPolyline",)
ROUTE_LEG_FIELDS = ("routes.legs.duration", "routes.legs.distanceMeters")
MAX_ESSENTIALS_INTERMEDIATES = 10  # Compute Routes bills Essentials up to 10 intermediate waypoints, Pro above
LOCALITY_TYPES = frozenset(
    {
        "locality",
        "administrative_area_level_1",
        "administrative_area_level_2",
        "country",
        "colloquial_area",
        "postal_town",
        "sublocality",
        "archipelago",
        "island",
    }
)
DESTINATION_CANDIDATES = 5

_MODE_TO_PROTO = {
    TravelMode.WALK: routing_v2.RouteTravelMode.WALK,
    TravelMode.TRANSIT: routing_v2.RouteTravelMode.TRANSIT,
    TravelMode.DRIVE: routing_v2.RouteTravelMode.DRIVE,
}


class PlacesApi(Protocol):
    """The part of ``places_v1.PlacesClient`` we use (tests pass in-process fakes)."""

    def search_text(
        self, request: places_v1.SearchTextRequest, *, retry: Any, timeout: float, metadata: Metadata
    ) -> places_v1.SearchTextResponse: ...

    def get_place(
        self, request: places_v1.GetPlaceRequest, *, retry: Any, timeout: float, metadata: Metadata
    ) -> places_v1.Place: ...


class RoutesApi(Protocol):
    """The part of ``routing_v2.RoutesClient`` we use."""

    def compute_route_matrix(
        self, request: routing_v2.ComputeRouteMatrixRequest, *, retry: Any, timeout: float, metadata: Metadata
    ) -> Iterable[routing_v2.RouteMatrixElement]: ...

    def compute_routes(
        self, request: routing_v2.ComputeRoutesRequest, *, retry: Any, timeout: float, metadata: Metadata
    ) -> routing_v2.ComputeRoutesResponse: ...


@dataclass(frozen=True)
class MapsConfig:
    """Everything MapsService needs from the settings (see ``from_settings``); L2 TTLs are capped at 30 days."""

    places_enabled: bool = True
    geocoding_enabled: bool = True
    timezone_enabled: bool = True
    distance_matrix_enabled: bool = True
    directions_enabled: bool = True
    requests_per_second: float = 50.0
    burst_limit: int = 100
    max_concurrency: int = 16
    request_timeout: float = 30.0
    max_retries: int = 3
    backoff_base_seconds: float = 0.2
    backoff_max_seconds: float = 5.0
    caching_enabled: bool = True
    l1_ttl_seconds: int = 3600
    l1_max_size: int = 10_000
    place_ttl_seconds: int = 7 * DAY
    search_ttl_seconds: int = 1 * DAY
    route_ttl_seconds: int = 30 * DAY
    # List prices (USD per 1,000) that decide how missing legs are fetched: Compute Routes requests or matrix elements.
    route_request_usd_per_1000: float = 5.0
    matrix_element_usd_per_1000: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> MapsConfig:
        values: dict[str, Any] = {
            "places_enabled": settings.maps_places_api_enabled,
            "geocoding_enabled": settings.maps_geocoding_api_enabled,
            "timezone_enabled": settings.maps_timezone_api_enabled,
            "distance_matrix_enabled": settings.maps_distance_matrix_api_enabled,
            "directions_enabled": settings.maps_directions_api_enabled,
            "requests_per_second": settings.maps_requests_per_second,
            "burst_limit": settings.maps_burst_limit,
            "request_timeout": settings.maps_request_timeout,
            "max_retries": settings.maps_max_retries,
            "caching_enabled": settings.maps_enable_caching,
            "l1_ttl_seconds": settings.maps_cache_ttl,
            "l1_max_size": settings.maps_cache_max_size,
        }
        values.update(overrides)
        return cls(**values)


def _mask(fields: Iterable[str]) -> Metadata:
    return [("x-goog-fieldmask", ",".join(fields))]


def _check_place_id(place_id: str) -> None:
    if not convert.PLACE_ID_PATTERN.match(place_id):
        raise InvalidRequest(f"not a place id: {place_id[:80]!r}")


class MapsService:
    """Resolve destinations, search places, read place details, travel matrices and routes.

    Thread-safe; keep one per process (L1 and single-flight live in it). ``firestore_client`` enables L2.
    ``clock`` (epoch seconds) drives cache expiry; ``sleep`` and ``rng`` drive backoff (tests pass fakes).
    """

    def __init__(
        self,
        config: MapsConfig,
        places_client: PlacesApi | Lazy[PlacesApi],
        routes_client: RoutesApi | Lazy[RoutesApi],
        firestore_client: firestore.Client | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self._places = places_client if isinstance(places_client, Lazy) else Lazy(lambda: places_client)
        self._routes = routes_client if isinstance(routes_client, Lazy) else Lazy(lambda: routes_client)
        self._clock = clock
        caching = config.caching_enabled
        self._l1 = TtlLruCache(config.l1_max_size if caching else 0, config.l1_ttl_seconds, clock)
        self._l2 = FirestoreCache(firestore_client, clock) if caching and firestore_client is not None else None
        self._legs = LegStore(firestore_client if caching else None, ROUTE_CACHE, clock)
        self._flights: SingleFlight[Any] = SingleFlight()
        self._guard = CallGuard(
            TokenBucket(config.requests_per_second, config.burst_limit, sleep=sleep),
            config.max_concurrency,
            RetryPolicy(
                max_retries=config.max_retries,
                base_delay=config.backoff_base_seconds,
                max_delay=config.backoff_max_seconds,
                sleep=sleep,
                rng=rng or random.Random(),
            ),
            config.request_timeout,
        )

    # -- plumbing ------------------------------------------------------------------------------------------------

    def _require(self, *flags: tuple[bool, str, str]) -> None:
        for enabled, variable, what in flags:
            if not enabled:
                raise MapsApiDisabled(f"{variable} is false: {what} is disabled")

    def _upstream(self, kind: str, call: Callable[[], T], usage: MapsUsage) -> T:
        try:
            return self._guard.run(kind, call, on_attempt=lambda: usage.upstream_call(kind), on_retry=usage.retry)
        except Exception:
            usage.failure()
            raise

    def _cached(
        self,
        kind: str,
        key: str,
        collection: str,
        ttl_seconds: float,
        load: Callable[[], T],
        encode: Callable[[T], dict[str, Any]],
        decode: Callable[[dict[str, Any]], T],
        usage: MapsUsage,
        cacheable: bool = True,
    ) -> T:
        """L1, then L2 (doc id: ``key``), then ``load``; concurrent identical misses share one ``load``."""
        if not cacheable or not self.config.caching_enabled:
            usage.miss(kind)
            return load()
        l1_key = f"{collection}/{key}"
        value = self._l1.get(l1_key)
        if value is not None:
            usage.hit("l1")
            return value  # type: ignore[no-any-return]

        def fill() -> tuple[T, str]:
            cached = self._l1.get(l1_key)
            if cached is not None:
                return cached, "l1"
            if self._l2 is not None:
                hit = self._l2.get(collection, key)
                if hit is not None:
                    try:
                        decoded = decode(hit.data)
                    except ValueError:
                        logger.warning("maps L2 entry %s/%s does not decode; refetching", collection, key)
                    else:
                        self._l1.set(l1_key, decoded, hit.remaining_seconds)
                        return decoded, "l2"
            loaded = load()
            self._l1.set(l1_key, loaded)
            if self._l2 is not None:
                self._l2.put(collection, key, encode(loaded), ttl_seconds)
            return loaded, "upstream"

        (result, source), leader = self._flights.do(l1_key, fill)
        if not leader:
            usage.coalesced_wait()
        elif source == "upstream":
            usage.miss(kind)
        else:
            usage.hit("l1" if source == "l1" else "l2")
        return result  # type: ignore[no-any-return]

    # -- destinations --------------------------------------------------------------------------------------------

    def resolve_destination(
        self, name: str, *, language_code: str | None = None, usage: MapsUsage | None = None
    ) -> Destination:
        """A destination name ("Kyoto", "東京", "Ciudad de México") -> place id, location, viewport, time zone."""
        self._require(
            (self.config.places_enabled, "MAPS_PLACES_API_ENABLED", "place search"),
            (self.config.geocoding_enabled, "MAPS_GEOCODING_API_ENABLED", "destination resolution"),
        )
        text = " ".join(name.split())
        if not text or len(text) > 200:
            raise InvalidRequest("a destination name must have 1 to 200 characters")
        counted = usage_or_new(usage)
        fields = DESTINATION_FIELDS + (DESTINATION_TIME_FIELDS if self.config.timezone_enabled else ())
        key = sha256_key("|".join(["destination", text.casefold(), (language_code or "-").lower(), ",".join(fields)]))

        def load() -> Destination:
            request = places_v1.SearchTextRequest(
                text_query=text, max_result_count=DESTINATION_CANDIDATES, language_code=language_code or ""
            )
            response = self._upstream(
                "search_text",
                lambda: self._places.get().search_text(
                    request, retry=None, timeout=self.config.request_timeout, metadata=_mask(fields)
                ),
                counted,
            )
            candidates = [found for found in map(convert.destination, response.places) if found is not None]
            if not candidates:
                raise MapsPlaceNotFound(f"no destination matches {text[:80]!r}")
            localities = [found for found in candidates if LOCALITY_TYPES.intersection(found.types)]
            return (localities or candidates)[0]

        return self._cached(
            "destination",
            key,
            SEARCH_CACHE,
            self.config.search_ttl_seconds,
            load,
            lambda found: found.model_dump(mode="json"),
            Destination.model_validate,
            counted,
        )

    # -- places --------------------------------------------------------------------------------------------------

    def search_places(self, search: PlaceSearch, *, usage: MapsUsage | None = None) -> tuple[Place, ...]:
        """Text search near a location; at most ``search.page_size`` (<= 20) places, best first.

        Open-now searches are not cached (the answer changes by the hour).
        """
        self._require((self.config.places_enabled, "MAPS_PLACES_API_ENABLED", "place search"))
        counted = usage_or_new(usage)
        key = sha256_key("search|" + search.cache_key())

        def load() -> tuple[Place, ...]:
            request = places_v1.SearchTextRequest(
                text_query=search.text,
                max_result_count=search.page_size,
                language_code=search.language_code or "",
                included_type=search.included_type or "",
                strict_type_filtering=bool(search.included_type),
                open_now=search.open_now,
                min_rating=search.min_rating or 0.0,
                price_levels=[places_v1.PriceLevel(level + 1) for level in sorted(set(search.price_levels))],
            )
            if search.near is not None:
                request.location_bias = places_v1.SearchTextRequest.LocationBias(
                    circle=places_v1.Circle(
                        center={"latitude": search.near.latitude, "longitude": search.near.longitude},
                        radius=search.radius_m,
                    )
                )
            response = self._upstream(
                "search_text",
                lambda: self._places.get().search_text(
                    request, retry=None, timeout=self.config.request_timeout, metadata=_mask(SEARCH_FIELDS)
                ),
                counted,
            )
            places = [found for found in map(convert.place, response.places) if found is not None]
            return tuple(places[: search.page_size])

        return self._cached(
            "search",
            key,
            SEARCH_CACHE,
            self.config.search_ttl_seconds,
            load,
            lambda places: {"places": [found.model_dump(mode="json") for found in places]},
            lambda data: tuple(Place.model_validate(item) for item in data["places"]),
            counted,
            cacheable=not search.open_now,
        )

    def _place_key(self, place_id: str, language_code: str | None) -> str:
        return place_id if not language_code else f"{place_id}@{language_code.lower()}"

    def _load_place(self, place_id: str, language_code: str | None, usage: MapsUsage) -> Place:
        request = places_v1.GetPlaceRequest(name=f"places/{place_id}", language_code=language_code or "")
        message = self._upstream(
            "get_place",
            lambda: self._places.get().get_place(
                request, retry=None, timeout=self.config.request_timeout, metadata=_mask(PLACE_DETAIL_FIELDS)
            ),
            usage,
        )
        found = convert.place(message)
        if found is None:
            raise MapsPlaceNotFound(f"Maps returned no usable place for {place_id!r}")
        return found

    def get_place(self, place_id: str, *, language_code: str | None = None, usage: MapsUsage | None = None) -> Place:
        """Place details (hours, rating, price, address, links, summary). ``MapsPlaceNotFound`` if unknown."""
        self._require((self.config.places_enabled, "MAPS_PLACES_API_ENABLED", "place details"))
        _check_place_id(place_id)
        counted = usage_or_new(usage)
        return self._cached(
            "place",
            self._place_key(place_id, language_code),
            PLACES_CACHE,
            self.config.place_ttl_seconds,
            lambda: self._load_place(place_id, language_code, counted),
            lambda found: found.model_dump(mode="json"),
            Place.model_validate,
            counted,
        )

    def get_places(
        self, place_ids: Sequence[str], *, language_code: str | None = None, usage: MapsUsage | None = None
    ) -> dict[str, Place]:
        """Details of several places: one batched L2 read for the L1 misses, then the remaining ids fetched in
        parallel (at most ``max_concurrency`` at a time)."""
        self._require((self.config.places_enabled, "MAPS_PLACES_API_ENABLED", "place details"))
        counted = usage_or_new(usage)
        ids = list(dict.fromkeys(place_ids))
        for place_id in ids:
            _check_place_id(place_id)
        found: dict[str, Place] = {}
        if self.config.caching_enabled:
            for place_id in ids:
                cached = self._l1.get(f"{PLACES_CACHE}/{self._place_key(place_id, language_code)}")
                if cached is not None:
                    found[place_id] = cached
                    counted.hit("l1")
        if self._l2 is not None:
            keys = {self._place_key(place_id, language_code): place_id for place_id in ids if place_id not in found}
            for key, hit in self._l2.get_many(PLACES_CACHE, keys).items():
                try:
                    place = Place.model_validate(hit.data)
                except ValueError:
                    continue
                self._l1.set(f"{PLACES_CACHE}/{key}", place, hit.remaining_seconds)
                found[keys[key]] = place
                counted.hit("l2")
        missing = [place_id for place_id in ids if place_id not in found]
        fetched = fan_out(
            lambda place_id: self.get_place(place_id, language_code=language_code, usage=counted),
            missing,
            self.config.max_concurrency,
        )
        found.update(zip(missing, fetched, strict=True))
        return {place_id: found[place_id] for place_id in ids}

    # -- routes --------------------------------------------------------------------------------------------------

    @staticmethod
    def _pair_key(mode: TravelMode, origin: Waypoint, destination: Waypoint) -> str:
        def point(waypoint: Waypoint) -> str:
            return f"{waypoint.id}@{waypoint.location.latitude:.5f},{waypoint.location.longitude:.5f}"

        return sha256_key(f"pair|{mode.value}|{point(origin)}|{point(destination)}")

    def travel_matrix(
        self,
        origins: Sequence[Place | Destination | Waypoint],
        destinations: Sequence[Place | Destination | Waypoint],
        mode: TravelMode,
        *,
        usage: MapsUsage | None = None,
    ) -> TravelMatrix:
        """Durations and distances for every origin -> destination pair (ids must name one location each).

        Pairs are cached one by one (partial hits work) in the compact leg documents ``route_legs`` uses (transit:
        band ``now``, no departure time); the misses are fetched in as few requests as the element limits allow.
        Elements that failed upstream come back with status ERROR and are not cached.
        """
        self._require((self.config.distance_matrix_enabled, "MAPS_DISTANCE_MATRIX_API_ENABLED", "travel matrices"))
        counted = usage_or_new(usage)
        origin_points = {point.id: point for point in map(Waypoint.of, origins)}
        destination_points = {point.id: point for point in map(Waypoint.of, destinations)}
        results: dict[tuple[str, str], TravelTime] = {}
        keys: dict[tuple[str, str], str] = {}
        slots: dict[tuple[str, str], tuple[str, str]] = {}
        band = time_band(mode, None)
        for origin in origin_points.values():
            for dest in destination_points.values():
                if origin.id == dest.id:
                    results[(origin.id, dest.id)] = TravelTime(
                        origin_id=origin.id, destination_id=dest.id, status="OK", duration_s=0, distance_m=0
                    )
                else:
                    area = area_of(origin.location.latitude, origin.location.longitude)
                    slots[(origin.id, dest.id)] = (doc_id(mode, band, area), leg_key(origin, dest))
                    keys[(origin.id, dest.id)] = "/".join(slots[(origin.id, dest.id)])
        caching = self.config.caching_enabled
        if caching:
            for pair, key in keys.items():
                cached = self._l1.get(f"legs/{key}")
                if isinstance(cached, CachedLeg):
                    results[pair] = cached.as_travel_time(*pair)
                    counted.hit("l1")
        docs: dict[str, LegDoc] = {}
        if caching and self._legs.enabled:
            wanted = [pair for pair in keys if pair not in results]
            docs = self._legs.read({slots[pair][0] for pair in wanted}) if wanted else {}
            for pair in wanted:
                name, key = slots[pair]
                hit = docs[name].entries.get(key) if name in docs else None
                if hit is not None:
                    results[pair] = hit.as_travel_time(*pair)
                    self._l1.set(f"legs/{keys[pair]}", hit)
                    counted.hit("l2")
        missing = [pair for pair in keys if pair not in results]
        counted.miss("matrix_element", len(missing))
        tiles = plan_tiles(missing, list(origin_points), list(destination_points), element_limit(mode))
        fresh: dict[str, dict[str, CachedLeg]] = {}
        meta: dict[str, dict[str, str]] = {}
        now = self._clock()
        for tile in tiles:
            tile_key = sha256_key(
                "tile|" + "|".join(keys.get((o, d), "-") for o in tile.origin_ids for d in tile.destination_ids)
            )
            entries, leader = self._flights.do(
                f"matrix/{mode.value}/{tile_key}",
                lambda tile=tile: self._fetch_tile(tile, origin_points, destination_points, mode, counted),  # type: ignore[misc]
            )
            if not leader:
                counted.coalesced_wait()
            for entry in entries:
                pair = (entry.origin_id, entry.destination_id)
                if pair in keys and pair not in results:
                    results[pair] = entry
                    if caching and entry.status != "ERROR":
                        origin = origin_points[pair[0]]
                        cached_leg = CachedLeg.of(entry, straight_metres(origin, destination_points[pair[1]]), now)
                        self._l1.set(f"legs/{keys[pair]}", cached_leg)
                        name, key = slots[pair]
                        fresh.setdefault(name, {})[key] = cached_leg
                        area = area_of(origin.location.latitude, origin.location.longitude)
                        meta[name] = {"mode": mode.value, "band": band, "area": area}
        if fresh:
            self._legs.write(fresh, docs, meta)
        ordered = tuple(
            results.get((o, d)) or TravelTime(origin_id=o, destination_id=d, status="ERROR")
            for o in origin_points
            for d in destination_points
        )
        return TravelMatrix(
            mode=mode, origin_ids=tuple(origin_points), destination_ids=tuple(destination_points), entries=ordered
        )

    def _fetch_tile(
        self,
        tile: Tile,
        origin_points: dict[str, Waypoint],
        destination_points: dict[str, Waypoint],
        mode: TravelMode,
        usage: MapsUsage,
        departure: dt.datetime | None = None,
    ) -> list[TravelTime]:
        def waypoint(point: Waypoint) -> routing_v2.Waypoint:
            return routing_v2.Waypoint(
                location={"lat_lng": {"latitude": point.location.latitude, "longitude": point.location.longitude}}
            )

        request = routing_v2.ComputeRouteMatrixRequest(
            origins=[routing_v2.RouteMatrixOrigin(waypoint=waypoint(origin_points[o])) for o in tile.origin_ids],
            destinations=[
                routing_v2.RouteMatrixDestination(waypoint=waypoint(destination_points[d]))
                for d in tile.destination_ids
            ],
            travel_mode=_MODE_TO_PROTO[mode],
        )
        if mode is TravelMode.DRIVE:
            request.routing_preference = routing_v2.RoutingPreference.TRAFFIC_UNAWARE  # type: ignore[assignment]
        if mode is TravelMode.TRANSIT and departure is not None:
            request.departure_time = departure
        elements = self._upstream(
            "compute_route_matrix",
            lambda: list(
                self._routes.get().compute_route_matrix(
                    request, retry=None, timeout=self.config.request_timeout, metadata=_mask(MATRIX_FIELDS)
                )
            ),
            usage,
        )
        usage.elements(tile.elements)
        entries = []
        for element in elements:
            if not (0 <= element.origin_index < len(tile.origin_ids)):
                continue
            if not (0 <= element.destination_index < len(tile.destination_ids)):
                continue
            origin_id = tile.origin_ids[element.origin_index]
            destination_id = tile.destination_ids[element.destination_index]
            condition = routing_v2.RouteMatrixElementCondition
            if element.status.code != 0:
                entries.append(TravelTime(origin_id=origin_id, destination_id=destination_id, status="ERROR"))
            elif element.condition == condition.ROUTE_EXISTS:
                entries.append(
                    TravelTime(
                        origin_id=origin_id,
                        destination_id=destination_id,
                        status="OK",
                        duration_s=convert.duration_seconds(element.duration),
                        distance_m=max(0, int(element.distance_meters)),
                    )
                )
            elif element.condition == condition.ROUTE_NOT_FOUND:
                entries.append(TravelTime(origin_id=origin_id, destination_id=destination_id, status="ROUTE_NOT_FOUND"))
            else:
                entries.append(TravelTime(origin_id=origin_id, destination_id=destination_id, status="ERROR"))
        return entries

    # -- legs a plan uses: compact cache, fewest billable units ------------------------------------------------

    def route_legs(
        self, queries: Sequence[LegQuery], mode: TravelMode, *, usage: MapsUsage | None = None
    ) -> list[TravelTime]:
        """Real travel for each query, in order: status OK or ROUTE_NOT_FOUND, or ERROR for an element a route matrix
        could not compute. A request that fails through its retries raises (``MapsUnavailable``, ...), as elsewhere.

        Cached per area, mode and time band in few documents (``common.domain.maps.legs``); the misses are fetched
        with the fewest billable units: per time band, Compute Routes (walking and driving chain consecutive legs
        through up to ``MAX_ESSENTIALS_INTERMEDIATES`` intermediate waypoints; transit legs go one by one, with their
        departure time) or one route matrix over the misses' origins and destinations, whichever bills less.
        """
        if not self.config.directions_enabled:  # Compute Routes off: legs come from route matrices
            self._require(
                (self.config.distance_matrix_enabled, "MAPS_DISTANCE_MATRIX_API_ENABLED", "travel legs"),
            )
        counted = usage_or_new(usage)
        caching = self.config.caching_enabled
        results: list[TravelTime | None] = [None] * len(queries)
        slots: list[tuple[str, str]] = []
        pending: list[int] = []
        for index, query in enumerate(queries):
            origin, destination = query.origin, query.destination
            slot = (
                doc_id(mode, query.band(mode), area_of(origin.location.latitude, origin.location.longitude)),
                leg_key(origin, destination),
            )
            slots.append(slot)
            if origin.id == destination.id:
                results[index] = TravelTime(
                    origin_id=origin.id, destination_id=destination.id, status="OK", duration_s=0, distance_m=0
                )
                continue
            cached = self._l1.get(f"legs/{slot[0]}/{slot[1]}") if caching else None
            if isinstance(cached, CachedLeg):
                results[index] = cached.as_travel_time(origin.id, destination.id)
                counted.hit("l1")
            else:
                pending.append(index)
        docs: dict[str, LegDoc] = {}
        if pending and caching and self._legs.enabled:
            docs = self._legs.read({slots[index][0] for index in pending})
            still = []
            for index in pending:
                name, key = slots[index]
                hit = docs[name].entries.get(key) if name in docs else None
                if hit is None:
                    still.append(index)
                    continue
                query = queries[index]
                results[index] = hit.as_travel_time(query.origin.id, query.destination.id)
                self._l1.set(f"legs/{name}/{key}", hit)
                counted.hit("l2")
            pending = still
        if pending:
            first_of: dict[tuple[str, str], int] = {}
            for index in pending:
                first_of.setdefault(slots[index], index)
            unique = list(first_of.values())  # the same leg in the same band is fetched once
            counted.miss("leg", len(unique))
            answers = dict(
                zip(unique, self._fetch_legs([queries[index] for index in unique], mode, counted), strict=True)
            )
            fetched = [answers[first_of[slots[index]]] for index in pending]
            now = self._clock()
            fresh: dict[str, dict[str, CachedLeg]] = {}
            meta: dict[str, dict[str, str]] = {}
            for index, travel in zip(pending, fetched, strict=True):
                results[index] = travel
                if travel.status == "ERROR" or not caching:
                    continue
                query, (name, key) = queries[index], slots[index]
                entry = CachedLeg.of(travel, straight_metres(query.origin, query.destination), now)
                self._l1.set(f"legs/{name}/{key}", entry)
                fresh.setdefault(name, {})[key] = entry
                meta[name] = {
                    "mode": mode.value,
                    "band": query.band(mode),
                    "area": area_of(query.origin.location.latitude, query.origin.location.longitude),
                }
            self._legs.write(fresh, docs, meta)
        return [
            result or TravelTime(origin_id=query.origin.id, destination_id=query.destination.id, status="ERROR")
            for result, query in zip(results, queries, strict=True)
        ]

    def cached_legs(self, mode: TravelMode, near: Waypoint | Place | Destination) -> dict[str, CachedLeg]:
        """Every fresh cached real leg of ``mode`` starting in the area of ``near`` (all time bands): the samples
        that calibrate travel estimates for a city, by leg key (``legs.leg_key``). Reads at most 16 documents (one
        per transit band); no Maps call."""
        if not self.config.caching_enabled or not self._legs.enabled:
            return {}
        point = Waypoint.of(near)
        area = area_of(point.location.latitude, point.location.longitude)
        bands = transit_bands() if mode is TravelMode.TRANSIT else ["any"]
        docs = self._legs.read(doc_id(mode, band, area) for band in bands)
        return {key: leg for found in docs.values() for key, leg in found.entries.items()}

    def _fetch_legs(self, queries: list[LegQuery], mode: TravelMode, usage: MapsUsage) -> list[TravelTime]:
        """Fetch ``queries`` (all misses) with the cheapest of the request shapes above; results in order."""
        by_band: dict[str, list[int]] = {}
        for index, query in enumerate(queries):
            by_band.setdefault(query.band(mode), []).append(index)
        jobs: list[Callable[[], list[tuple[int, TravelTime]]]] = []
        for indexes in by_band.values():
            chains = self._chains(queries, indexes, mode)
            origins = list(dict.fromkeys(queries[index].origin.id for index in indexes))
            destinations = list(dict.fromkeys(queries[index].destination.id for index in indexes))
            pairs = [(queries[index].origin.id, queries[index].destination.id) for index in indexes]
            elements = sum(tile.elements for tile in plan_tiles(pairs, origins, destinations, element_limit(mode)))
            routes_usd = len(chains) * self.config.route_request_usd_per_1000
            matrix_usd = elements * self.config.matrix_element_usd_per_1000
            matrix_cheaper = matrix_usd < routes_usd and self.config.distance_matrix_enabled
            if matrix_cheaper or not self.config.directions_enabled:
                jobs.append(lambda indexes=indexes: self._legs_by_matrix(queries, indexes, mode, usage))  # type: ignore[misc]
            else:
                for chain in chains:
                    jobs.append(lambda chain=chain: self._legs_by_route(queries, chain, mode, usage))  # type: ignore[misc]
        answers = fan_out(lambda job: job(), jobs, self.config.max_concurrency)
        found = {index: travel for answer in answers for index, travel in answer}
        return [
            found.get(index)
            or TravelTime(origin_id=query.origin.id, destination_id=query.destination.id, status="ERROR")
            for index, query in enumerate(queries)
        ]

    @staticmethod
    def _chains(queries: list[LegQuery], indexes: list[int], mode: TravelMode) -> list[list[int]]:
        """Consecutive legs (one's destination is the next one's origin) as one route through intermediate
        waypoints; transit takes no intermediates, so each of its legs is a chain of one."""
        chains: list[list[int]] = []
        for index in indexes:
            if (
                chains
                and mode is not TravelMode.TRANSIT
                and len(chains[-1]) <= MAX_ESSENTIALS_INTERMEDIATES
                and queries[chains[-1][-1]].destination.id == queries[index].origin.id
            ):
                chains[-1].append(index)
            else:
                chains.append([index])
        return chains

    @staticmethod
    def _waypoint(point: Waypoint) -> routing_v2.Waypoint:
        return routing_v2.Waypoint(
            location={"lat_lng": {"latitude": point.location.latitude, "longitude": point.location.longitude}}
        )

    def _legs_by_route(
        self, queries: list[LegQuery], chain: list[int], mode: TravelMode, usage: MapsUsage
    ) -> list[tuple[int, TravelTime]]:
        first, last = queries[chain[0]], queries[chain[-1]]
        request = routing_v2.ComputeRoutesRequest(
            origin=self._waypoint(first.origin),
            destination=self._waypoint(last.destination),
            intermediates=[self._waypoint(queries[index].origin) for index in chain[1:]],
            travel_mode=_MODE_TO_PROTO[mode],
        )
        if mode is TravelMode.DRIVE:
            request.routing_preference = routing_v2.RoutingPreference.TRAFFIC_UNAWARE  # type: ignore[assignment]
        if mode is TravelMode.TRANSIT and first.departure is not None:
            request.departure_time = first.departure
        response = self._upstream(
            "compute_routes",
            lambda: self._routes.get().compute_routes(
                request, retry=None, timeout=self.config.request_timeout, metadata=_mask(ROUTE_LEG_FIELDS)
            ),
            usage,
        )
        legs = list(response.routes[0].legs) if response.routes else []
        if len(legs) != len(chain):
            if len(chain) > 1:  # no route through every stop: ask leg by leg to find which one has none
                return [item for index in chain for item in self._legs_by_route(queries, [index], mode, usage)]
            status = "ROUTE_NOT_FOUND" if not response.routes else "ERROR"
            return [
                (chain[0], TravelTime(origin_id=first.origin.id, destination_id=first.destination.id, status=status))
            ]
        return [
            (
                index,
                TravelTime(
                    origin_id=queries[index].origin.id,
                    destination_id=queries[index].destination.id,
                    status="OK",
                    duration_s=convert.duration_seconds(leg.duration),
                    distance_m=max(0, int(leg.distance_meters)),
                ),
            )
            for index, leg in zip(chain, legs, strict=True)
        ]

    def _legs_by_matrix(
        self, queries: list[LegQuery], indexes: list[int], mode: TravelMode, usage: MapsUsage
    ) -> list[tuple[int, TravelTime]]:
        origins = {queries[index].origin.id: queries[index].origin for index in indexes}
        destinations = {queries[index].destination.id: queries[index].destination for index in indexes}
        departures = [queries[index].departure for index in indexes]
        departure = min((when for when in departures if when is not None), default=None)
        wanted = [(queries[index].origin.id, queries[index].destination.id) for index in indexes]
        entries: dict[tuple[str, str], TravelTime] = {}
        for tile in plan_tiles(wanted, list(origins), list(destinations), element_limit(mode)):
            found = self._fetch_tile(tile, origins, destinations, mode, usage, departure)
            entries.update({(entry.origin_id, entry.destination_id): entry for entry in found})
        return [(index, entries[pair]) for index, pair in zip(indexes, wanted, strict=True) if pair in entries]

    def route(
        self,
        origin: Place | Destination | Waypoint,
        destination: Place | Destination | Waypoint,
        mode: TravelMode,
        *,
        include_polyline: bool = False,
        usage: MapsUsage | None = None,
    ) -> Route | None:
        """One leg from ``origin`` to ``destination``; ``None`` when Maps finds no route."""
        self._require((self.config.directions_enabled, "MAPS_DIRECTIONS_API_ENABLED", "routes"))
        counted = usage_or_new(usage)
        start, end = Waypoint.of(origin), Waypoint.of(destination)
        fields = ROUTE_FIELDS + (ROUTE_POLYLINE_FIELDS if include_polyline else ())
        key = sha256_key(f"route|{include_polyline}|{self._pair_key(mode, start, end)}")

        def load() -> _RouteLookup:
            def point(waypoint: Waypoint) -> routing_v2.Waypoint:
                return routing_v2.Waypoint(
                    location={
                        "lat_lng": {"latitude": waypoint.location.latitude, "longitude": waypoint.location.longitude}
                    }
                )

            request = routing_v2.ComputeRoutesRequest(
                origin=point(start), destination=point(end), travel_mode=_MODE_TO_PROTO[mode]
            )
            if mode is TravelMode.DRIVE:
                request.routing_preference = routing_v2.RoutingPreference.TRAFFIC_UNAWARE  # type: ignore[assignment]
            response = self._upstream(
                "compute_routes",
                lambda: self._routes.get().compute_routes(
                    request, retry=None, timeout=self.config.request_timeout, metadata=_mask(fields)
                ),
                counted,
            )
            if not response.routes:
                return _RouteLookup(route=None)
            return _RouteLookup(route=convert.route(response.routes[0], mode, start.id, end.id))

        lookup = self._cached(
            "route",
            key,
            ROUTE_CACHE,
            self.config.route_ttl_seconds,
            load,
            lambda value: value.model_dump(mode="json"),
            _RouteLookup.model_validate,
            counted,
        )
        return lookup.route


class _RouteLookup(BaseModel):
    """A route answer as cached: ``route`` is None when Maps found none (so that miss is not repeated)."""

    model_config = ConfigDict(frozen=True)
    route: Route | None = None
