"""cleanup_sessions through HTTP against the Firestore stand-in: what is ended, failed and deleted, what is left alone
(live sessions, plannings within their time), paging in small batches, and a repeated tick doing nothing. The
function runs in the test process (tests/integration/in_process.py); its own server is tested in
tests/integration/test_served_functions.py."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
import requests
from google.cloud import firestore

from common.foundation.config import load_settings
from common.services.ops.cleanup import run_cleanup
from tests.integration.in_process import InProcessFunctions
from tests.integration.support import module_env

NOW = dt.datetime.now(dt.UTC)
TICK = NOW.replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
# Collections whose documents carry expire_at, seeded with five expired documents and one current each.
EXPIRING_SEEDED = (
    "places_cache",
    "maps_search_cache",
    "maps_route_cache",
    "quotas",
    "share_links",
    "share_page_misses",
)


def ago(**delta: float) -> dt.datetime:
    return NOW - dt.timedelta(**delta)


def session(user: str, status: str, last_active: dt.datetime, created: dt.datetime) -> dict[str, Any]:
    return {
        "user_id": user,
        "trip_id": f"trip-of-{user}",
        "kind": "plan",
        "status": status,
        "created_at": created,
        "last_active_at": last_active,
        "expires_at": created + dt.timedelta(days=1),
    }


def trip(status: str, updated: dt.datetime, progress_updated: dt.datetime) -> dict[str, Any]:
    return {
        "user_id": "owner",
        "status": status,
        "version": 1,
        "progress": {"stage": "choosing", "updated_at": progress_updated},
        "failure": None,
        "created_at": updated,
        "updated_at": updated,
    }


SESSIONS: dict[str, dict[str, Any]] = {
    "idle": session("u1", "active", ago(hours=2), ago(hours=2)),
    "idle-2": session("u2", "active", ago(hours=3), ago(hours=3)),
    "idle-3": session("u3", "active", ago(hours=4), ago(hours=4)),
    "live-but-old": session("u1", "active", ago(seconds=10), ago(days=2)),
    "too-old": session("u4", "active", ago(minutes=10), ago(hours=25)),
    "completed": session("u1", "completed", ago(hours=3), ago(hours=3)),
    **{f"many-{index}": session("u-many", "active", ago(minutes=5 + index), ago(minutes=20)) for index in range(5)},
}
TRIPS: dict[str, dict[str, Any]] = {
    "stuck": trip("planning", ago(minutes=10), ago(minutes=10)),
    "stuck-2": trip("planning", ago(minutes=11), ago(minutes=11)),
    "fresh": trip("planning", ago(seconds=30), ago(seconds=30)),
    "progress-recent": trip("planning", ago(minutes=10), ago(seconds=20)),
    "ready": trip("ready", ago(days=3), ago(days=3)),
    "never-started": trip("queued", ago(hours=2), ago(hours=2)),
    "queued-recently": trip("queued", ago(minutes=30), ago(minutes=30)),
}


@pytest.fixture(scope="module")
def seeded(firestore_client: firestore.Client) -> None:
    batch = firestore_client.batch()
    for doc_id, data in SESSIONS.items():
        batch.set(firestore_client.collection("ai_sessions").document(doc_id), data)
    for doc_id, data in TRIPS.items():
        batch.set(firestore_client.collection("trips").document(doc_id), data)
    for collection in EXPIRING_SEEDED:
        for index in range(5):
            batch.set(
                firestore_client.collection(collection).document(f"old-{index}"), {"expire_at": ago(hours=index + 1)}
            )
        batch.set(
            firestore_client.collection(collection).document("current"), {"expire_at": NOW + dt.timedelta(hours=1)}
        )
    batch.commit()


@pytest.fixture(scope="module")
def cleanup_url(in_process: InProcessFunctions, stack: dict[str, str], firestore_project: str, seeded: None) -> str:
    env = module_env(stack, firestore_project) | {
        "SCHEDULER_AUTH_BYPASS": "true",
        "CLEANUP_BATCH_SIZE": "2",
        "MAX_SESSIONS_PER_USER": "3",
        "SESSION_IDLE_TIMEOUT": "3600",
        "SESSION_MAX_DURATION": "86400",
        "AGENT_RESPONSE_TIMEOUT": "180",
    }
    return in_process.serve("cleanup_sessions", env)


@pytest.fixture(scope="module")
def first_run(http: requests.Session, cleanup_url: str) -> dict[str, Any]:
    response = http.post(cleanup_url, headers={"X-CloudScheduler-ScheduleTime": TICK}, timeout=60)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _get(client: firestore.Client, collection: str, doc_id: str) -> dict[str, Any]:
    return client.collection(collection).document(doc_id).get().to_dict() or {}


def test_counts_per_kind(first_run: dict[str, Any]) -> None:
    assert first_run["skipped"] is False
    assert first_run["complete"] is True
    counts = first_run["counts"]
    assert counts["sessions_idle"] == 3
    assert counts["sessions_too_old"] == 1
    assert counts["sessions_over_limit"] == 2
    assert counts["trips_timed_out"] == 2
    assert counts["trips_never_started"] == 1
    for collection in EXPIRING_SEEDED:
        assert counts[f"deleted_{collection}"] == 5


def test_stale_sessions_are_expired_with_a_reason(
    first_run: dict[str, Any], firestore_client: firestore.Client
) -> None:
    for doc_id, reason in (("idle", "idle"), ("idle-3", "idle"), ("too-old", "max_duration")):
        stored = _get(firestore_client, "ai_sessions", doc_id)
        assert stored["status"] == "expired"
        assert stored["reason"] == reason
        assert abs((stored["ended_at"] - NOW).total_seconds()) < 120


def test_live_and_finished_sessions_are_untouched(
    first_run: dict[str, Any], firestore_client: firestore.Client
) -> None:
    assert _get(firestore_client, "ai_sessions", "live-but-old")["status"] == "active"
    assert _get(firestore_client, "ai_sessions", "completed") == SESSIONS["completed"]


def test_only_the_oldest_sessions_beyond_the_limit_end(
    first_run: dict[str, Any], firestore_client: firestore.Client
) -> None:
    statuses = {index: _get(firestore_client, "ai_sessions", f"many-{index}")["status"] for index in range(5)}
    # many-4 and many-3 were touched longest ago.
    assert statuses == {0: "active", 1: "active", 2: "active", 3: "expired", 4: "expired"}


def test_stuck_plannings_fail_and_plannings_within_their_time_stay(
    first_run: dict[str, Any], firestore_client: firestore.Client
) -> None:
    stuck = _get(firestore_client, "trips", "stuck")
    assert stuck["status"] == "failed"
    assert stuck["failure"]["code"] == "planning_timed_out"
    assert stuck["failure"]["message"]
    assert stuck["version"] == 2
    assert stuck["updated_at"] > TRIPS["stuck"]["updated_at"]
    assert _get(firestore_client, "trips", "fresh")["status"] == "planning"
    assert _get(firestore_client, "trips", "progress-recent")["status"] == "planning"
    assert _get(firestore_client, "trips", "ready") == TRIPS["ready"]


def test_queued_trips_no_worker_claimed_fail_after_the_idle_timeout(
    first_run: dict[str, Any], firestore_client: firestore.Client
) -> None:
    never = _get(firestore_client, "trips", "never-started")
    assert (never["status"], never["failure"]["code"], never["version"]) == ("failed", "planning_timed_out", 2)
    assert _get(firestore_client, "trips", "queued-recently") == TRIPS["queued-recently"]


def test_expired_documents_go_and_current_ones_stay(
    first_run: dict[str, Any], firestore_client: firestore.Client
) -> None:
    for collection in EXPIRING_SEEDED:
        remaining = [snapshot.id for snapshot in firestore_client.collection(collection).stream()]
        assert remaining == ["current"], collection


def test_the_same_tick_again_does_nothing(
    first_run: dict[str, Any], http: requests.Session, cleanup_url: str, firestore_client: firestore.Client
) -> None:
    firestore_client.collection("ai_sessions").document("idle-again").set(
        session("u9", "active", ago(hours=5), ago(hours=5))
    )
    response = http.post(cleanup_url, headers={"X-CloudScheduler-ScheduleTime": TICK}, timeout=60)
    assert response.status_code == 200
    assert response.json()["skipped"] is True
    assert _get(firestore_client, "ai_sessions", "idle-again")["status"] == "active"
    run = firestore_client.collection("ops_runs").document(f"cleanup_sessions-{TICK}").get().to_dict() or {}
    assert run["status"] == "done"
    assert run["result"]["counts"]["sessions_idle"] == 3


def test_only_post_is_accepted(http: requests.Session, cleanup_url: str) -> None:
    assert http.get(cleanup_url, timeout=10).status_code == 405


def test_a_spent_time_budget_stops_between_pages(firestore_client: firestore.Client) -> None:
    batch = firestore_client.batch()
    for index in range(6):
        batch.set(firestore_client.collection("places_cache").document(f"budget-{index}"), {"expire_at": ago(hours=1)})
    batch.commit()
    ticks = itertools.count(0.0, 0.4)  # every look at the clock costs 0.4 s of a 1 s budget
    settings = load_settings(cleanup_time_budget_seconds=1, cleanup_batch_size=2)
    report = run_cleanup(firestore_client, settings, NOW, clock=lambda: next(ticks))
    assert report.complete is False
    assert sum(report.counts.values()) < 6
    left = [s.id for s in firestore_client.collection("places_cache").stream() if s.id.startswith("budget-")]
    assert left, "the run stopped before deleting everything"
