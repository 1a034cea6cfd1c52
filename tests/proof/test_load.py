"""Concurrent plans against one functions-framework instance (loopback; the numbers are in bench/load_bench.py):
8 users send 7 plan requests each at once, with the deployed quotas (5 plans a minute per user). Only 201 and
quota 429s come back; every 201 is exactly one stored, ready trip; no trip is lost or duplicated.

Quotas are checked per user from one thread per user: the Firestore stand-in does not isolate transactions
(REFERENCE.md), so concurrent requests of the same user could both be admitted here but not on Firestore.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from unittest import mock

import pytest
import requests
from google.cloud import firestore

from bench.load_bench import CITIES, run_load, trip_body
from tests.integration.support import free_port, function_server, module_env, sign_up, stop_process_group
from tests.proof.support import MAIN, maps_standin, start_firestore

USERS = 8
PER_USER = 7
PER_MINUTE = 5


@pytest.fixture(scope="module")
def private_firestore() -> Iterator[str]:
    port = free_port()
    process = start_firestore(port)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        stop_process_group(process)


def test_concurrent_plans_lose_and_duplicate_nothing(stack: dict[str, str], private_firestore: str) -> None:
    project = f"proof-load-{uuid.uuid4().hex[:6]}"
    with mock.patch.dict(os.environ, {"FIRESTORE_EMULATOR_HOST": private_firestore}):
        client = firestore.Client(project=project)
    with maps_standin() as maps:
        env = module_env(stack, project) | {
            "MAPS_API_ENDPOINT": maps,
            "FIRESTORE_EMULATOR_HOST": private_firestore,
            "PLAN_RATE_PER_MINUTE": str(PER_MINUTE),
        }
        with function_server("plan_trip", MAIN, "http", env) as url:
            for city in CITIES[:3]:  # warm the Maps caches, as a running instance would be
                warm = sign_up(stack)
                assert requests.post(url, json=trip_body(city), headers=warm.headers, timeout=120).status_code == 201
            users = [sign_up(stack) for _ in range(USERS)]
            result = run_load(url, {user.uid: user.id_token for user in users}, PER_USER, client)
    print(f"\nload: {result.statuses}, 201 p50 {result.created_ms['p50']} ms, p95 {result.created_ms['p95']} ms")
    assert result.unexpected == []
    assert set(result.statuses) <= {"201", "429"}
    assert sum(result.statuses.values()) == USERS * PER_USER
    assert result.statuses.get("201", 0) >= USERS * PER_MINUTE, "each user gets at least a minute's worth"
    assert result.trips_per_user_match
    assert result.duplicate_trip_ids == 0
