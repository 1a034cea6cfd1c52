"""Sustained use of the local stack exactly as ``make demo`` leaves it (not a test).

Run from the repo root with the stack up: ``.venv/bin/python -m bench.soak_bench [--plans 100]``. Uses the stack's
own servers (plan_trip, trips, the Firestore stand-in with the trigger relay listening on ``trips``) and adds one
client-style listener: ``on_snapshot`` on the first user's trips query, as an app's trip list does. Then it plans
``--plans`` trips of mixed lengths (1-10 days) over the catalogue cities, each by a new user, and edits every trip
once (PATCH of its first day, so the relay delivers a change and enrich_places recomputes it) before the next plan.

Prints, and writes ``bench/out/soak.json``: the Firestore stand-in's resident memory (from ``scripts/stack
status``) at the start, after the first 10 plans, every 20 plans and at the end; the answers by status; p50/p95
plan latency of the first and the last 20 plans; snapshots the listener received. Targets (issue 11): every plan
201, memory at the end at most 1.5x the memory after 10 plans, last-20 p50 at most 1.2x the first-20 p50.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from unittest import mock

import requests

from bench.load_bench import percentile
from bench.plan_bench import CITIES
from scripts.envfile import STACK_ENV_FILE, read_env_file
from tests.integration.support import sign_up
from tests.stack_script import STACK_SCRIPT, load_stack_script

OUTPUT_PATH = Path(__file__).resolve().parent / "out" / "soak.json"
TRIP_DAYS = (1, 3, 7, 10, 2, 5, 4, 8, 6, 9)  # mean 5.5 days, every length from 1 to 10
MEMORY_EVERY = 20
LATENCY_WINDOW = 20
TARGET_MEMORY_GROWTH = 1.5
TARGET_LATENCY_GROWTH = 1.2


def firestore_rss_mib() -> float | None:
    """The Firestore stand-in's resident memory as ``scripts/stack status`` reports it (process tree, MiB)."""
    result = subprocess.run([str(STACK_SCRIPT), "status", "--only", "firestore"], capture_output=True, text=True)
    for line in load_stack_script().parse_status(result.stdout):
        if line.name == "firestore":
            return float(line.rss_mib) if line.rss_mib is not None else None
    return None


def trip_body(index: int) -> dict[str, Any]:
    days = TRIP_DAYS[index % len(TRIP_DAYS)]
    start = dt.date.today() + dt.timedelta(days=30 + index % 20)
    return {
        "destination": CITIES[index % len(CITIES)],
        "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=days - 1)).isoformat(),
        "travelers": 2,
        "pace": ("relaxed", "moderate", "packed")[index % 3],
    }


def first_day_edit(trip: dict[str, Any]) -> dict[str, Any]:
    """Drop the first day's last stop (a change enrichment must recompute); the other stops keep their place ids."""
    first = trip["days"][0]
    stops = [{"place_id": stop["place_id"]} for stop in first["stops"] if stop.get("place_id")]
    return {"version": trip["version"], "days": [{"date": first["date"], "stops": stops[:-1]}]}


