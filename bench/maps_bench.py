"""Maps layer benchmark, cold, warm L1, and warm L2 only, two workloads:

- ``matrix``: resolve a city, 6 searches and a 25x25 walking matrix (what planning bought before issue 13);
- ``legs``: resolve a city, one search, and the legs of a 7-day plan (6 stops a day: 49 legs) through
  ``route_legs``, transit with each leg's departure time and walking as day chains (what planning buys now).

Run ``python -m bench.maps_bench``. Uses the running local stack when ``.stack/env`` points at a Maps stand-in that
answers (and its Firestore stand-in for L2); otherwise starts a Maps stand-in in this process and skips L2.
Prints numbers, writes ``bench/out/maps.json``; asserts nothing.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.domain.maps import (
    MapsConfig,
    MapsService,
    MapsUsage,
    Place,
    PlaceSearch,
    TravelMode,
    Waypoint,
    build_places_client,
    build_routes_client,
)
from common.domain.maps.legs import LEG_DOC_PREFIX, LegQuery, straight_metres
from common.foundation.collection_names import ROUTE_CACHE
from common.foundation.config import load_settings
from scripts.envfile import STACK_ENV_FILE, read_env_file
from scripts.maps_standin.loader import load_catalogue
from scripts.maps_standin.server import Faults, StandinServer, StandinState, start_in_thread

if TYPE_CHECKING:
    from google.cloud import firestore

CITY = "Paris"
SEARCHES = ("museum", "restaurant", "park", "cafe", "bar", "viewpoint")
MATRIX_SIZE = 25
BENCH_KEY = "bench-maps-key"
PLAN_DAYS = 7
STOPS_PER_DAY = 6
OUTPUT_PATH = Path(__file__).resolve().parent / "out" / "maps.json"


def _answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/__admin/health", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def _standin() -> Iterator[tuple[str, str, str | None]]:
    """``(endpoint, api key, firestore emulator host or None)``."""
    env = read_env_file(STACK_ENV_FILE) if STACK_ENV_FILE.exists() else {}
    endpoint = env.get("MAPS_API_ENDPOINT")
    if endpoint and _answers(endpoint):
        print(f"using the running stack: {endpoint}")
        yield endpoint, env.get("GOOGLE_MAPS_API_KEY", BENCH_KEY), env.get("FIRESTORE_EMULATOR_HOST")
        return
    server = StandinServer(("127.0.0.1", 0), StandinState(load_catalogue(), Faults()))
    start_in_thread(server)
    print(f"started an in-process Maps stand-in: {server.url} (no Firestore: L2 skipped)")
    try:
        yield server.url, BENCH_KEY, None
    finally:
        server.shutdown()
        server.server_close()


def _counters(endpoint: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{endpoint}/__admin/calls", timeout=5) as response:
        return dict(json.loads(response.read()))


def _upstream_calls(endpoint: str) -> int:
    return int(_counters(endpoint)["total"])


def _workload(service: MapsService, usage: MapsUsage) -> None:
    city = service.resolve_destination(CITY, usage=usage)
    places: dict[str, Place] = {}
    for text in SEARCHES:
        for place in service.search_places(PlaceSearch(text=text, near=city.location, radius_m=15_000), usage=usage):
            places.setdefault(place.id, place)
    chosen = list(places.values())[:MATRIX_SIZE]
    service.travel_matrix(chosen, chosen, TravelMode.WALK, usage=usage)


def _legs_workload(service: MapsService, usage: MapsUsage) -> None:
    city = service.resolve_destination(CITY, usage=usage)
    places = service.search_places(PlaceSearch(text="top sights", near=city.location, radius_m=15_000), usage=usage)
    anchor = Waypoint.of(city)
    found = [
        Waypoint.of(place) for place in places if straight_metres(anchor, Waypoint.of(place)) < 15_000
    ]  # the stand-in fills a page with far places: keep the city's
    zone = dt.timezone(dt.timedelta(minutes=city.utc_offset_minutes or 0))
    start = dt.date(2027, 6, 7)
    transit: list[LegQuery] = []
    walk: list[LegQuery] = []
    for day in range(PLAN_DAYS):
        stops = [found[(day * STOPS_PER_DAY + index) % len(found)] for index in range(STOPS_PER_DAY)]
        points = [anchor, *stops, anchor]
        for index, (origin, destination) in enumerate(itertools.pairwise(points)):
            leaving = dt.datetime.combine(start + dt.timedelta(days=day), dt.time(9), tzinfo=zone)
            leaving += dt.timedelta(minutes=90 * index)
            transit.append(LegQuery(origin=origin, destination=destination, departure=leaving))
            walk.append(LegQuery(origin=origin, destination=destination))
    service.route_legs(transit, TravelMode.TRANSIT, usage=usage)
    service.route_legs(walk, TravelMode.WALK, usage=usage)


WORKLOADS = {"matrix": _workload, "legs": _legs_workload}


def _leg_documents(firestore_client: firestore.Client | None) -> int:
    if firestore_client is None:
        return 0
    documents = firestore_client.collection(ROUTE_CACHE).select([]).stream()
    return sum(1 for document in documents if document.id.startswith(LEG_DOC_PREFIX))


def _route_documents(firestore_client: firestore.Client | None) -> int:
    if firestore_client is None:
        return 0
    return sum(1 for _ in firestore_client.collection(ROUTE_CACHE).select([]).stream())


def _run(
    label: str,
    service: MapsService,
    endpoint: str,
    workload: str = "matrix",
    firestore_client: firestore.Client | None = None,
) -> dict[str, Any]:
    usage = MapsUsage()
    before = _counters(endpoint)
    documents_before = _route_documents(firestore_client)
    started = time.perf_counter()
    WORKLOADS[workload](service, usage)
    elapsed_ms = (time.perf_counter() - started) * 1000
    after = _counters(endpoint)
    row = {
        "workload": workload,
        "run": label,
        "wall_ms": round(elapsed_ms, 1),
        "upstream_calls": after["total"] - before["total"],
        "compute_routes": after["calls"]["compute_routes"] - before["calls"]["compute_routes"],
        "billable_elements": usage.billable_elements,
        "hits_l1": usage.cache_hits["l1"],
        "hits_l2": usage.cache_hits["l2"],
        "route_cache_documents_created": _route_documents(firestore_client) - documents_before,
    }
    print(
        f"{workload:<6} {label:<22} {row['wall_ms']:>9.1f} ms  upstream calls {row['upstream_calls']:>3}  "
        f"routes {row['compute_routes']:>3}  elements {row['billable_elements']:>4}  L1 hits {row['hits_l1']:>4}  "
        f"L2 hits {row['hits_l2']:>4}  route cache docs +{row['route_cache_documents_created']}"
    )
    return row


def _service(endpoint: str, key: str, firestore_client: firestore.Client | None) -> MapsService:
    settings = load_settings(maps_api_endpoint=endpoint, google_maps_api_key=key)
    return MapsService(
        MapsConfig.from_settings(settings),
        build_places_client(settings),
        build_routes_client(settings),
        firestore_client,
    )


def main() -> int:
    with _standin() as (endpoint, key, firestore_host):
        firestore_client = None
        if firestore_host:
            os.environ["FIRESTORE_EMULATOR_HOST"] = firestore_host
            from google.cloud import firestore

            firestore_client = firestore.Client(project=f"bench-maps-{uuid.uuid4().hex[:8]}")
        print(f"matrix: resolve {CITY!r}, {len(SEARCHES)} searches, a {MATRIX_SIZE}x{MATRIX_SIZE} walking matrix")
        print(f"legs: resolve {CITY!r}, 1 search, {PLAN_DAYS} days x {STOPS_PER_DAY + 1} legs, transit and walking")
        rows = []
        for workload in WORKLOADS:
            first = _service(endpoint, key, firestore_client)
            rows.append(_run("cold", first, endpoint, workload, firestore_client))
            rows.append(_run("warm L1", first, endpoint, workload, firestore_client))
            if firestore_client is not None:
                second = _service(endpoint, key, firestore_client)
                rows.append(_run("warm L2 (new instance)", second, endpoint, workload, firestore_client))
            rows.append(_run("no cache (new, no L2)", _service(endpoint, key, None), endpoint, workload))
    OUTPUT_PATH.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT_PATH.write_text(json.dumps({"city": CITY, "rows": rows}, indent=2), encoding="utf-8")
    print(f"wrote {OUTPUT_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
