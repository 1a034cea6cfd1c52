"""enrich_places latency for a trip of 40 stops with a slow Maps (not a test).

Run from the repo root: ``.venv/bin/python -m bench.enrich_bench [--latency-ms 100]``. Starts a private Maps
stand-in answering every call after ``--latency-ms``, builds a 5-day Paris trip of 40 stops (half given by place id,
half by name only, as user edits leave them), and enriches every day through
``common.services.enrich.compute.enrich_days`` with the Maps cache off, twice: one lookup at a time (fan-out 1) and
fanned out (the default width). Prints a table and writes ``bench/out/enrich.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Any

from common.domain.maps import MapsUsage, build_maps_service
from common.foundation.config import load_settings
from common.services.enrich.compute import ENRICH_FAN_OUT, enrich_days
from common.services.trips.editing import DayEdit, StopEdit, edited_stops
from common.services.trips.models import Day, LatLng, Money, Trip, TripBudget, TripDestination, TripRequest
from common.services.trips.store import planning_trip

ROOT = Path(__file__).resolve().parent.parent
OUTPUT_PATH = Path(__file__).resolve().parent / "out" / "enrich.json"
DAYS = 5
STOPS_PER_DAY = 8


def sample_trip() -> Trip:
    """A Paris trip whose 40 stops come from the catalogue: even stops by place id, odd ones by name only."""
    catalogue = json.loads((ROOT / "scripts" / "maps_standin" / "catalogue" / "paris.json").read_text())
    places = [place for place in catalogue["places"] if place["category"] != "hotel"][: DAYS * STOPS_PER_DAY]
    start = dt.date.today() + dt.timedelta(days=30)
    days = []
    for day_index in range(DAYS):
        stops = []
        for position, place in enumerate(places[day_index * STOPS_PER_DAY : (day_index + 1) * STOPS_PER_DAY]):
            given = StopEdit(place_id=place["id"]) if position % 2 == 0 else StopEdit(name=place["name"])
            stops.append(given)  # as a PATCH without times leaves them
        day = DayEdit(date=start + dt.timedelta(days=day_index), stops=stops)
        days.append(
            Day(
                date=day.date,
                theme="",
                summary="",
                stops=edited_stops(day, ({}, {}), "EUR"),
                travel_min=0,
                cost_estimate=Money(amount=0.0, currency="EUR"),
            )
        )
    city = catalogue["city"]
    request = TripRequest(destination=city["name"], start_date=start, end_date=start + dt.timedelta(days=DAYS - 1))
    now = dt.datetime.now(dt.UTC)
    return planning_trip("bench-trip", "bench-user", request, now).model_copy(
        update={
            "status": "ready",
            "destination": TripDestination(
                name=city["name"],
                place_id=f"{city['id']}-city",
                location=LatLng(lat=city["center"]["lat"], lng=city["center"]["lng"]),
                time_zone=city["time_zone"],
            ),
            "travelers": 2,
            "pace": "packed",
            "budget": TripBudget(currency="EUR", limit=None, estimated_total=0.0, by_category={}),
            "days": days,
        }
    )


def measure(endpoint: str, width: int) -> dict[str, Any]:
    settings = load_settings(maps_api_endpoint=endpoint, google_maps_api_key="bench-key", maps_enable_caching=False)
    maps = build_maps_service(settings, None)
    usage = MapsUsage()
    trip = sample_trip()
    started = time.perf_counter()
    dates = [day.date.isoformat() for day in trip.days]
    days = enrich_days(trip, dates, maps, usage, settings, fan_out_width=width)
    seconds = time.perf_counter() - started
    resolved = sum(1 for day in days for stop in day.stops if stop.place_id and stop.location)
    return {
        "fan_out": width,
        "seconds": round(seconds, 3),
        "stops": sum(len(day.stops) for day in days),
        "stops_resolved": resolved,
        "upstream_calls": dict(usage.upstream_calls),
        "matrix_elements": usage.billable_elements,
    }


def main() -> None:
    from tests.proof.support import maps_standin

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency-ms", type=int, default=100)
    args = parser.parse_args()
    with maps_standin(latency_ms=args.latency_ms) as endpoint:
        runs = [measure(endpoint, 1), measure(endpoint, ENRICH_FAN_OUT)]
    print(f"enrich_places: {DAYS} days x {STOPS_PER_DAY} stops, Maps latency {args.latency_ms} ms, cache off")
    print(f"{'fan-out':>8} {'seconds':>8} {'stops':>6} {'resolved':>9} {'calls':>6}")
    for run in runs:
        calls = sum(run["upstream_calls"].values())
        print(f"{run['fan_out']:>8} {run['seconds']:>8.2f} {run['stops']:>6} {run['stops_resolved']:>9} {calls:>6}")
    speedup = runs[0]["seconds"] / runs[1]["seconds"] if runs[1]["seconds"] else None
    result = {"latency_ms": args.latency_ms, "days": DAYS, "stops_per_day": STOPS_PER_DAY, "runs": runs}
    result["speedup"] = round(speedup, 2) if speedup else None
    OUTPUT_PATH.parent.mkdir(exist_ok=True)
    OUTPUT_PATH.write_text(json.dumps(result, indent=2))
    print(f"speed-up {result['speedup']}x; wrote {os.path.relpath(OUTPUT_PATH)}")


if __name__ == "__main__":
    main()
