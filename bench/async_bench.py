"""Asynchronous planning (Prefer: respond-async): how fast the 202 comes, how long until the trip is ready compared
with the synchronous 201, and a burst of concurrent async plans (not a test).

Run from the repo root with the stack up: ``.venv/bin/python -m bench.async_bench [--burst 50] [--users 10]``.
Starts a private Firestore stand-in, a private zero-latency Maps stand-in, one plan_trip and one plan_worker
functions-framework server, and a private queue on the stack's Cloud Tasks stand-in (deleted at the end). Warms the
Maps cache with one synchronous plan per city, then measures:

1. the 202: ``--accepts`` async requests one after another (several users: the quotas), the queue running;
2. time to ``ready``: per city, a synchronous plan (time to its 201) and an async one (time from the POST until a
   Firestore listener on the trip sees ``ready``), one at a time;
3. the burst: ``--burst`` async requests from ``--users`` users at once (deployed quotas: 5 a minute and 3 in flight
   per user, so some are refused with 429); then waits until every accepted trip is ``ready`` or ``failed`` and
   checks: none stuck, none claimed twice (``planning_attempts``), every 202 a stored trip.

Prints and writes ``bench/out/async.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from unittest import mock

import requests

from bench.load_bench import CITIES, summary_ms, trip_body
from scripts.envfile import STACK_ENV_FILE, read_env_file

OUTPUT_PATH = Path(__file__).resolve().parent / "out" / "async.json"
ASYNC = {"Prefer": "respond-async"}


def _wait_ready(client: Any, trip_id: str, timeout_s: float) -> tuple[str, float]:
    """Block until a listener on the trip sees it ``ready`` or ``failed``; its status and the monotonic time seen."""
    seen: dict[str, Any] = {}
    done = threading.Event()

    def record(snapshots: list[Any], _changes: Any, _read_time: Any) -> None:
        for snapshot in snapshots:
            status = (snapshot.to_dict() or {}).get("status")
            if status in ("ready", "failed") and not done.is_set():
                seen.update(status=status, at=time.perf_counter())
                done.set()

    watch = client.collection("trips").document(trip_id).on_snapshot(record)
    try:
        if not done.wait(timeout_s):
            return "stuck", time.perf_counter()
    finally:
        watch.unsubscribe()
    return str(seen["status"]), float(seen["at"])


def measure_accepts(url: str, users: list[Any], count: int) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    for index in range(count):
        user = users[index % len(users)]
        body = trip_body(CITIES[index % len(CITIES)])
        started = time.perf_counter()
        response = requests.post(url, json=body, headers=user.headers | ASYNC, timeout=60)
        latencies.append((time.perf_counter() - started) * 1000)
        statuses[response.status_code] += 1
    return {"statuses": {str(k): v for k, v in statuses.items()}, "ms": summary_ms(latencies)}


def measure_time_to_ready(url: str, client: Any, stack: dict[str, str]) -> dict[str, Any]:
    from tests.integration.support import sign_up

    rows: list[dict[str, Any]] = []
    for city in CITIES:
        user = sign_up(stack)
        body = trip_body(city, 45)
        started = time.perf_counter()
        sync = requests.post(url, json=body, headers=user.headers, timeout=300)
        sync_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        accepted = requests.post(url, json=body, headers=user.headers | ASYNC, timeout=60)
        accepted_ms = (time.perf_counter() - started) * 1000
        status, seen_at = _wait_ready(client, accepted.json()["id"], 120)
        rows.append(
            {
                "city": city,
                "sync_status": sync.status_code,
                "sync_ms": round(sync_ms, 1),
                "async_status": status,
                "accepted_ms": round(accepted_ms, 1),
                "async_ready_ms": round((seen_at - started) * 1000, 1),
            }
        )
        print(
            f"  {city:<10} sync 201 {sync_ms:7.0f} ms   async 202 {accepted_ms:5.0f} ms, {status} at "
            f"{(seen_at - started) * 1000:7.0f} ms"
        )
    sync_median = statistics.median(float(row["sync_ms"]) for row in rows)
    async_median = statistics.median(float(row["async_ready_ms"]) for row in rows)
    return {
        "rows": rows,
        "sync_median_ms": round(sync_median, 1),
        "async_median_ms": round(async_median, 1),
        "async_over_sync": round(async_median / sync_median, 3) if sync_median else None,
    }


def measure_burst(url: str, client: Any, users: list[Any], total: int, timeout_s: float) -> dict[str, Any]:
    per_user = max(1, total // len(users))
    lock = threading.Lock()
    outcomes: list[tuple[int, float, str | None]] = []
    barrier = threading.Barrier(len(users))

    def user_thread(user: Any, offset: int) -> None:
        session = requests.Session()
        barrier.wait()
        for index in range(per_user):
            started = time.perf_counter()
            response = session.post(
                url, json=trip_body(CITIES[(offset + index) % len(CITIES)]), headers=user.headers | ASYNC, timeout=60
            )
            ms = (time.perf_counter() - started) * 1000
            trip_id = response.json().get("id") if response.status_code == 202 else None
            with lock:
                outcomes.append((response.status_code, ms, trip_id))

    threads = [threading.Thread(target=user_thread, args=(user, offset)) for offset, user in enumerate(users)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted = [trip_id for status, _, trip_id in outcomes if status == 202 and trip_id]
    deadline = time.monotonic() + timeout_s
    final: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        final = {trip_id: client.collection("trips").document(trip_id).get().to_dict() or {} for trip_id in accepted}
        if all(trip.get("status") in ("ready", "failed") for trip in final.values()):
            break
        time.sleep(0.5)
    wall = time.perf_counter() - started
    statuses = Counter(str(trip.get("status")) for trip in final.values())
    attempts = Counter(int(trip.get("planning_attempts") or 0) for trip in final.values())
    return {
        "requests": len(outcomes),
        "users": len(users),
        "answers": {str(k): v for k, v in sorted(Counter(status for status, _, _ in outcomes).items())},
        "accept_ms": summary_ms([ms for status, ms, _ in outcomes if status == 202]),
        "trip_statuses": dict(statuses),
        "planning_attempts": {str(k): v for k, v in sorted(attempts.items())},
        "stuck": sum(1 for trip in final.values() if trip.get("status") not in ("ready", "failed")),
        "planned_twice": sum(count for attempt, count in attempts.items() if attempt > 1),
        "missing_trips": sum(1 for trip in final.values() if not trip),
        "wall_seconds_until_all_ended": round(wall, 1),
        "unexpected_answers": sum(1 for status, _, _ in outcomes if status not in (202, 429)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accepts", type=int, default=40)
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the burst's trips")
    parser.add_argument("--output", type=Path, default=OUTPUT_PATH)
    arguments = parser.parse_args()

    import grpc
    from google.cloud import firestore, tasks_v2
    from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

    from tests.integration.support import ROOT, free_port, function_server, module_env, sign_up, stop_process_group
    from tests.proof.support import maps_standin, start_firestore

    stack = read_env_file(STACK_ENV_FILE)
    project = f"bench-async-{uuid.uuid4().hex[:6]}"
    tasks = tasks_v2.CloudTasksClient(
        transport=CloudTasksGrpcTransport(channel=grpc.insecure_channel(stack["CLOUD_TASKS_EMULATOR_HOST"]))
    )
    parent = f"projects/{stack['GOOGLE_CLOUD_PROJECT']}/locations/us-central1"
    queue = f"{parent}/queues/bench-{uuid.uuid4().hex[:8]}"
    firestore_port = free_port()
    firestore_host = f"127.0.0.1:{firestore_port}"
    firestore_process = start_firestore(firestore_port)
    main_py = ROOT / "functions" / "main.py"
    tasks.create_queue(parent=parent, queue=tasks_v2.Queue(name=queue))
    try:
        with maps_standin() as maps:
            env = module_env(stack, project) | {"MAPS_API_ENDPOINT": maps, "FIRESTORE_EMULATOR_HOST": firestore_host}
            with function_server("plan_worker", main_py, "http", env) as worker_url:
                env |= {"PLANNING_QUEUE": queue, "PLAN_WORKER_URL": worker_url}
                with function_server("plan_trip", main_py, "http", env) as url:
                    with mock.patch.dict(os.environ, {"FIRESTORE_EMULATOR_HOST": firestore_host}):
                        client = firestore.Client(project=project)
                    for city in CITIES:  # fills the Maps caches (a user each: the quotas)
                        warm = sign_up(stack)
                        requests.post(
                            url, json=trip_body(city, 60), headers=warm.headers, timeout=300
                        ).raise_for_status()
                    print("1. the 202, one request at a time")
                    accept_users = [sign_up(stack) for _ in range(max(1, arguments.accepts // 2))]
                    accepts = measure_accepts(url, accept_users, arguments.accepts)
                    print(f"   {accepts}")
                    _drain(tasks, queue, 300)
                    print("2. time to ready, sync vs async")
                    ready = measure_time_to_ready(url, client, stack)
                    print(f"3. {arguments.burst} async plans from {arguments.users} users at once")
                    burst_users = [sign_up(stack) for _ in range(arguments.users)]
                    burst = measure_burst(url, client, burst_users, arguments.burst, arguments.timeout)
                    print(f"   {burst}")
    finally:
        tasks.delete_queue(name=queue)
        stop_process_group(firestore_process)
    result = {"accepts": accepts, "time_to_ready": ready, "burst": burst}
    print(
        f"202 p95 {accepts['ms']['p95']} ms; time to ready: async {ready['async_median_ms']} ms vs sync "
        f"{ready['sync_median_ms']} ms (x{ready['async_over_sync']}); burst: {burst['answers']}, "
        f"{burst['trip_statuses']}, stuck {burst['stuck']}, planned twice {burst['planned_twice']}"
    )
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"wrote {arguments.output}")
    ok = burst["stuck"] == 0 and burst["planned_twice"] == 0 and burst["unexpected_answers"] == 0
    return 0 if ok else 1


def _drain(tasks: Any, queue: str, timeout_s: float) -> None:
    """Wait until the queue has delivered every task (the accepted plans of step 1)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and list(tasks.list_tasks(parent=queue)):
        time.sleep(0.5)


if __name__ == "__main__":
    raise SystemExit(main())
