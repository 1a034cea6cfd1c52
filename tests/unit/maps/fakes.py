"""In-process fakes of the places_v1 / routing_v2 clients for unit tests (no servers)."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from google.api_core import exceptions as core_exceptions
from google.maps import places_v1, routing_v2

from scripts.maps_standin.travel_model import estimate


def api_error(kind: type[core_exceptions.GoogleAPICallError], message: str = "injected") -> Exception:
    """An api_core exception as the REST transport raises it (their constructors are untyped)."""
    return kind(message)


def make_place(place_id: str, name: str, lat: float, lng: float, **extra: Any) -> places_v1.Place:
    return places_v1.Place(
        id=place_id,
        display_name={"text": name, "language_code": "en"},
        location={"latitude": lat, "longitude": lng},
        types=extra.pop("types", ["museum", "tourist_attraction"]),
        **extra,
    )


class FakeClock:
    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakePlaces:
    """Answers from a dict of places; ``delay`` holds each call open so concurrent callers overlap;
    ``failures`` is a list of exceptions raised by the next calls, in order."""

    def __init__(self, places: Sequence[places_v1.Place], delay: float = 0.0) -> None:
        self.places = {place.id: place for place in places}
        self.delay = delay
        self.failures: list[Exception] = []
        self.calls: Counter[str] = Counter()
        self.masks: list[str] = []
        self.requests: list[Any] = []
        self._lock = threading.Lock()

    def _enter(self, kind: str, metadata: Sequence[tuple[str, str]], request: Any) -> None:
        with self._lock:
            self.calls[kind] += 1
            self.masks.append(dict(metadata)["x-goog-fieldmask"])
            self.requests.append(request)
            failure = self.failures.pop(0) if self.failures else None
        if self.delay:
            time.sleep(self.delay)
        if failure is not None:
            raise failure

    def search_text(
        self, request: places_v1.SearchTextRequest, *, retry: Any, timeout: float, metadata: Sequence[tuple[str, str]]
    ) -> places_v1.SearchTextResponse:
        self._enter("search_text", metadata, request)
        words = request.text_query.casefold().split()
        found = [p for p in self.places.values() if any(w in p.display_name.text.casefold() for w in words)]
        return places_v1.SearchTextResponse(places=found[: request.max_result_count or 20])

    def get_place(
        self, request: places_v1.GetPlaceRequest, *, retry: Any, timeout: float, metadata: Sequence[tuple[str, str]]
    ) -> places_v1.Place:
        self._enter("get_place", metadata, request)
        place_id = request.name.removeprefix("places/")
        if place_id not in self.places:
            raise api_error(core_exceptions.NotFound, f"no place {place_id}")
        return self.places[place_id]


class FakeRoutes:
    """Matrix and routes from the stand-in's travel model; records each request's size."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.failures: list[Exception] = []
        self.calls: Counter[str] = Counter()
        self.matrix_sizes: list[tuple[int, int]] = []
        self._lock = threading.Lock()

    def _enter(self, kind: str) -> None:
        with self._lock:
            self.calls[kind] += 1
            failure = self.failures.pop(0) if self.failures else None
        if self.delay:
            time.sleep(self.delay)
        if failure is not None:
            raise failure

    @staticmethod
    def _mode(travel_mode: routing_v2.RouteTravelMode) -> str:
        return {
            routing_v2.RouteTravelMode.WALK: "walk",
            routing_v2.RouteTravelMode.TRANSIT: "transit",
            routing_v2.RouteTravelMode.DRIVE: "drive",
        }[travel_mode]

    def compute_route_matrix(
        self,
        request: routing_v2.ComputeRouteMatrixRequest,
        *,
        retry: Any,
        timeout: float,
        metadata: Sequence[tuple[str, str]],
    ) -> Iterable[routing_v2.RouteMatrixElement]:
        self._enter("compute_route_matrix")
        with self._lock:
            self.matrix_sizes.append((len(request.origins), len(request.destinations)))
        mode = self._mode(request.travel_mode)
        elements = []
        for i, origin in enumerate(request.origins):
            for j, dest in enumerate(request.destinations):
                a, b = origin.waypoint.location.lat_lng, dest.waypoint.location.lat_lng
                travel = estimate(mode, a.latitude, a.longitude, b.latitude, b.longitude)
                condition = routing_v2.RouteMatrixElementCondition
                if travel is None:
                    elements.append(
                        routing_v2.RouteMatrixElement(
                            origin_index=i, destination_index=j, condition=condition.ROUTE_NOT_FOUND
                        )
                    )
                else:
                    elements.append(
                        routing_v2.RouteMatrixElement(
                            origin_index=i,
                            destination_index=j,
                            condition=condition.ROUTE_EXISTS,
                            duration={"seconds": travel.duration_s},
                            distance_meters=travel.distance_m,
                        )
                    )
        return iter(elements)

    def compute_routes(
        self,
        request: routing_v2.ComputeRoutesRequest,
        *,
        retry: Any,
        timeout: float,
        metadata: Sequence[tuple[str, str]],
    ) -> routing_v2.ComputeRoutesResponse:
        self._enter("compute_routes")
        points = [request.origin, *request.intermediates, request.destination]
        legs = []
        for start, end in itertools.pairwise(points):
            a, b = start.location.lat_lng, end.location.lat_lng
            travel = estimate(self._mode(request.travel_mode), a.latitude, a.longitude, b.latitude, b.longitude)
            if travel is None:
                return routing_v2.ComputeRoutesResponse()
            legs.append(routing_v2.RouteLeg(duration={"seconds": travel.duration_s}, distance_meters=travel.distance_m))
        route = routing_v2.Route(
            duration={"seconds": sum(int(leg.duration.total_seconds()) for leg in legs)},
            distance_meters=sum(leg.distance_meters for leg in legs),
            legs=legs,
        )
        return routing_v2.ComputeRoutesResponse(routes=[route])
