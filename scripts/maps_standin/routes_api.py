"""Routes API answers (computeRouteMatrix, computeRoutes) from the deterministic travel model."""

from __future__ import annotations

import itertools
import zoneinfo
from datetime import datetime
from typing import Any

from scripts.maps_standin.loader import Catalogue
from scripts.maps_standin.places_api import LOCALITY_PREFIX
from scripts.maps_standin.travel_model import TravelEstimate, haversine_m, road_travel

TRAVEL_MODES = {"TRAVEL_MODE_UNSPECIFIED": 0, "DRIVE": 1, "BICYCLE": 2, "WALK": 3, "TWO_WHEELER": 4, "TRANSIT": 7}
MODEL_MODE = {"DRIVE": "drive", "WALK": "walk", "TRANSIT": "transit"}
CONDITION_ENUM = {"ROUTE_MATRIX_ELEMENT_CONDITION_UNSPECIFIED": 0, "ROUTE_EXISTS": 1, "ROUTE_NOT_FOUND": 2}
MAX_ELEMENTS = 625
MAX_TRANSIT_ELEMENTS = 100
MAX_PLACE_ID_WAYPOINTS = 50
MAX_INTERMEDIATES = 25
NOT_FOUND_CODE = 5

MATRIX_ELEMENT_FIELDS: dict[str, frozenset[str] | None] = {
    name: None
    for name in (
        "originIndex",
        "destinationIndex",
        "status",
        "condition",
        "distanceMeters",
        "duration",
        "staticDuration",
        "travelAdvisory",
        "fallbackInfo",
        "localizedValues",
    )
}
ROUTES_RESPONSE_FIELDS: dict[str, frozenset[str] | None] = {
    "routes": frozenset(
        {
            "legs",
            "distanceMeters",
            "duration",
            "staticDuration",
            "polyline",
            "description",
            "warnings",
            "viewport",
            "travelAdvisory",
            "localizedValues",
            "routeLabels",
            "routeToken",
            "optimizedIntermediateWaypointIndex",
            "polylineDetails",
        }
    ),
    "fallbackInfo": None,
    "geocodingResults": None,
}


class RoutesError(ValueError):
    """The request is invalid (answered with 400 INVALID_ARGUMENT)."""


def parse_travel_mode(value: Any) -> str:
    """An enum value (int or name) -> the travel model's mode name; unspecified means DRIVE, as on Google."""
    if value is None:
        return "drive"
    names = {number: name for name, number in TRAVEL_MODES.items()}
    name = names.get(value) if isinstance(value, int) else value
    if name in (None, "TRAVEL_MODE_UNSPECIFIED"):
        return "drive"
    if name not in MODEL_MODE:
        raise RoutesError(f"travel mode {value!r} is not supported by the stand-in")
    return MODEL_MODE[str(name)]


def _point(catalogue: Catalogue, waypoint: Any, what: str) -> tuple[float, float] | None:
    """Coordinates of a Waypoint (location or catalogue place id); ``None`` for an unknown place id."""
    if not isinstance(waypoint, dict):
        raise RoutesError(f"{what} must be a Waypoint")
    if "location" in waypoint:
        lat_lng = (waypoint["location"] or {}).get("latLng") or {}
        return float(lat_lng.get("latitude", 0.0)), float(lat_lng.get("longitude", 0.0))
    place_id = waypoint.get("placeId")
    if isinstance(place_id, str):
        if place_id.startswith(LOCALITY_PREFIX) and place_id[len(LOCALITY_PREFIX) :] in catalogue.cities:
            city = catalogue.cities[place_id[len(LOCALITY_PREFIX) :]]
            return city.center.lat, city.center.lng
        place = catalogue.places.get(place_id)
        return (place.location.lat, place.location.lng) if place else None
    raise RoutesError(f"{what}: only location and placeId waypoints are supported by the stand-in")


def _duration(seconds: int) -> str:
    return f"{seconds}s"


def _local_hour(catalogue: Catalogue, body: dict[str, Any], point: tuple[float, float]) -> int | None:
    """The hour of ``departureTime`` in the time zone of the catalogue city nearest to ``point``."""
    raw = body.get("departureTime")
    if not isinstance(raw, str) or not catalogue.cities:
        return None
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise RoutesError(f"departureTime {raw!r} is not an RFC 3339 timestamp") from None
    city = min(
        catalogue.cities.values(), key=lambda item: haversine_m(point[0], point[1], item.center.lat, item.center.lng)
    )
    try:
        return when.astimezone(zoneinfo.ZoneInfo(city.time_zone)).hour
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return when.hour


def _travel(
    mode: str, origin: tuple[float, float], destination: tuple[float, float], variation: bool, hour: int | None
) -> TravelEstimate | None:
    return road_travel(mode, origin[0], origin[1], destination[0], destination[1], variation=variation, local_hour=hour)


