"""Load on one plan_trip instance: N plan requests from U users at once, loopback only (not a test).

Run from the repo root with the stack up: ``.venv/bin/python -m bench.load_bench [--users 20] [--requests 200]``.
Starts a private zero-latency Maps stand-in and one plan_trip functions-framework server (the deployed quotas:
5 plans a minute per user, so about half of the requests get 429), warms the Maps cache with one plan per city,
then sends the requests from one thread per user. Prints and writes ``bench/out/load.json``: statuses, latency
percentiles, throughput, and the consistency check (trip documents per user == the user's 201s, no duplicate ids).
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from scripts.envfile import STACK_ENV_FILE, read_env_file

OUTPUT_PATH = Path(__file__).resolve().parent / "out" / "load.json"
CITIES = ("Kyoto", "Paris", "Rome", "Barcelona", "London", "Tokyo")


@dataclass
class LoadResult:
    users: int
    requests: int
    statuses: dict[str, int]
    latencies_ms: dict[str, float]
    created_ms: dict[str, float]
    wall_seconds: float
    throughput_per_second: float
    trips_per_user_match: bool
    duplicate_trip_ids: int
    unexpected: list[str] = field(default_factory=list)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else 0.0


def summary_ms(values: list[float]) -> dict[str, float]:
    return {
        "count": len(values),
        "p50": round(percentile(values, 0.50), 1),
        "p95": round(percentile(values, 0.95), 1),
        "p99": round(percentile(values, 0.99), 1),
        "max": round(max(values), 1) if values else 0.0,
        "mean": round(statistics.fmean(values), 1) if values else 0.0,
    }


def trip_body(city: str, start_offset_days: int = 30) -> dict[str, Any]:
    import datetime as dt

    start = dt.date.today() + dt.timedelta(days=start_offset_days)
    return {"destination": city, "start_date": start.isoformat(), "end_date": start.isoformat(), "travelers": 2}


def run_load(plan_url: str, tokens: dict[str, str], per_user: int, firestore_client: Any) -> LoadResult:
    """``per_user`` requests from every user (uid -> ID token) at once, one thread per user; then the consistency
    check against Firestore."""
    from google.cloud.firestore_v1.base_query import FieldFilter

    lock = threading.Lock()
    outcomes: list[tuple[str, int, float, str | None]] = []  # uid, status, ms, trip id
    unexpected: list[str] = []
    barrier = threading.Barrier(len(tokens))

    def user_thread(uid: str, token: str, offset: int) -> None:
        session = requests.Session()
        headers = {"Authorization": f"Bearer {token}"}
        barrier.wait()
        for index in range(per_user):
            body = trip_body(CITIES[(offset + index) % len(CITIES)])
            started = time.perf_counter()
            try:
                response = session.post(plan_url, json=body, headers=headers, timeout=300)
            except requests.RequestException as error:
                with lock:
                    unexpected.append(f"{uid}: {type(error).__name__}")
                continue
            elapsed_ms = (time.perf_counter() - started) * 1000
            trip_id = response.json().get("id") if response.status_code == 201 else None
            with lock:
                outcomes.append((uid, response.status_code, elapsed_ms, trip_id))
                if response.status_code not in (201, 429):
                    unexpected.append(f"{uid}: {response.status_code} {response.text[:200]}")

    threads = [
        threading.Thread(target=user_thread, args=(uid, token, offset), daemon=True)
        for offset, (uid, token) in enumerate(tokens.items())
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started

    created: Counter[str] = Counter(uid for uid, status, _, _ in outcomes if status == 201)
    stored: Counter[str] = Counter()
    stored_ids: list[str] = []
    for uid in tokens:
        for doc in firestore_client.collection("trips").where(filter=FieldFilter("user_id", "==", uid)).stream():
            stored[uid] += 1
            stored_ids.append(doc.id)
            if (doc.to_dict() or {}).get("status") != "ready":
                unexpected.append(f"{uid}: trip {doc.id} is {(doc.to_dict() or {}).get('status')}")
    answered_ids = [trip_id for _, status, _, trip_id in outcomes if status == 201 and trip_id]
    return LoadResult(
        users=len(tokens),
        requests=len(tokens) * per_user,
        statuses={str(status): count for status, count in sorted(Counter(s for _, s, _, _ in outcomes).items())},
        latencies_ms=summary_ms([ms for _, _, ms, _ in outcomes]),
        created_ms=summary_ms([ms for _, status, ms, _ in outcomes if status == 201]),
        wall_seconds=round(wall, 2),
        throughput_per_second=round(len(outcomes) / wall, 2) if wall else 0.0,
        trips_per_user_match=all(stored[uid] == created[uid] for uid in tokens),
        duplicate_trip_ids=len(answered_ids) - len(set(answered_ids)) + len(stored_ids) - len(set(stored_ids)),
        unexpected=unexpected,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200, help="in all (spread evenly over the users)")
    parser.add_argument("--output", type=Path, default=OUTPUT_PATH)
    arguments = parser.parse_args()

    from tests.integration.support import free_port, module_env, stop_process_group
    from tests.proof.support import maps_standin, start_firestore

    stack = read_env_file(STACK_ENV_FILE)
    project = f"bench-load-{uuid.uuid4().hex[:6]}"
    per_user = max(1, arguments.requests // arguments.users)
    firestore_port = free_port()
    firestore_host = f"127.0.0.1:{firestore_port}"
    firestore_process = start_firestore(firestore_port)  # private: the shared stand-in keeps everything in memory
    try:
        with maps_standin() as maps:
            env = module_env(stack, project) | {"MAPS_API_ENDPOINT": maps, "FIRESTORE_EMULATOR_HOST": firestore_host}
            result = _load(stack, env, firestore_host, project, arguments.users, per_user)
    finally:
        stop_process_group(firestore_process)
    _print(result)
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(result.__dict__, indent=2), encoding="utf-8")
    print(f"wrote {arguments.output}")
    ok = not result.unexpected and result.trips_per_user_match and result.duplicate_trip_ids == 0
    return 0 if ok else 1


def _load(
    stack: dict[str, str], env: dict[str, str], firestore_host: str, project: str, users_count: int, per_user: int
) -> LoadResult:
    import os
    from unittest import mock

    from google.cloud import firestore

    from tests.integration.support import ROOT, function_server, sign_up

    with function_server("plan_trip", ROOT / "functions" / "main.py", "http", env) as url:
        with mock.patch.dict(os.environ, {"FIRESTORE_EMULATOR_HOST": firestore_host}):
            client = firestore.Client(project=project)
        for city in CITIES:  # the first plan of a city fills the Maps caches (a user each: the quotas)
            warm = sign_up(stack)
            response = requests.post(url, json=trip_body(city, 60), headers=warm.headers, timeout=300)
            response.raise_for_status()
        users = [sign_up(stack) for _ in range(users_count)]
        print(f"{len(users)} users x {per_user} plan requests at once against {url}")
        return run_load(url, {user.uid: user.id_token for user in users}, per_user, client)


def _print(result: LoadResult) -> None:
    print(f"statuses            {result.statuses}")
    print(f"wall                {result.wall_seconds} s, {result.throughput_per_second} answers/s")
    for label, numbers in (("all answers", result.latencies_ms), ("201 only", result.created_ms)):
        print(
            f"{label:<19} p50 {numbers['p50']:>8.1f} ms  p95 {numbers['p95']:>8.1f} ms  "
            f"p99 {numbers['p99']:>8.1f} ms  max {numbers['max']:>8.1f} ms"
        )
    print(f"trips per user == 201s: {result.trips_per_user_match}; duplicate ids: {result.duplicate_trip_ids}")
    for problem in result.unexpected[:20]:
        print(f"  ! {problem}")


if __name__ == "__main__":
    raise SystemExit(main())
