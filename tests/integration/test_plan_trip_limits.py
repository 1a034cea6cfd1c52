"""plan_trip limits through HTTP: per-user quotas, plannings in flight, and an upstream outage that must end with a
stored ``failed`` trip. plan_trip runs in the test process (tests/integration/in_process.py). (Concurrent admissions
are tested through the function's server in tests/integration/trips/test_concurrency.py.)"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from tests.integration.in_process import InProcessFunctions
from tests.integration.support import TestUser, module_env, sign_up
from tests.integration.test_plan_trip import assert_envelope, kyoto_request, trips_of


@pytest.fixture(scope="module")
def plan_url(in_process: InProcessFunctions, stack: dict[str, str], firestore_project: str) -> str:
    env = module_env(stack, firestore_project) | {
        "PLAN_RATE_PER_MINUTE": "2",
        "PLAN_RATE_PER_DAY": "3",
        "MAX_SESSIONS_PER_USER": "1",
        "MAPS_MAX_RETRIES": "1",
    }
    return in_process.serve("plan_trip", env)


@pytest.fixture
def maps_admin(stack: dict[str, str]) -> Iterator[str]:
    admin = stack["MAPS_API_ENDPOINT"] + "/__admin"
    requests.post(admin + "/reset", json={}, timeout=10).raise_for_status()
    yield admin
    requests.post(admin + "/reset", json={}, timeout=10).raise_for_status()


def one_day(**overrides: Any) -> dict[str, Any]:
    start = dt.date.fromisoformat(kyoto_request()["start_date"])
    return kyoto_request(end_date=start.isoformat(), must_include=[], **overrides)


def test_per_minute_quota_refuses_with_retry_after_and_starts_nothing(
    http: requests.Session, plan_url: str, stack: dict[str, str], firestore_client: firestore.Client
) -> None:
    user = sign_up(stack)
    for _ in range(2):
        assert http.post(plan_url, json=one_day(), headers=user.headers, timeout=120).status_code == 201
    response = http.post(plan_url, json=one_day(), headers=user.headers, timeout=30)
    error = assert_envelope(response, 429, "quota_exceeded")
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert error["details"][0]["limit"] in {"per_minute", "per_day"}
    assert len(trips_of(firestore_client, user.uid)) == 2, "the refused request stored nothing"
    sessions = list(
        firestore_client.collection("ai_sessions").where(filter=FieldFilter("user_id", "==", user.uid)).stream()
    )
    assert len(sessions) == 2


def test_plannings_in_flight_are_capped(
    http: requests.Session, plan_url: str, stack: dict[str, str], firestore_client: firestore.Client
) -> None:
    user = sign_up(stack)
    now = dt.datetime.now(dt.UTC)
    firestore_client.collection("ai_sessions").document(f"live-{user.uid}").set(
        {"user_id": user.uid, "trip_id": "elsewhere", "status": "active", "created_at": now, "last_active_at": now}
    )
    response = http.post(plan_url, json=one_day(), headers=user.headers, timeout=30)
    error = assert_envelope(response, 429, "quota_exceeded")
    assert error["details"][0]["limit"] == "in_flight"
    assert trips_of(firestore_client, user.uid) == []

    stale = now - dt.timedelta(hours=2)
    firestore_client.collection("ai_sessions").document(f"live-{user.uid}").update({"last_active_at": stale})
    assert http.post(plan_url, json=one_day(), headers=user.headers, timeout=120).status_code == 201


def _sessions_of(firestore_client: firestore.Client, field: str, value: str) -> list[dict[str, Any]]:
    return [
        doc.to_dict() or {}
        for doc in firestore_client.collection("ai_sessions").where(filter=FieldFilter(field, "==", value)).stream()
    ]


def test_maps_outage_before_the_destination_resolves_is_a_503_that_stores_nothing(
    http: requests.Session, plan_url: str, maps_admin: str, firestore_client: firestore.Client, stack: dict[str, str]
) -> None:
    user: TestUser = sign_up(stack)
    requests.post(maps_admin + "/faults", json={"error_rate": 1.0, "error_code": 503}, timeout=10).raise_for_status()
    response = http.post(plan_url, json=one_day(destination="Lisbon"), headers=user.headers, timeout=120)
    error = assert_envelope(response, 503, "maps_unavailable")
    assert not any(isinstance(detail, dict) and "trip_id" in detail for detail in error["details"])
    assert trips_of(firestore_client, user.uid) == [], "no trip exists before its destination does"
    sessions = _sessions_of(firestore_client, "user_id", user.uid)
    assert [(session["status"], session["reason"]) for session in sessions] == [("failed", "maps_unavailable")]


def test_maps_outage_after_the_trip_exists_gives_503_and_a_failed_trip(
    http: requests.Session, plan_url: str, maps_admin: str, firestore_client: firestore.Client, stack: dict[str, str]
) -> None:
    user: TestUser = sign_up(stack)
    # A first plan caches Rome itself; the outage then starts before anything else of the second plan is cached.
    first = http.post(plan_url, json=one_day(destination="Rome"), headers=user.headers, timeout=120)
    assert first.status_code == 201, first.text
    requests.post(maps_admin + "/faults", json={"error_rate": 1.0, "error_code": 503}, timeout=10).raise_for_status()
    second = one_day(destination="Rome", interests=["markets", "viewpoints"], pace="packed")
    response = http.post(plan_url, json=second, headers=user.headers, timeout=120)
    error = assert_envelope(response, 503, "maps_unavailable")
    trip_id = next(detail["trip_id"] for detail in error["details"] if isinstance(detail, dict))
    stored = firestore_client.collection("trips").document(trip_id).get().to_dict() or {}
    assert stored["status"] == "failed"
    assert stored["failure"]["code"] == "maps_unavailable"
    assert stored["progress"]["stage"] == "done"
    sessions = _sessions_of(firestore_client, "trip_id", trip_id)
    assert [session["status"] for session in sessions] == ["failed"]
