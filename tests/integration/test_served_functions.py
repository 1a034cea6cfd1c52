"""Every HTTP function through its own server, as deployed: functions-framework (gunicorn) in a process of its own,
started from functions/main.py with the environment the in-process tests give it (tests/integration/in_process.py).

The other integration modules serve most functions in the test process; this module keeps the deployment shape
covered for each: the request goes over a socket, through gunicorn's WSGI environment (``RAW_URI``), the framework's
routing and error handlers, in a fresh interpreter that imported main.py as a cold start does. health is served by
the stack (tests/integration/test_stack.py); enrich_places by its server behind the relay
(tests/integration/trips/test_trips_api.py, tests/integration/test_relay.py); concurrent edits go through the trips
server (tests/integration/trips/test_concurrency.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait

import pytest
import requests
from google.cloud import firestore

from tests.integration.in_process import MAIN
from tests.integration.support import TestUser, function_server, module_env, sign_up
from tests.integration.test_plan_trip import check_plans_a_trip_that_matches_the_contract
from tests.integration.trips.test_trips_api import check_paths_methods_and_ids_get_clear_answers

TICK = "2026-03-04T05:00:00Z"
HTTP_FUNCTIONS = ("plan_trip", "trips", "user_data", "cleanup_sessions", "backup_export")


@pytest.fixture(scope="module")
def env(stack: dict[str, str], firestore_project: str) -> dict[str, str]:
    return module_env(stack, firestore_project) | {
        "PLAN_RATE_PER_MINUTE": "30",
        "PLAN_RATE_PER_DAY": "100",
        "SCHEDULER_AUTH_BYPASS": "true",
        "BACKUP_MODE": "logical",
        "BACKUP_BUCKET": stack["STACK_BUCKET"],
        "BACKUP_PREFIX": f"it-backups/{firestore_project}",
        "BACKUP_COLLECTIONS": "trips,ai_sessions",
        "USER_EXPORT_PREFIX": f"it-user-exports/{firestore_project}",
    }


@pytest.fixture(scope="module")
def served(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """Each HTTP function's URL, each under its own server: trips first (plan_trip's TRIPS_URL names it, as the
    deploy sets it), then the others together; all stopped together."""
    with function_server("trips", MAIN, "http", env) as trips_url:
        others = {
            name: function_server(name, MAIN, "http", env | {"TRIPS_URL": trips_url})
            for name in HTTP_FUNCTIONS
            if name != "trips"
        }
        started: list[contextlib.AbstractContextManager[str]] = []
        try:
            with ThreadPoolExecutor(len(others)) as pool:
                starts = {name: pool.submit(server.__enter__) for name, server in others.items()}
                wait(starts.values())
            started = [others[name] for name, start in starts.items() if start.exception() is None]
            # result() raises the first failure to start
            yield {"trips": trips_url} | {name: start.result() for name, start in starts.items()}
        finally:
            with ThreadPoolExecutor(len(others)) as pool:
                wait([pool.submit(server.__exit__, None, None, None) for server in started])


@pytest.fixture(scope="module")
def user(stack: dict[str, str]) -> TestUser:
    return sign_up(stack)


def test_plan_trip_plans_a_trip_that_matches_the_contract(
    http: requests.Session, served: dict[str, str], user: TestUser, firestore_client: firestore.Client
) -> None:
    # The first plan of this module's project, as in tests/integration/test_plan_trip.py: nothing cached yet.
    check_plans_a_trip_that_matches_the_contract(http, served["plan_trip"], served["trips"], user, firestore_client)


def test_trips_answers_paths_methods_and_ids_as_sent(
    http: requests.Session, served: dict[str, str], user: TestUser
) -> None:
    urls = {"trips": f"{served['trips']}/trips", "bare": served["trips"]}
    check_paths_methods_and_ids_get_clear_answers(http, urls, {"owner": user})


def test_user_data_needs_a_token_and_exports_the_callers_data(
    http: requests.Session, served: dict[str, str], stack: dict[str, str]
) -> None:
    url = served["user_data"]
    assert http.get(url, timeout=10).status_code == 401
    assert http.delete(url + "?confirm=true", headers={"Authorization": "Bearer a.b.c"}, timeout=10).status_code == 401
    newcomer = sign_up(stack)
    response = http.get(url, headers=newcomer.headers, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["uid"] == newcomer.uid
    assert response.json()["counts"] == {"trips": 0, "ai_sessions": 0}


def test_cleanup_sessions_runs_a_tick_once_and_only_on_post(http: requests.Session, served: dict[str, str]) -> None:
    url = served["cleanup_sessions"]
    first = http.post(url, headers={"X-CloudScheduler-ScheduleTime": TICK}, timeout=60)
    assert first.status_code == 200, first.text
    assert (first.json()["skipped"], first.json()["complete"]) == (False, True)
    again = http.post(url, headers={"X-CloudScheduler-ScheduleTime": TICK}, timeout=60)
    assert again.status_code == 200
    assert again.json()["skipped"] is True
    assert http.get(url, timeout=10).status_code == 405


def test_backup_export_exports_a_tick_once(
    http: requests.Session, served: dict[str, str], env: dict[str, str], firestore_client: firestore.Client
) -> None:
    url = served["backup_export"]
    trips = len(list(firestore_client.collection("trips").stream()))
    assert trips >= 1, "the plan above stored a trip"
    first = http.post(url, headers={"X-CloudScheduler-ScheduleTime": TICK}, timeout=120)
    assert first.status_code == 200, first.text
    assert (first.json()["started"], first.json()["status"]) == (True, "done")
    assert first.json()["counts"]["trips"] == trips
    assert first.json()["output_uri"] == f"gs://{env['BACKUP_BUCKET']}/{env['BACKUP_PREFIX']}/{TICK}/"
    again = http.post(url, headers={"X-CloudScheduler-ScheduleTime": TICK}, timeout=60)
    assert again.status_code == 200
    assert again.json()["started"] is False