class SnapshotCounter:
    """A client-style listener: counts the snapshots and changes it is sent."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.snapshots = 0
        self.changes = 0

    def __call__(self, documents: list[Any], changes: list[Any], read_time: Any) -> None:
        with self.lock:
            self.snapshots += 1
            self.changes += len(changes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plans", type=int, default=100)
    parser.add_argument("--output", type=Path, default=OUTPUT_PATH)
    arguments = parser.parse_args()

    from google.cloud import firestore
    from google.cloud.firestore_v1.base_query import FieldFilter

    stack = read_env_file(STACK_ENV_FILE)
    plan_url, trips_url = stack["PLAN_TRIP_URL"], stack["TRIPS_URL"]
    with mock.patch.dict(os.environ, {"FIRESTORE_EMULATOR_HOST": stack["FIRESTORE_EMULATOR_HOST"]}):
        client = firestore.Client(project=stack["GOOGLE_CLOUD_PROJECT"])

    memory: list[dict[str, Any]] = [{"after_plans": 0, "rss_mib": firestore_rss_mib()}]
    print(f"firestore stand-in rss at start: {memory[0]['rss_mib']} MiB")
    users = [sign_up(stack) for _ in range(arguments.plans)]
    listener = SnapshotCounter()
    watch = client.collection("trips").where(filter=FieldFilter("user_id", "==", users[0].uid)).on_snapshot(listener)

    plan_statuses: Counter[int] = Counter()
    edit_statuses: Counter[int] = Counter()
    latencies_ms: list[float] = []
    problems: list[str] = []
    session = requests.Session()
    started = time.perf_counter()
    try:
        for index, user in enumerate(users):
            body = trip_body(index)
            began = time.perf_counter()
            try:
                response = session.post(plan_url, json=body, headers=user.headers, timeout=300)
            except requests.RequestException as error:
                plan_statuses[0] += 1
                problems.append(f"plan {index + 1}: {type(error).__name__}")
                continue
            latencies_ms.append((time.perf_counter() - began) * 1000)
            plan_statuses[response.status_code] += 1
            if response.status_code != 201:
                problems.append(
                    f"plan {index + 1} ({body['destination']}): {response.status_code} {response.text[:160]}"
                )
            else:
                trip = response.json()
                edit = session.patch(
                    f"{trips_url}/{trip['id']}", json=first_day_edit(trip), headers=user.headers, timeout=60
                )
                edit_statuses[edit.status_code] += 1
                if edit.status_code != 200:
                    problems.append(f"edit {index + 1}: {edit.status_code} {edit.text[:160]}")
            done = index + 1
            if done == 10 or done % MEMORY_EVERY == 0 or done == len(users):
                memory.append({"after_plans": done, "rss_mib": firestore_rss_mib()})
                window = latencies_ms[-MEMORY_EVERY:]
                print(
                    f"after {done:>3} plans: firestore rss {memory[-1]['rss_mib']} MiB, "
                    f"last {len(window)} plans p50 {percentile(window, 0.5):.0f} ms"
                )
    finally:
        watch.unsubscribe()  # type: ignore[no-untyped-call]
    wall = time.perf_counter() - started

    first, last = latencies_ms[:LATENCY_WINDOW], latencies_ms[-LATENCY_WINDOW:]
    after_ten = next((m["rss_mib"] for m in memory if m["after_plans"] == 10), None)
    end_rss = memory[-1]["rss_mib"]
    result = {
        "plans": arguments.plans,
        "wall_seconds": round(wall, 1),
        "plan_statuses": {str(code): count for code, count in sorted(plan_statuses.items())},
        "edit_statuses": {str(code): count for code, count in sorted(edit_statuses.items())},
        "memory": memory,
        "memory_end_vs_after_10": round(end_rss / after_ten, 2) if end_rss and after_ten else None,
        "first_20_ms": {"p50": round(percentile(first, 0.5)), "p95": round(percentile(first, 0.95))},
        "last_20_ms": {"p50": round(percentile(last, 0.5)), "p95": round(percentile(last, 0.95))},
        "listener": {"snapshots": listener.snapshots, "changes": listener.changes},
        "problems": problems[:20],
    }
    first_p50 = result["first_20_ms"]["p50"]
    result["latency_last_vs_first_p50"] = round(result["last_20_ms"]["p50"] / first_p50, 2) if first_p50 else None
    result["targets_met"] = bool(
        plan_statuses.get(201, 0) == arguments.plans
        and result["memory_end_vs_after_10"] is not None
        and result["memory_end_vs_after_10"] <= TARGET_MEMORY_GROWTH
        and result["latency_last_vs_first_p50"] is not None
        and result["latency_last_vs_first_p50"] <= TARGET_LATENCY_GROWTH
    )
    _print(result)
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"wrote {arguments.output}")
    return 0 if result["targets_met"] else 1


def _print(result: dict[str, Any]) -> None:
    print(f"plans {result['plans']} in {result['wall_seconds']} s; answers {result['plan_statuses']}")
    print(f"edits {result['edit_statuses']}; listener {result['listener']}")
    print("firestore rss MiB: " + ", ".join(f"{m['after_plans']}: {m['rss_mib']}" for m in result["memory"]))
    print(f"memory end / after 10 plans: {result['memory_end_vs_after_10']} (target <= {TARGET_MEMORY_GROWTH})")
    for label in ("first_20_ms", "last_20_ms"):
        print(f"{label:<12} p50 {result[label]['p50']:>6} ms  p95 {result[label]['p95']:>6} ms")
    print(f"last-20 p50 / first-20 p50: {result['latency_last_vs_first_p50']} (target <= {TARGET_LATENCY_GROWTH})")
    for problem in result["problems"]:
        print(f"  ! {problem}")
    print(f"targets met: {result['targets_met']}")


if __name__ == "__main__":
    raise SystemExit(main())
