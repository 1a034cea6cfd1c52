"""Maps work and latency per plan, cold and warm, through ``plan_new_trip`` in this process (not a test).

Run from the repo root with the stack up: ``.venv/bin/python -m bench.plan_bench [--days 2]``. Starts a private
Firestore stand-in and a private zero-latency Maps stand-in (its counters are the billing truth: calls per operation
and route-matrix elements), plans one trip per catalogue city with the offline planner, three passes:

- cold: a new Maps service and an empty Firestore (no L1, no L2);
- warm L1: the same service again (in-process cache of a warm instance);
- warm L2: a new service (a new instance: empty L1) on the same Firestore (the shared cache).

Prints a table and writes ``bench/out/plan.json`` (per pass: calls and elements per plan, cache hit ratio, latency,
estimated Google cost per 1,000 plans with the price table in ``PRICES``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

OUTPUT_PATH = Path(__file__).resolve().parent / "out" / "plan.json"
CITIES = (
    "Bangkok",
    "Barcelona",
    "Istanbul",
    "Kyoto",
    "London",
    "Mexico City",
    "New York",
    "Paris",
    "Rome",
    "San Francisco",
    "Sydney",
    "Tokyo",
)

# USD list prices, first volume tier (0-100k a month), Google Maps Platform pricing after the March 2025 SKU change,
# and Gemini on Vertex AI. From the published price lists as known to the author in 2025; this machine has no network
# to re-check them: verify at https://developers.google.com/maps/billing-and-pricing/pricing and
# https://cloud.google.com/vertex-ai/generative-ai/pricing before relying on the totals.
PRICES_AS_OF = "2025 list prices (first tier), not re-checked online"
PRICES: dict[str, dict[str, Any]] = {
    "search_text": {
        "sku": "Places API Text Search Enterprise (our search mask asks for rating, priceLevel, regularOpeningHours; "
        "the destination lookup alone would be Text Search Pro, 32 USD)",
        "usd_per_1000": 35.0,
        "unit": "request",
    },
    "get_place": {
        "sku": "Places API Place Details Enterprise + Atmosphere (editorialSummary, servesVegetarianFood)",
        "usd_per_1000": 25.0,
        "unit": "request",
    },
    "matrix_elements": {
        "sku": "Routes: Compute Route Matrix Essentials (TRAFFIC_UNAWARE), per element",
        "usd_per_1000": 5.0,
        "unit": "element",
    },
    "compute_routes": {"sku": "Routes: Compute Routes Essentials", "usd_per_1000": 5.0, "unit": "request"},
    "gemini_input_tokens": {
        "sku": "Gemini 2.5 Flash input (stand-in price for the configured GEMINI_MODEL: not verified)",
        "usd_per_1000": 0.30 / 1000,
        "unit": "token",
    },
    "gemini_output_tokens": {
        "sku": "Gemini 2.5 Flash output, thinking tokens included (same caveat)",
        "usd_per_1000": 2.50 / 1000,
        "unit": "token",
    },
}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else 0.0


def cost_per_1000_plans(per_plan: dict[str, float]) -> float:
    """USD for 1,000 plans with ``per_plan`` counts (keys of ``PRICES``)."""
    total = sum(per_plan.get(key, 0.0) * float(price["usd_per_1000"]) for key, price in PRICES.items())
    return round(total, 2)


def _admin_calls(endpoint: str) -> dict[str, Any]:
    import urllib.request

    with urllib.request.urlopen(f"{endpoint}/__admin/calls", timeout=5) as response:
        return dict(json.loads(response.read()))


def _delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    calls = {op: after["calls"].get(op, 0) - before["calls"].get(op, 0) for op in after["calls"]}
    calls["matrix_elements"] = after["elements"] - before["elements"]
    return calls


def run_pass(label: str, deps: Any, endpoint: str, days: int, user_prefix: str) -> dict[str, Any]:
    from common.services.planning.service import plan_new_trip

    start = dt.date.today() + dt.timedelta(days=45)
    rows = []
    for index, city in enumerate(CITIES):
        body = {
            "destination": city,
            "start_date": start.isoformat(),
            "end_date": (start + dt.timedelta(days=days - 1)).isoformat(),
            "travelers": 2,
            "interests": ["museums", "food", "parks"],
        }
        before = _admin_calls(endpoint)
        started = time.perf_counter()
        trip = plan_new_trip(f"{user_prefix}-{index}", body, deps)
        seconds = time.perf_counter() - started
        upstream = _delta(before, _admin_calls(endpoint))
        planner = trip["planner"]
        rows.append(
            {
                "city": city,
                "seconds": round(seconds, 3),
                "upstream": upstream,
                "cache_hits": planner["cache_hits"],
                "maps_calls": planner["maps_calls"],
                "tokens": planner["tokens"],
                "stops": sum(len(day["stops"]) for day in trip["days"]),
            }
        )
    plans = len(rows)
    per_plan = {
        key: round(sum(row["upstream"].get(key, 0) for row in rows) / plans, 2)
        for key in ("search_text", "get_place", "compute_route_matrix", "compute_routes", "matrix_elements")
    }
    per_plan["gemini_input_tokens"] = sum(row["tokens"]["prompt"] for row in rows) / plans
    per_plan["gemini_output_tokens"] = (
        sum(row["tokens"]["output"] + row["tokens"].get("thinking", 0) for row in rows) / plans
    )
    calls = sum(row["maps_calls"] for row in rows)
    hits = sum(row["cache_hits"] for row in rows)
    latencies: list[float] = [row["seconds"] for row in rows]
    return {
        "pass": label,
        "plans": plans,
        "days_per_trip": days,
        "per_plan": per_plan,
        "upstream_calls_per_plan": round(calls / plans, 2),
        "cache_hit_ratio": round(hits / (hits + calls), 3) if hits + calls else 0.0,
        "latency_s": {
            "p50": round(percentile(latencies, 0.5), 3),
            "p95": round(percentile(latencies, 0.95), 3),
            "max": round(max(latencies), 3),
            "mean": round(statistics.fmean(latencies), 3),
        },
        "usd_per_1000_plans": cost_per_1000_plans(per_plan),
        "rows": rows,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=2, help="days per trip")
    parser.add_argument("--output", type=Path, default=OUTPUT_PATH)
    arguments = parser.parse_args()

    from tests.integration.support import free_port, stop_process_group
    from tests.proof.support import maps_standin, start_firestore

    port = free_port()
    firestore_process = start_firestore(port)
    os.environ["FIRESTORE_EMULATOR_HOST"] = f"127.0.0.1:{port}"
    try:
        with maps_standin() as endpoint:
            passes = _passes(endpoint, arguments.days)
    finally:
        stop_process_group(firestore_process)

    print(
        f"\n{'pass':<9} {'plans':>5} {'search':>7} {'details':>7} {'matrix':>6} {'elements':>8} {'routes':>6} "
        f"{'hit ratio':>9} {'p50 s':>6} {'p95 s':>6} {'USD/1k plans':>12}"
    )
    for result in passes:
        per_plan = result["per_plan"]
        print(
            f"{result['pass']:<9} {result['plans']:>5} {per_plan['search_text']:>7} {per_plan['get_place']:>7} "
            f"{per_plan['compute_route_matrix']:>6} {per_plan['matrix_elements']:>8} {per_plan['compute_routes']:>6} "
            f"{result['cache_hit_ratio']:>9} {result['latency_s']['p50']:>6} {result['latency_s']['p95']:>6} "
            f"{result['usd_per_1000_plans']:>12}"
        )
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    payload = {"prices": PRICES, "prices_as_of": PRICES_AS_OF, "passes": passes}
    arguments.output.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    print(f"wrote {arguments.output}")
    return 0


def _passes(endpoint: str, days: int) -> list[dict[str, Any]]:
    from google.cloud import firestore

    from common.domain.ai import build_planner
    from common.domain.maps import MapsConfig, MapsService, build_places_client, build_routes_client
    from common.foundation.config import load_settings
    from common.services.planning.service import PlanningDeps

    project = f"bench-plan-{uuid.uuid4().hex[:6]}"
    settings = load_settings(
        google_cloud_project=project,
        maps_api_endpoint=endpoint,
        google_maps_api_key="bench-maps-key",
        plan_rate_per_minute=100_000,
        plan_rate_per_day=100_000,
        max_sessions_per_user=1_000,
    )
    client = firestore.Client(project=project)

    def deps() -> PlanningDeps:
        maps = MapsService(
            MapsConfig.from_settings(settings), build_places_client(settings), build_routes_client(settings), client
        )
        return PlanningDeps(settings=settings, firestore=client, maps=maps, planner=build_planner(settings))

    first = deps()
    results = []
    for label, pass_deps in (("cold", first), ("warm L1", first), ("warm L2", deps())):
        result = run_pass(label, pass_deps, endpoint, days, f"{label.replace(' ', '-')}-user")
        print(
            f"{label}: {result['upstream_calls_per_plan']} upstream calls per plan, "
            f"hit ratio {result['cache_hit_ratio']}, p50 {result['latency_s']['p50']} s"
        )
        results.append(result)
    return results


if __name__ == "__main__":
    raise SystemExit(main())
