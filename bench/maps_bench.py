"""Maps layer benchmark: resolve a city, 6 searches and a 25x25 walking matrix, cold, warm L1, and warm L2 only.

Run ``python -m bench.maps_bench``. Uses the running local stack when ``.stack/env`` points at a Maps stand-in that
answers (and its Firestore stand-in for L2); otherwise starts a Maps stand-in in this process and skips L2.
Prints numbers; asserts nothing.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from common.domain.maps import (
    MapsConfig,
    MapsService,
    MapsUsage,
    Place,
    PlaceSearch,
    TravelMode,
    build_places_client,
    build_routes_client,
)
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


def _upstream_calls(endpoint: str) -> int:
    with urllib.request.urlopen(f"{endpoint}/__admin/calls", timeout=5) as response:
        return int(json.loads(response.read())["total"])


def _workload(service: MapsService, usage: MapsUsage) -> None:
    city = service.resolve_destination(CITY, usage=usage)
    places: dict[str, Place] = {}
    for text in SEARCHES:
        for place in service.search_places(PlaceSearch(text=text, near=city.location, radius_m=15_000), usage=usage):
            places.setdefault(place.id, place)
    chosen = list(places.values())[:MATRIX_SIZE]
    service.travel_matrix(chosen, chosen, TravelMode.WALK, usage=usage)


def _run(label: str, service: MapsService, endpoint: str) -> dict[str, Any]:
    usage = MapsUsage()
    before = _upstream_calls(endpoint)
    started = time.perf_counter()
    _workload(service, usage)
    elapsed_ms = (time.perf_counter() - started) * 1000
    row = {
        "run": label,
        "wall_ms": round(elapsed_ms, 1),
        "upstream_calls": _upstream_calls(endpoint) - before,
        "billable_elements": usage.billable_elements,
        "hits_l1": usage.cache_hits["l1"],
        "hits_l2": usage.cache_hits["l2"],
    }
    print(
        f"{label:<22} {row['wall_ms']:>9.1f} ms  upstream calls {row['upstream_calls']:>3}  "
        f"elements {row['billable_elements']:>4}  L1 hits {row['hits_l1']:>4}  L2 hits {row['hits_l2']:>4}"
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
        print(f"workload: resolve {CITY!r}, {len(SEARCHES)} searches, a {MATRIX_SIZE}x{MATRIX_SIZE} walking matrix")
        first = _service(endpoint, key, firestore_client)
        _run("cold", first, endpoint)
        _run("warm L1", first, endpoint)
        if firestore_client is not None:
            _run("warm L2 (new instance)", _service(endpoint, key, firestore_client), endpoint)
        _run("no cache (new, no L2)", _service(endpoint, key, None), endpoint)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
