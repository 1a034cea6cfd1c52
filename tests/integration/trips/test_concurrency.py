"""Transactional code under real concurrency, on the Firestore stand-in that now isolates transactions (optimistic:
a commit whose reads changed is aborted and the client retries): quota admission and the in-flight session cap
(``common.services.trips.admission``) from many threads at once, and concurrent edits of one trip version through
HTTP."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
import requests
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from common.foundation import collection_names
from common.foundation.config import Settings
from common.foundation.errors import QuotaExceeded
from common.services.trips import admission
from common.services.trips.share_links import MAX_LINKS_PER_TRIP
from tests.integration.in_process import InProcessFunctions
from tests.integration.support import TestUser, function_server, module_env, sign_up
from tests.integration.trips.support import MAIN, plan, stored

THREADS = 8
T = TypeVar("T")


def admit_all_at_once(client: firestore.Client, settings: Settings, user_id: str) -> list[str]:
    """Start THREADS admissions for one user together; return each outcome: "admitted" or the refused limit."""
    barrier = threading.Barrier(THREADS)
    now = dt.datetime.now(dt.UTC)

    def admit(index: int) -> str:
        barrier.wait()
        try:
            admission.admit_planning(
                client, user_id=user_id, trip_id=f"trip-{index}", kind="plan", settings=settings, now=now
            )
        except QuotaExceeded as refused:
            return str(refused.details[0]["limit"])
        return "admitted"

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(admit, range(THREADS)))


def sessions_of(client: firestore.Client, user_id: str) -> list[dict[str, Any]]:
    query = client.collection(collection_names.SESSIONS).where(filter=FieldFilter("user_id", "==", user_id))
    return [snapshot.to_dict() or {} for snapshot in query.stream()]


@pytest.fixture
def settings_with(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Settings]:
    def make(**values: str) -> Settings:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        return Settings()

    return make


def test_concurrent_admissions_admit_exactly_the_per_minute_quota(
    firestore_client: firestore.Client, settings_with: Callable[..., Settings]
) -> None:
    settings = settings_with(PLAN_RATE_PER_MINUTE="3", PLAN_RATE_PER_DAY="100", MAX_SESSIONS_PER_USER="100")
    outcomes = admit_all_at_once(firestore_client, settings, "quota-user")
    assert sorted(outcomes) == ["admitted"] * 3 + ["per_minute"] * (THREADS - 3)
    quota = firestore_client.collection(collection_names.QUOTAS).document("quota-user").get().to_dict() or {}
    assert (quota["minute_count"], quota["day_count"]) == (3, 3)
    assert len(sessions_of(firestore_client, "quota-user")) == 3


def test_concurrent_admissions_respect_the_in_flight_session_cap(
    firestore_client: firestore.Client, settings_with: Callable[..., Settings]
) -> None:
    settings = settings_with(PLAN_RATE_PER_MINUTE="100", PLAN_RATE_PER_DAY="100", MAX_SESSIONS_PER_USER="2")
    outcomes = admit_all_at_once(firestore_client, settings, "busy-user")
    assert sorted(outcomes) == ["admitted"] * 2 + ["in_flight"] * (THREADS - 2)
    assert [session["status"] for session in sessions_of(firestore_client, "busy-user")] == ["active", "active"]


@pytest.fixture(scope="module")
def servers(in_process: InProcessFunctions, stack: dict[str, str], firestore_project: str) -> Iterator[dict[str, str]]:
    """plan_trip (the set-up) in the test process; trips under its own server, whose threads serve the concurrent
    edits as a deployed instance does."""
    env = module_env(stack, firestore_project) | {"PLAN_RATE_PER_MINUTE": "60", "PLAN_RATE_PER_DAY": "200"}
    with function_server("trips", MAIN, "http", env) as trips_url:
        yield {"plan": in_process.serve("plan_trip", env), "trips": f"{trips_url}/trips"}


def at_once(call: Callable[[int], T]) -> list[T]:
    """``call(index)`` in THREADS threads released together; each answer, in index order."""
    barrier = threading.Barrier(THREADS)

    def run(index: int) -> T:
        barrier.wait()
        return call(index)

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(run, range(THREADS)))


def planned_trip(http: requests.Session, servers: dict[str, str], stack: dict[str, str]) -> tuple[TestUser, Any]:
    owner = sign_up(stack)
    return owner, plan(http, servers["plan"], owner, days=1)


def test_concurrent_edits_of_one_version_let_exactly_one_win(
    http: requests.Session, servers: dict[str, str], stack: dict[str, str], firestore_client: firestore.Client
) -> None:
    owner, trip = planned_trip(http, servers, stack)
    url = f"{servers['trips']}/{trip['id']}"

    def edit(index: int) -> tuple[int, str]:
        body = {"version": trip["version"], "notes": f"edit {index}"}
        response = requests.patch(url, json=body, headers=owner.headers, timeout=60)
        return response.status_code, f"edit {index}"

    answers = at_once(edit)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] + [409] * (THREADS - 1)
    winner = next(notes for status, notes in answers if status == 200)
    document, _ = stored(firestore_client, trip["id"])
    assert (document["notes"], document["version"]) == (winner, trip["version"] + 1)


def test_concurrent_link_creations_stop_exactly_at_the_cap(
    http: requests.Session, servers: dict[str, str], stack: dict[str, str], firestore_client: firestore.Client
) -> None:
    owner, trip = planned_trip(http, servers, stack)
    url = f"{servers['trips']}/{trip['id']}/links"
    room = THREADS // 2
    for _ in range(MAX_LINKS_PER_TRIP - room):
        assert http.post(url, headers=owner.headers, timeout=30).status_code == 201

    statuses = sorted(at_once(lambda _: requests.post(url, headers=owner.headers, timeout=60).status_code))
    assert statuses == [201] * room + [409] * (THREADS - room)
    query = firestore_client.collection(collection_names.SHARE_LINKS).where(
        filter=FieldFilter("trip_id", "==", trip["id"])
    )
    assert len(list(query.stream())) == MAX_LINKS_PER_TRIP