def compute_route_matrix(catalogue: Catalogue, body: dict[str, Any], variation: bool = False) -> list[dict[str, Any]]:
    """Every element of the matrix, row by row (enum values as names)."""
    origins = body.get("origins") or []
    destinations = body.get("destinations") or []
    if not origins or not destinations:
        raise RoutesError("origins and destinations must not be empty")
    mode = parse_travel_mode(body.get("travelMode"))
    elements = len(origins) * len(destinations)
    limit = MAX_TRANSIT_ELEMENTS if mode == "transit" else MAX_ELEMENTS
    if elements > limit:
        raise RoutesError(f"the request has {elements} elements; at most {limit} are allowed for this travel mode")
    by_place_id = sum(1 for item in (*origins, *destinations) if "placeId" in ((item or {}).get("waypoint") or {}))
    if by_place_id > MAX_PLACE_ID_WAYPOINTS:
        raise RoutesError(f"at most {MAX_PLACE_ID_WAYPOINTS} origins and destinations may be given by place id")
    origin_points = [_point(catalogue, (item or {}).get("waypoint"), f"origins[{i}]") for i, item in enumerate(origins)]
    destination_points = [
        _point(catalogue, (item or {}).get("waypoint"), f"destinations[{i}]") for i, item in enumerate(destinations)
    ]
    answer = []
    known = next((point for point in origin_points if point is not None), None)
    hour = _local_hour(catalogue, body, known) if known is not None and mode == "transit" else None
    for origin_index, origin in enumerate(origin_points):
        for destination_index, destination in enumerate(destination_points):
            element: dict[str, Any] = {"originIndex": origin_index, "destinationIndex": destination_index}
            if origin is None or destination is None:
                element["status"] = {"code": NOT_FOUND_CODE, "message": "waypoint place id not found"}
                answer.append(element)
                continue
            travel = _travel(mode, origin, destination, variation, hour)
            element["status"] = {}
            if travel is None:
                element["condition"] = "ROUTE_NOT_FOUND"
            else:
                element["condition"] = "ROUTE_EXISTS"
                element["distanceMeters"] = travel.distance_m
                element["duration"] = _duration(travel.duration_s)
                element["staticDuration"] = _duration(travel.duration_s)
            answer.append(element)
    return answer


def encode_polyline(points: list[tuple[float, float]]) -> str:
    """Google's encoded polyline format (precision 1e-5)."""
    output = []
    previous = (0, 0)
    for lat, lng in points:
        current = (round(lat * 1e5), round(lng * 1e5))
        for delta in (current[0] - previous[0], current[1] - previous[1]):
            value = ~(delta << 1) if delta < 0 else delta << 1
            while value >= 0x20:
                output.append(chr((0x20 | (value & 0x1F)) + 63))
                value >>= 5
            output.append(chr(value + 63))
        previous = current
    return "".join(output)


def _leg(origin: tuple[float, float], destination: tuple[float, float], travel: TravelEstimate) -> dict[str, Any]:
    return {
        "distanceMeters": travel.distance_m,
        "duration": _duration(travel.duration_s),
        "staticDuration": _duration(travel.duration_s),
        "polyline": {"encodedPolyline": encode_polyline([origin, destination])},
        "startLocation": {"latLng": {"latitude": origin[0], "longitude": origin[1]}},
        "endLocation": {"latLng": {"latitude": destination[0], "longitude": destination[1]}},
    }


def compute_routes(catalogue: Catalogue, body: dict[str, Any], variation: bool = False) -> dict[str, Any]:
    """One route with one leg per stretch between waypoints (origin, intermediates, destination), each a straight
    polyline, or ``{}`` when a stretch has no route, as Google answers. Transit takes no intermediates (as on Google).
    """
    mode = parse_travel_mode(body.get("travelMode"))
    intermediates = body.get("intermediates") or []
    if not isinstance(intermediates, list):
        raise RoutesError("intermediates must be a list of Waypoints")
    if intermediates and mode == "transit":
        raise RoutesError("intermediate waypoints are not supported for TRANSIT routes")
    if len(intermediates) > MAX_INTERMEDIATES:
        raise RoutesError(f"at most {MAX_INTERMEDIATES} intermediate waypoints are allowed")
    points = [_point(catalogue, body.get("origin"), "origin")]
    points += [_point(catalogue, item, f"intermediates[{i}]") for i, item in enumerate(intermediates)]
    points.append(_point(catalogue, body.get("destination"), "destination"))
    located = [point for point in points if point is not None]
    if len(located) != len(points):
        raise RoutesError("a waypoint place id was not found")
    hour = _local_hour(catalogue, body, located[0]) if mode == "transit" else None
    legs = []
    for start, end in itertools.pairwise(located):
        travel = _travel(mode, start, end, variation, hour)
        if travel is None:
            return {}
        legs.append(_leg(start, end, travel))
    metres = sum(int(leg["distanceMeters"]) for leg in legs)
    seconds = sum(int(str(leg["duration"])[:-1]) for leg in legs)
    route = {
        "legs": legs,
        "distanceMeters": metres,
        "duration": _duration(seconds),
        "staticDuration": _duration(seconds),
        "polyline": {"encodedPolyline": encode_polyline(located)},
    }
    return {"routes": [route]}
