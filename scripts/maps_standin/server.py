"""HTTP server of the Maps stand-in: the REST subset the places_v1 / routing_v2 clients use, plus admin paths.

API paths (an ``x-goog-api-key`` header, or ``key`` parameter, and a field mask are required):
  POST /v1/places:searchText, GET /v1/places/{id}, POST /distanceMatrix/v2:computeRouteMatrix,
  POST /directions/v2:computeRoutes
Admin paths (no key):
  GET /__admin/health; GET /__admin/calls -> counts per operation; POST /__admin/reset (counters, faults back to
  the start-up settings, clock); GET|POST /__admin/faults {error_rate, error_code, latency_ms, fail_next, seed};
  POST /__admin/clock {"now": "2025-06-02T10:00:00Z" | null} pins the time used for openNow and UTC offsets.
  POST /__admin/travel {"road_variation": true|false}: real-looking travel times (a per-pair factor, transit rush
  hours) instead of the plain straight-line model (off at start unless MAPS_STANDIN_ROAD_VARIATION=1).
  GET /__admin/weather: the overrides; POST /__admin/weather {"force": {"date", "latitude", "longitude",
  "kind": "rain"|"dry"}} decides one date's weather within 60 km of a place, {"fail": true|false} makes every
  Weather API call answer 503 (or stops it), {"clear": true} drops the overrides (reset drops them too).
Weather API (``weather_api.py``): GET /v1/forecast/days:lookup?key=...&location.latitude=..&location.longitude=..
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from scripts.maps_standin import places_api, routes_api, weather_api
from scripts.maps_standin.fieldmask import FieldMaskError, apply_mask, parse_mask, validate_mask
from scripts.maps_standin.loader import Catalogue

OPERATIONS = ("search_text", "get_place", "compute_route_matrix", "compute_routes", "lookup_forecast_days")
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
FAULT_CODES = frozenset({429, 500, 502, 503, 504})
MAX_BODY_BYTES = 1 << 20
_ENUM_FIELDS = {
    "priceLevel": places_api.PRICE_LEVEL_ENUM,
    "businessStatus": places_api.BUSINESS_STATUS_ENUM,
    "condition": routes_api.CONDITION_ENUM,
}


@dataclass(frozen=True)
class Faults:
    error_rate: float = 0.0
    error_code: int = 503
    latency_ms: int = 0
    fail_next: int = 0
    seed: int = 0

    def validated(self) -> Faults:
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError("error_rate must be between 0 and 1")
        if self.error_code not in FAULT_CODES:
            raise ValueError(f"error_code must be one of {sorted(FAULT_CODES)}")
        if self.latency_ms < 0 or self.fail_next < 0:
            raise ValueError("latency_ms and fail_next must not be negative")
        return self


class ApiError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class StandinState:
    """Catalogue, faults, call counters and the clock, shared by the handler threads."""

    def __init__(
        self,
        catalogue: Catalogue,
        faults: Faults,
        api_key: str | None = None,
        now: datetime | None = None,
        road_variation: bool = False,
    ) -> None:
        self.catalogue = catalogue
        self.api_key = api_key
        self._initial_faults = faults.validated()
        self._initial_now = now
        self._initial_road_variation = road_variation
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.faults = self._initial_faults
            self._rng = random.Random(self.faults.seed)
            self._fail_next = self.faults.fail_next
            self.calls = dict.fromkeys(OPERATIONS, 0)
            self.elements = 0
            self.injected_failures = 0
            self.pinned_now = self._initial_now
            self.road_variation = self._initial_road_variation
            self.forced_weather: list[weather_api.ForcedWeather] = []
            self.weather_failing = False

    def set_faults(self, faults: Faults) -> None:
        with self._lock:
            self.faults = faults.validated()
            self._rng = random.Random(faults.seed)
            self._fail_next = faults.fail_next

    def now(self) -> datetime:
        return self.pinned_now or datetime.now(UTC)

    def record_call(self, operation: str) -> int | None:
        """Count a call and decide whether a fault is injected: the HTTP code to fail with, or ``None``."""
        with self._lock:
            self.calls[operation] += 1
            fail = False
            if self._fail_next > 0:
                self._fail_next -= 1
                fail = True
            elif self.faults.error_rate > 0.0 and self._rng.random() < self.faults.error_rate:
                fail = True
            if fail:
                self.injected_failures += 1
            return self.faults.error_code if fail else None

    def add_elements(self, count: int) -> None:
        with self._lock:
            self.elements += count

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "calls": dict(self.calls),
                "total": sum(self.calls.values()),
                "elements": self.elements,
                "injected_failures": self.injected_failures,
            }


def _int_enums(value: Any) -> Any:
    """Turn enum names into numbers, as Google does for ``$alt=json;enum-encoding=int``."""
    if isinstance(value, list):
        return [_int_enums(item) for item in value]
    if not isinstance(value, dict):
        return value
    converted = {}
    for key, item in value.items():
        table = _ENUM_FIELDS.get(key)
        converted[key] = table.get(item, 0) if table is not None and isinstance(item, str) else _int_enums(item)
    return converted


class StandinHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm on, the body waits for the client's delayed
    # ACK of the headers, adding about 40 ms to every call on a kept-alive connection.
    disable_nagle_algorithm = True
    server: StandinServer

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    # -- plumbing -------------------------------------------------------------------------------------------------

    def _send_json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        if status == 429:
            self.send_header("Retry-After", "1")
        self.end_headers()
        self.wfile.write(body)

    def _send_error(self, code: int, message: str) -> None:
        status = STATUS_NAMES.get(code, "UNKNOWN")
        self._send_json(code, {"error": {"code": code, "message": message, "status": status}})

    def _read_json(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise ApiError(413, "request body too large")
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        try:
            document = json.loads(raw)
        except ValueError:
            raise ApiError(400, "invalid JSON payload") from None
        if not isinstance(document, dict):
            raise ApiError(400, "the payload must be a JSON object")
        return document

    def _split(self) -> tuple[str, dict[str, list[str]]]:
        parts = urlsplit(self.path)
        return unquote(parts.path), parse_qs(parts.query)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        path, query = self._split()
        try:
            if path.startswith("/__admin/"):
                self._admin(method, path, self._read_json() if method == "POST" else {})
                return
            operation = self._operation(method, path)
            body = self._read_json() if method == "POST" else {}
            self._api(operation, path, query, body)
        except ApiError as exc:
            self._send_error(exc.code, exc.message)
        except Exception as exc:
            self._send_error(500, f"stand-in failure: {type(exc).__name__}: {exc}")

    @staticmethod
    def _operation(method: str, path: str) -> str:
        if path == "/v1/places:searchText":
            expected, operation = "POST", "search_text"
        elif path.startswith("/v1/places/") and ":" not in path:
            expected, operation = "GET", "get_place"
        elif path == "/distanceMatrix/v2:computeRouteMatrix":
            expected, operation = "POST", "compute_route_matrix"
        elif path == "/directions/v2:computeRoutes":
            expected, operation = "POST", "compute_routes"
        elif path == "/v1/forecast/days:lookup":
            expected, operation = "GET", "lookup_forecast_days"
        else:
            raise ApiError(404, f"the requested URL {path} was not found on this server")
        if method != expected:
            raise ApiError(405, f"{method} is not allowed on {path}")
        return operation

    # -- API ------------------------------------------------------------------------------------------------------

    def _check_key(self, query: dict[str, list[str]]) -> None:
        key = self.headers.get("x-goog-api-key") or (query.get("key") or [""])[0]
        if not key:
            raise ApiError(403, "the request is missing a valid API key")
        expected = self.server.state.api_key
        if expected is not None and key != expected:
            raise ApiError(400, "API key not valid; pass a valid API key")

    def _api(self, operation: str, path: str, query: dict[str, list[str]], body: dict[str, Any]) -> None:
        state = self.server.state
        fault = state.record_call(operation)
        if state.faults.latency_ms:
            time.sleep(state.faults.latency_ms / 1000.0)
        self._check_key(query)
        if fault is not None:
            raise ApiError(fault, f"injected failure ({fault})")
        if operation == "lookup_forecast_days":
            self._weather(query)
            return
        mask_values = query.get("$fields") or query.get("fields") or []
        mask_text = self.headers.get("X-Goog-FieldMask") or (mask_values[0] if mask_values else None)
        try:
            mask = parse_mask(mask_text)
        except FieldMaskError as exc:
            raise ApiError(400, str(exc)) from None
        int_enums = any("enum-encoding=int" in value for value in query.get("$alt", []))
        try:
            payload = self._answer(operation, path, query, body, mask)
        except (FieldMaskError, places_api.SearchError, routes_api.RoutesError) as exc:
            raise ApiError(400, str(exc)) from None
        self._send_json(200, _int_enums(payload) if int_enums else payload)

    def _weather(self, query: dict[str, list[str]]) -> None:
        """The Weather API: no field mask (it takes none); failing on demand (``/__admin/weather``)."""
        state = self.server.state
        if state.weather_failing:
            raise ApiError(503, "the Weather API is unavailable (forced by /__admin/weather)")
        try:
            answer = weather_api.lookup_days(state.catalogue, query, state.now(), list(state.forced_weather))
        except weather_api.WeatherError as exc:
            raise ApiError(400, str(exc)) from None
        self._send_json(200, answer)

    def _answer(self, operation: str, path: str, query: dict[str, list[str]], body: dict[str, Any], mask: Any) -> Any:
        state = self.server.state
        now = state.now()
        if operation == "search_text":
            validate_mask(mask, places_api.SEARCH_RESPONSE_FIELDS)
            request = places_api.parse_search_request(body)
            return apply_mask(places_api.search_text(state.catalogue, request, now), mask)
        if operation == "get_place":
            validate_mask(mask, places_api.PLACE_RESPONSE_FIELDS)
            place_id = path[len("/v1/places/") :]
            language = query["languageCode"][0] if query.get("languageCode") else None
            try:
                place = places_api.get_place_json(state.catalogue, place_id, now, language)
            except KeyError:
                raise ApiError(404, f"place '{place_id}' was not found") from None
            return apply_mask(place, mask)
        if operation == "compute_route_matrix":
            validate_mask(mask, routes_api.MATRIX_ELEMENT_FIELDS)
            elements = routes_api.compute_route_matrix(state.catalogue, body, state.road_variation)
            state.add_elements(len(elements))
            return apply_mask(elements, mask)
        validate_mask(mask, routes_api.ROUTES_RESPONSE_FIELDS)
        return apply_mask(routes_api.compute_routes(state.catalogue, body, state.road_variation), mask)

    # -- admin ----------------------------------------------------------------------------------------------------

    def _admin(self, method: str, path: str, body: dict[str, Any]) -> None:
        state = self.server.state
        if path == "/__admin/health" and method == "GET":
            self._send_json(
                200, {"ok": True, "cities": len(state.catalogue.cities), "places": len(state.catalogue.places)}
            )
        elif path == "/__admin/calls" and method == "GET":
            self._send_json(200, state.snapshot())
        elif path == "/__admin/reset" and method == "POST":
            state.reset()
            self._send_json(200, state.snapshot())
        elif path == "/__admin/faults" and method == "GET":
            self._send_json(200, asdict(state.faults))
        elif path == "/__admin/faults" and method == "POST":
            known = {"error_rate", "error_code", "latency_ms", "fail_next", "seed"}
            unknown = set(body) - known
            if unknown:
                raise ApiError(400, f"unknown fault settings: {sorted(unknown)}")
            try:
                faults = replace(Faults(), **body).validated()
            except (TypeError, ValueError) as exc:
                raise ApiError(400, str(exc)) from None
            state.set_faults(faults)
            self._send_json(200, asdict(faults))
        elif path == "/__admin/travel" and method == "POST":
            variation = body.get("road_variation")
            if not isinstance(variation, bool):
                raise ApiError(400, "road_variation must be true or false")
            state.road_variation = variation
            self._send_json(200, {"road_variation": state.road_variation})
        elif path == "/__admin/weather" and method == "GET":
            self._send_json(200, self._weather_overrides())
        elif path == "/__admin/weather" and method == "POST":
            unknown = set(body) - {"force", "fail", "clear"}
            if unknown:
                raise ApiError(400, f"unknown weather settings: {sorted(unknown)}")
            try:
                forced = weather_api.parse_forced(body["force"]) if "force" in body else None
            except weather_api.WeatherError as exc:
                raise ApiError(400, str(exc)) from None
            if "fail" in body and not isinstance(body["fail"], bool):
                raise ApiError(400, "fail must be true or false")
            if body.get("clear"):
                state.forced_weather = []
            if forced is not None:
                state.forced_weather = [*state.forced_weather, forced]
            if "fail" in body:
                state.weather_failing = body["fail"]
            self._send_json(200, self._weather_overrides())
        elif path == "/__admin/clock" and method == "POST":
            raw = body.get("now")
            try:
                state.pinned_now = datetime.fromisoformat(raw).astimezone(UTC) if raw else None
            except (TypeError, ValueError):
                raise ApiError(400, "now must be an ISO 8601 date-time with an offset, or null") from None
            self._send_json(200, {"now": state.now().isoformat()})
        else:
            raise ApiError(404, f"no admin path {method} {path}")

    def _weather_overrides(self) -> dict[str, Any]:
        state = self.server.state
        return {
            "fail": state.weather_failing,
            "forced": [
                {
                    "date": item.day.isoformat(),
                    "latitude": item.location.lat,
                    "longitude": item.location.lng,
                    "kind": item.kind,
                }
                for item in state.forced_weather
            ],
        }


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: StandinState, verbose: bool = False) -> None:
        super().__init__(address, StandinHandler)
        self.state = state
        self.verbose = verbose

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


def start_in_thread(server: StandinServer) -> threading.Thread:
    """Serve on a daemon thread (benchmarks and tests that do not use the stack); stop with ``server.shutdown()``."""
    thread = threading.Thread(target=server.serve_forever, name="maps-standin", daemon=True)
    thread.start()
    return thread
