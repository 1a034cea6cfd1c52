"""Fault injection through HTTP: Maps failing or slow, Gemini failing or hanging, Firestore paused or killed mid-plan.

Every scenario runs its own stand-in (so no other suite sees the faults) and its own plan_trip server. Whatever
happens, the user gets a 201 or a clear envelope (503 for an upstream that stayed down), no trip is left in
``planning`` where the failure could be recorded, none is lost, and the request returns within a generous client
timeout. Elapsed times are printed (``-s``), never asserted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
import requests
from google.cloud import firestore

from common.foundation.config import load_settings
from common.services.ops.cleanup import run_cleanup
from tests.integration.ai.gemini_standin import GeminiStandIn, Reply, error_reply, json_reply
from tests.integration.support import (
    TestUser,
    free_port,
    function_server,
    module_env,
    sign_up,
    stop_process_group,
)
from tests.proof.support import (
    MAIN,
    assert_envelope,
    maps_standin,
    start_firestore,
    trip_body,
    trip_id_in,
    trips_of,
    wait_for,
)

CLIENT_TIMEOUT_S = 300.0  # generous: the function's own deployed timeout is 300 s
QUOTAS = {"PLAN_RATE_PER_MINUTE": "1000", "PLAN_RATE_PER_DAY": "1000", "MAX_SESSIONS_PER_USER": "100"}


@pytest.fixture(scope="module")
def user(stack: dict[str, str]) -> TestUser:
    return sign_up(stack)


def _client(host: str, project: str) -> firestore.Client:
    with mock.patch.dict(os.environ, {"FIRESTORE_EMULATOR_HOST": host}):
        return firestore.Client(project=project)


def _plan(url: str, user: TestUser, body: dict[str, Any]) -> tuple[requests.Response, float]:
    started = time.perf_counter()
    response = requests.post(url, json=body, headers=user.headers, timeout=CLIENT_TIMEOUT_S)
    return response, time.perf_counter() - started


def _check_outcome(response: requests.Response, client: firestore.Client, allowed_errors: set[str]) -> str:
    """201 with a ready trip, or an allowed error whose trip (when one was created) is stored ``failed``."""
    if response.status_code == 201:
        trip = response.json()
        assert trip["status"] == "ready"
        stored = client.collection("trips").document(trip["id"]).get().to_dict() or {}
        assert stored["status"] == "ready"
        return "201"
    error = assert_envelope(response)
    assert error["code"] in allowed_errors, error
    assert response.status_code == 503, response.text
    trip_id = trip_id_in(error)
    if trip_id is not None:
        stored = client.collection("trips").document(trip_id).get().to_dict() or {}
        assert stored["status"] == "failed", stored.get("status")
        assert stored["failure"]["code"] == error["code"]
    return f"{response.status_code} {error['code']}"


MAPS_SCENARIOS: dict[str, tuple[dict[str, Any], dict[str, str], set[str]]] = {
    "30% errors": ({"error_rate": 0.3, "seed": 11}, {}, {"201", "503 maps_unavailable"}),
    "100% errors": ({"error_rate": 1.0}, {}, {"503 maps_unavailable"}),
    "2 s latency": ({"latency_ms": 2000}, {}, {"201"}),
    "2 s latency, 1 s client timeout": ({"latency_ms": 2000}, {"MAPS_REQUEST_TIMEOUT": "1"}, {"503 maps_unavailable"}),
}


@pytest.mark.parametrize("scenario", list(MAPS_SCENARIOS))
def test_maps_faults(
    scenario: str, stack: dict[str, str], firestore_project: str, user: TestUser, firestore_client: firestore.Client
) -> None:
    faults, extra_env, expected = MAPS_SCENARIOS[scenario]
    project = f"{firestore_project}-{uuid.uuid4().hex[:4]}"  # its own Maps L2 cache
    client = _client(stack["FIRESTORE_EMULATOR_HOST"], project)
    cities = ("Kyoto",) if "latency" in scenario else ("Kyoto", "Rome", "Barcelona")
    with maps_standin(**faults) as maps:
        env = module_env(stack, project) | QUOTAS | {"MAPS_API_ENDPOINT": maps, **extra_env}
        with function_server("plan_trip", MAIN, "http", env) as url:
            outcomes = []
            created = 0  # plans whose trip exists: a 201, or an error naming its stored (failed) trip
            for city in cities:
                response, seconds = _plan(url, user, trip_body(city))
                outcomes.append(_check_outcome(response, client, {"maps_unavailable"}))
                if response.status_code == 201 or trip_id_in(response.json()["error"]) is not None:
                    created += 1
                print(f"\nmaps {scenario}: {city} -> {outcomes[-1]} in {seconds:.2f} s")
    assert set(outcomes) <= expected, outcomes
    if scenario == "30% errors":
        assert "201" in outcomes, "retries should carry most plans through 30% errors"
    stored = trips_of(client, user.uid)
    assert len(stored) == created, "every plan whose trip was created is stored once; the others stored nothing"
    if scenario == "100% errors":
        assert created == 0, "the destination never resolved, so no trip was created"
    assert all(trip["status"] in ("ready", "failed") for trip in stored)


@pytest.fixture(scope="module")
def gemini() -> Iterator[GeminiStandIn]:
    standin = GeminiStandIn()
    standin.start()
    try:
        yield standin
    finally:
        standin.stop()


def _proposal() -> Reply:
    return json_reply({"places": [{"name": "Kiyomizu-dera", "kind": "visit", "priority": 4, "description": "x"}]})


GEMINI_SCENARIOS: dict[str, tuple[list[Reply], dict[str, str], str]] = {
    "failing": ([error_reply(500, "backend error", "INTERNAL")] * 8, {}, "503 model_unavailable"),
    "failing, offline fallback": (
        [error_reply(503, "overloaded", "UNAVAILABLE")] * 8,
        {"AI_FALLBACK_PROVIDER": "offline"},
        "201",
    ),
    "hanging": ([Reply(200, _proposal().body, delay_s=20.0)] * 4, {}, "503 model_unavailable"),
}


@pytest.mark.parametrize("scenario", list(GEMINI_SCENARIOS))
def test_gemini_faults(
    scenario: str,
    stack: dict[str, str],
    firestore_project: str,
    user: TestUser,
    gemini: GeminiStandIn,
    firestore_client: firestore.Client,
) -> None:
    replies, extra_env, expected = GEMINI_SCENARIOS[scenario]
    gemini.script.clear()
    gemini.play(*replies)
    env = (
        module_env(stack, firestore_project)
        | QUOTAS
        | {
            "AI_MODEL_PROVIDER": "google-ai",
            "AI_FALLBACK_PROVIDER": "none",
            "GEMINI_API_KEY": "local-test-key",
            "GEMINI_BASE_URL": gemini.base_url,
            "VERTEX_AI_MAX_RETRIES": "1",
            "VERTEX_AI_RETRY_DELAY": "0.1",
            "VERTEX_AI_REQUEST_TIMEOUT": "2",
            **extra_env,
        }
    )
    with function_server("plan_trip", MAIN, "http", env) as url:
        response, seconds = _plan(url, user, trip_body("Kyoto"))
    outcome = _check_outcome(response, firestore_client, {"model_unavailable"})
    print(f"\ngemini {scenario}: {outcome} in {seconds:.2f} s")
    assert outcome == expected
    if outcome == "201":
        trip = response.json()
        assert trip["planner"]["provider"] == "offline"
        assert any("offline" in warning for warning in trip["warnings"])
    assert all(trip["status"] in ("ready", "failed") for trip in trips_of(firestore_client, user.uid))


@contextlib.contextmanager
def _private_firestore_plan(stack: dict[str, str], port: int) -> Iterator[tuple[str, str]]:
    """A plan_trip server on a private Firestore stand-in at ``port`` and a slow private Maps stand-in (so a plan
    lasts a few seconds); yields (url, project)."""
    project = f"proof-fs-{uuid.uuid4().hex[:6]}"
    with maps_standin(latency_ms=150) as maps:
        env = module_env(stack, project) | QUOTAS | {"FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{port}"}
        env["MAPS_API_ENDPOINT"] = maps
        with function_server("plan_trip", MAIN, "http", env) as url:
            yield url, project


def _when_planning(client: firestore.Client, uid: str, then: Any) -> threading.Thread:
    """Call ``then`` as soon as a trip of ``uid`` is stored ``planning`` (in a thread)."""

    def watch() -> None:
        wait_for(lambda: any(trip["status"] == "planning" for trip in trips_of(client, uid)), 60.0, 0.05)
        then()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


class _Run:
    """One plan request in a thread; its response and elapsed seconds when done."""

    def __init__(self, url: str, user: TestUser) -> None:
        self.response: requests.Response | None = None
        self.seconds = 0.0
        self.thread = threading.Thread(target=self._go, args=(url, user), daemon=True)

    def _go(self, url: str, user: TestUser) -> None:
        self.response, self.seconds = _plan(url, user, trip_body("Paris", days=2))


def test_firestore_paused_then_killed_mid_plan(stack: dict[str, str]) -> None:
    """Two private Firestore stand-ins, two plans at once, each interrupted as soon as its trip is ``planning``:

    - paused for 3 s (SIGSTOP, then SIGCONT), shorter than the client's retry deadline: the plan completes;
    - paused past the deadline (about 60 s; SIGSTOP, SIGCONT after the answer): a 503 envelope; the trip stays
      ``planning`` (the failure could not be recorded), and cleanup_sessions's sweep fails it once it timed out;
    - killed (SIGKILL) and restarted after the answer: a 503 envelope; the same function instance plans again once
      Firestore is back. (The stand-in keeps its data in memory, so a restart empties it: "none lost" is checked
      on the paused ones.)
    """
    short_user, long_user, killed_user = sign_up(stack), sign_up(stack), sign_up(stack)
    ports = [free_port() for _ in range(3)]
    processes = [start_firestore(port) for port in ports]
    try:
        with (
            _private_firestore_plan(stack, ports[0]) as (short_url, short_project),
            _private_firestore_plan(stack, ports[1]) as (long_url, long_project),
            _private_firestore_plan(stack, ports[2]) as (killed_url, killed_project),
        ):
            clients = [
                _client(f"127.0.0.1:{port}", project)
                for port, project in zip(ports, (short_project, long_project, killed_project), strict=True)
            ]

            def short_pause() -> None:
                _signal_group(processes[0], signal.SIGSTOP)
                time.sleep(3.0)
                _signal_group(processes[0], signal.SIGCONT)

            watchers = [
                _when_planning(clients[0], short_user.uid, short_pause),
                _when_planning(clients[1], long_user.uid, lambda: _signal_group(processes[1], signal.SIGSTOP)),
                _when_planning(clients[2], killed_user.uid, lambda: _signal_group(processes[2], signal.SIGKILL)),
            ]
            runs = [_Run(short_url, short_user), _Run(long_url, long_user), _Run(killed_url, killed_user)]
            for run in runs:
                run.thread.start()
            for run in runs:
                run.thread.join(CLIENT_TIMEOUT_S + 10)
            for watcher in watchers:
                watcher.join(5)
            _signal_group(processes[1], signal.SIGCONT)
            short, long, killed = runs
            assert short.response is not None
            assert long.response is not None
            assert killed.response is not None
            print(f"\nfirestore paused 3 s: {short.response.status_code} in {short.seconds:.1f} s")
            print(f"firestore paused past the deadline: {long.response.status_code} in {long.seconds:.1f} s")
            print(f"firestore killed: {killed.response.status_code} in {killed.seconds:.1f} s")

            # Paused briefly: the plan went through and nothing is left behind.
            assert short.response.status_code == 201, short.response.text
            assert [trip["status"] for trip in trips_of(clients[0], short_user.uid)] == ["ready"]

            # Paused past the deadline: a clear 503; the trip is still there. The function's one quick attempt to
            # record the failure lands if the stand-in reads it once resumed; otherwise the trip is stuck in
            # planning until cleanup_sessions's sweep fails it. Either way, after the sweep nothing is planning.
            assert_envelope(long.response, 503, "upstream_unavailable")
            stuck = trips_of(clients[1], long_user.uid)
            assert len(stuck) == 1
            assert stuck[0]["status"] in {"planning", "failed"}
            settings = load_settings(google_cloud_project=long_project)
            later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=settings.agent_response_timeout + 1)
            report = run_cleanup(clients[1], settings, later)
            expected_sweeps = 1 if stuck[0]["status"] == "planning" else 0
            assert report.counts.get("trips_timed_out", 0) == expected_sweeps, report.as_dict()
            swept = trips_of(clients[1], long_user.uid)
            assert [trip["status"] for trip in swept] == ["failed"]
            assert swept[0]["failure"]["code"] in {"planning_timed_out", "upstream_unavailable"}

            # Killed: a clear 503; once a stand-in is back on the port, the same server plans again.
            assert_envelope(killed.response, 503, "upstream_unavailable")
            processes[2] = start_firestore(ports[2])
            again, seconds = _plan(killed_url, killed_user, trip_body("Kyoto"))
            print(f"firestore restarted: {again.status_code} in {seconds:.1f} s")
            assert again.status_code == 201, again.text
            assert [trip["status"] for trip in trips_of(clients[2], killed_user.uid)] == ["ready"]
    finally:
        for process in processes:
            _signal_group(process, signal.SIGCONT)
            stop_process_group(process)
