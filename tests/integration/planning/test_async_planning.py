"""Asynchronous planning through the local stack: plan_trip (Prefer: respond-async) and plan_worker under
functions-framework, the Cloud Tasks stand-in (gcloud-tasks-emulator, reached by the official google-cloud-tasks
client) delivering the tasks over HTTP, the Firestore stand-in, the Auth emulator and the Maps stand-in.

Each module gets its own queue on the stack's stand-in (deleted at the end, so no task outlives the module) and its
own Firestore project."""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import jsonschema
import pytest
import requests
from google.cloud import firestore, tasks_v2
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

from scripts.envfile import STACK_STATE_DIR
from tests.integration.support import (
    ROOT,
    VENV_BIN,
    TestUser,
    free_port,
    function_server,
    module_env,
    sign_up,
    stop_process_group,
    wait_until_answers,
)

MAIN = ROOT / "functions" / "main.py"
SLOW_WORKER = Path(__file__).with_name("slow_worker.py")
OPENAPI = json.loads((ROOT / "openapi.json").read_text())
START = dt.date.today() + dt.timedelta(days=30)
ASYNC = {"Prefer": "respond-async"}


def request_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "destination": "Kyoto",
        "start_date": START.isoformat(),
        "end_date": (START + dt.timedelta(days=1)).isoformat(),
        "interests": ["temples", "food"],
    }
    return body | overrides


# ----- fixtures ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tasks(stack: dict[str, str]) -> tasks_v2.CloudTasksClient:
    channel = grpc.insecure_channel(stack["CLOUD_TASKS_EMULATOR_HOST"])
    return tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))


@contextlib.contextmanager
def new_queue(tasks: tasks_v2.CloudTasksClient, stack: dict[str, str]) -> Iterator[str]:
    parent = f"projects/{stack['GOOGLE_CLOUD_PROJECT']}/locations/us-central1"
    name = f"{parent}/queues/test-{uuid.uuid4().hex[:10]}"
    tasks.create_queue(parent=parent, queue=tasks_v2.Queue(name=name))
    try:
        yield name
    finally:
        tasks.delete_queue(name=name)


@pytest.fixture(scope="module")
def queue(tasks: tasks_v2.CloudTasksClient, stack: dict[str, str]) -> Iterator[str]:
    with new_queue(tasks, stack) as name:
        yield name


@pytest.fixture(scope="module")
def env(stack: dict[str, str], firestore_project: str) -> dict[str, str]:
    return module_env(stack, firestore_project) | {"PLAN_RATE_PER_MINUTE": "60", "PLAN_RATE_PER_DAY": "200"}


@pytest.fixture(scope="module")
def worker_url(env: dict[str, str]) -> Iterator[str]:
    with function_server("plan_worker", MAIN, "http", env | {"PLAN_CLAIM_LEASE_SECONDS": "60"}) as url:
        yield url


@pytest.fixture(scope="module")
def plan_url(env: dict[str, str], queue: str, worker_url: str) -> Iterator[str]:
    settings = {"PLANNING_QUEUE": queue, "PLAN_WORKER_URL": worker_url}
    with function_server("plan_trip", MAIN, "http", env | settings) as url:
        yield url


@pytest.fixture(scope="module")
def user(stack: dict[str, str]) -> TestUser:
    return sign_up(stack)


@contextlib.contextmanager
def paused(tasks: tasks_v2.CloudTasksClient, queue: str) -> Iterator[None]:
    tasks.pause_queue(name=queue)
    try:
        yield
    finally:
        tasks.resume_queue(name=queue)


def pending_tasks(tasks: tasks_v2.CloudTasksClient, queue: str) -> list[str]:
    return [task.name for task in tasks.list_tasks(parent=queue)]


def wait_for(condition: Any, timeout_s: float = 60.0, what: str = "a condition") -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def trip_document(client: firestore.Client, trip_id: str) -> dict[str, Any]:
    return client.collection("trips").document(trip_id).get().to_dict() or {}


def sessions_of(client: firestore.Client, trip_id: str) -> list[dict[str, Any]]:
    query = client.collection("ai_sessions").where(filter=FieldFilter("trip_id", "==", trip_id))
    return [doc.to_dict() or {} for doc in query.stream()]


def trips_of(client: firestore.Client, uid: str) -> list[dict[str, Any]]:
    query = client.collection("trips").where(filter=FieldFilter("user_id", "==", uid))
    return [doc.to_dict() or {} for doc in query.stream()]


def ended(client: firestore.Client, trip_id: str) -> dict[str, Any] | None:
    trip = trip_document(client, trip_id)
    return trip if trip.get("status") in ("ready", "failed") else None


def post_async(plan_url: str, user: TestUser, body: dict[str, Any] | None = None) -> requests.Response:
    return requests.post(plan_url, json=body or request_body(), headers=user.headers | ASYNC, timeout=60)


# ----- tests ------------------------------------------------------------------------------------------------------


def test_the_trip_is_answered_queued_and_a_listener_sees_it_planned(
    plan_url: str, tasks: tasks_v2.CloudTasksClient, queue: str, firestore_client: firestore.Client, user: TestUser
) -> None:
    """As an app would: POST with Prefer: respond-async, then onSnapshot on the trip until it is ready. The queue is
    paused until the listener is attached, so the listener's first snapshot is the queued trip."""
    with paused(tasks, queue):
        started = time.monotonic()
        response = post_async(plan_url, user)
        answered_s = time.monotonic() - started
        assert response.status_code == 202, response.text
        trip = response.json()
        jsonschema.validate(trip, {"$ref": "#/components/schemas/Trip", "components": OPENAPI["components"]})
        assert (trip["status"], trip["progress"]["stage"], trip["days"]) == ("queued", "queued", [])
        assert response.headers["Location"].endswith(f"/{trip['id']}")
        assert response.headers["Preference-Applied"] == "respond-async"
        assert pending_tasks(tasks, queue) == [f"{queue}/tasks/plan-{trip['id']}"]

        seen: list[tuple[str, str]] = []
        done = threading.Event()

        def record(snapshots: list[Any], _changes: Any, _read_time: Any) -> None:
            for snapshot in snapshots:
                data = snapshot.to_dict() or {}
                state = (str(data.get("status")), str(data.get("progress", {}).get("stage")))
                if not seen or seen[-1] != state:
                    seen.append(state)
                if data.get("status") in ("ready", "failed"):
                    done.set()

        watch = firestore_client.collection("trips").document(trip["id"]).on_snapshot(record)
        wait_for(lambda: seen, 10, "the listener's first snapshot")
    try:
        assert done.wait(90), seen
    finally:
        watch.unsubscribe()  # type: ignore[no-untyped-call]
    statuses = [status for status, _ in seen]
    assert [status for index, status in enumerate(statuses) if index == 0 or statuses[index - 1] != status] == [
        "queued",
        "planning",
        "ready",
    ], seen
    assert seen[0] == ("queued", "queued")
    assert seen[-1] == ("ready", "done")
    assert {"resolving", "scheduling"} <= {stage for _, stage in seen}
    stored = trip_document(firestore_client, trip["id"])
    assert (stored["planning_attempts"], stored["version"]) == (1, 2)
    assert stored["days"]
    (session,) = sessions_of(firestore_client, trip["id"])
    assert session["status"] == "completed"
    print(f"202 answered in {answered_s * 1000:.0f} ms")


def test_the_same_task_delivered_three_times_plans_the_trip_once(
    plan_url: str,
    worker_url: str,
    tasks: tasks_v2.CloudTasksClient,
    queue: str,
    firestore_client: firestore.Client,
    user: TestUser,
) -> None:
    """Three deliveries of one task through the queue (the task plus two copies of it), and three deliveries at the
    same moment straight to the worker: one claim, one planning, one session closed."""
    with paused(tasks, queue):
        trip_id = post_async(plan_url, user).json()["id"]
        (original,) = tasks.list_tasks(parent=queue)
        for copy in (1, 2):
            duplicate = tasks_v2.Task(
                name=f"{original.name}-copy{copy}",
                http_request=tasks_v2.HttpRequest(
                    url=original.http_request.url,
                    http_method=tasks_v2.HttpMethod.POST,
                    headers=dict(original.http_request.headers),
                    body=original.http_request.body,
                ),
            )
            tasks.create_task(parent=queue, task=duplicate)
        assert len(pending_tasks(tasks, queue)) == 3
    wait_for(lambda: ended(firestore_client, trip_id), 90, "the trip to be planned")
    wait_for(lambda: not pending_tasks(tasks, queue), 60, "every delivery to be answered")
    trip = trip_document(firestore_client, trip_id)
    assert (trip["status"], trip["planning_attempts"], trip["version"]) == ("ready", 1, 2)
    assert [session["status"] for session in sessions_of(firestore_client, trip_id)] == ["completed"]

    # Concurrent deliveries: the queue paused, three POSTs of the task's body at once.
    with paused(tasks, queue):
        trip_id = post_async(plan_url, user).json()["id"]
        (task,) = tasks.list_tasks(parent=queue)
        headers = {"Content-Type": "application/json", "X-CloudTasks-TaskName": task.name.rsplit("/", 1)[-1]}

        def deliver(_: int) -> requests.Response:
            return requests.post(worker_url, data=task.http_request.body, headers=headers, timeout=90)

        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            answers = list(pool.map(deliver, range(3)))
        codes = sorted(answer.status_code for answer in answers)
        planned = [answer.json() for answer in answers if answer.status_code == 200]
        assert codes in ([200, 409, 409], [200, 200, 409], [200, 200, 200]), [a.text for a in answers]
        assert [answer["outcome"] for answer in planned].count("claimed") == 1, planned
        assert all(answer.json()["error"]["code"] == "conflict" for answer in answers if answer.status_code == 409)
    # The queue's own delivery now finds the trip planned and does nothing.
    wait_for(lambda: not pending_tasks(tasks, queue), 60, "the queued delivery")
    trip = trip_document(firestore_client, trip_id)
    assert (trip["status"], trip["planning_attempts"], trip["version"]) == ("ready", 1, 2)
    assert [session["status"] for session in sessions_of(firestore_client, trip_id)] == ["completed"]


def test_quota_and_bad_input_are_answered_before_anything_is_queued(
    plan_url: str,
    tasks: tasks_v2.CloudTasksClient,
    queue: str,
    firestore_client: firestore.Client,
    stack: dict[str, str],
) -> None:
    someone = sign_up(stack)
    with paused(tasks, queue):
        before = set(pending_tasks(tasks, queue))
        bad_dates = post_async(plan_url, someone, request_body(end_date="1999-01-01"))
        unknown = post_async(plan_url, someone, request_body(destination="Atlantis under the sea"))
        assert (bad_dates.status_code, unknown.status_code) == (400, 400), (bad_dates.text, unknown.text)
        assert set(pending_tasks(tasks, queue)) == before
        assert trips_of(firestore_client, someone.uid) == []
        # MAX_SESSIONS_PER_USER (3) plannings in flight: the fourth is refused before anything is stored or queued.
        accepted = [post_async(plan_url, someone) for _ in range(3)]
        assert [answer.status_code for answer in accepted] == [202, 202, 202]
        refused = post_async(plan_url, someone)
        assert refused.status_code == 429, refused.text
        assert refused.headers["Retry-After"]
        assert len(set(pending_tasks(tasks, queue)) - before) == 3
        assert len(trips_of(firestore_client, someone.uid)) == 3
    accepted_ids = [answer.json()["id"] for answer in accepted]
    wait_for(lambda: all(ended(firestore_client, trip_id) for trip_id in accepted_ids), 120, "the accepted plans")
    assert {trip["status"] for trip in trips_of(firestore_client, someone.uid)} == {"ready"}


@contextlib.contextmanager
def killable_worker(port: int, env: dict[str, str], log_name: str) -> Iterator[subprocess.Popen[bytes]]:
    """plan_worker (tests/integration/planning/slow_worker.py) on ``port``, in its own process group."""
    command = [
        str(VENV_BIN / "functions-framework"),
        "--target",
        "plan_worker",
        "--source",
        str(SLOW_WORKER),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    log_path = STACK_STATE_DIR / f"test-{log_name}.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until_answers(port, process)
            yield process
        finally:
            stop_process_group(process)


def test_a_worker_killed_mid_plan_is_retried_and_the_trip_still_ends(
    env: dict[str, str],
    tasks: tasks_v2.CloudTasksClient,
    stack: dict[str, str],
    firestore_client: firestore.Client,
    user: TestUser,
) -> None:
    """SIGKILL of the worker while the trip is ``planning``: the stand-in's delivery fails and is retried; the
    restarted worker answers 409 while the claim's lease (2 s here) runs, then claims the trip again and plans it."""
    port = free_port()
    worker_env = env | {"PLAN_CLAIM_LEASE_SECONDS": "2"}
    with new_queue(tasks, stack) as crash_queue:
        settings = {"PLANNING_QUEUE": crash_queue, "PLAN_WORKER_URL": f"http://127.0.0.1:{port}"}
        with function_server("plan_trip", MAIN, "http", env | settings) as plan_url:
            with killable_worker(port, worker_env | {"SLOW_PLANNING_SECONDS": "30"}, f"slow-worker-{port}") as slow:
                trip_id = post_async(plan_url, user).json()["id"]
                wait_for(lambda: trip_document(firestore_client, trip_id).get("status") == "planning", 30, "the claim")
                os.killpg(slow.pid, signal.SIGKILL)
                slow.wait(10)
            assert trip_document(firestore_client, trip_id)["status"] == "planning"
            with killable_worker(port, worker_env, f"worker-{port}"):
                trip = wait_for(lambda: ended(firestore_client, trip_id), 90, "the retried plan")
                wait_for(lambda: not pending_tasks(tasks, crash_queue), 30, "the task to be done")
    assert trip["status"] == "ready", trip.get("failure")
    assert trip["planning_attempts"] == 2
    assert [session["status"] for session in sessions_of(firestore_client, trip_id)] == ["completed"]


@pytest.fixture(scope="module")
def trips_url(env: dict[str, str], queue: str, worker_url: str) -> Iterator[str]:
    settings = {"PLANNING_QUEUE": queue, "PLAN_WORKER_URL": worker_url}
    with function_server("trips", MAIN, "http", env | settings) as url:
        yield url


def test_a_day_is_re_planned_asynchronously_once(
    plan_url: str,
    trips_url: str,
    worker_url: str,
    tasks: tasks_v2.CloudTasksClient,
    queue: str,
    firestore_client: firestore.Client,
    stack: dict[str, str],
) -> None:
    owner = sign_up(stack)
    planned = requests.post(plan_url, json=request_body(), headers=owner.headers, timeout=120)
    assert planned.status_code == 201, planned.text
    trip = planned.json()
    replan_url = f"{trips_url}/trips/{trip['id']}/days/2/replan"
    with paused(tasks, queue):
        response = requests.post(replan_url, json={"wishes": "gardens"}, headers=owner.headers | ASYNC, timeout=60)
        assert response.status_code == 202, response.text
        body = response.json()
        jsonschema.validate(body, {"$ref": "#/components/schemas/Trip", "components": OPENAPI["components"]})
        assert (body["status"], body["version"]) == ("ready", trip["version"])
        assert (body["replanning"]["day"], body["replanning"]["status"]) == (2, "queued")
        assert not {"wishes", "session_id", "requested_by", "attempts"} & set(body["replanning"])
        again = requests.post(replan_url, headers=owner.headers | ASYNC, timeout=60)
        assert again.status_code == 409, again.text
        (task,) = tasks.list_tasks(parent=queue)

        seen: list[tuple[str, str]] = []
        done = threading.Event()

        def record(snapshots: list[Any], _changes: Any, _read_time: Any) -> None:
            for snapshot in snapshots:
                data = snapshot.to_dict() or {}
                state = (str(data.get("status")), str((data.get("replanning") or {}).get("status")))
                if not seen or seen[-1] != state:
                    seen.append(state)
                if state[1] in ("done", "failed"):
                    done.set()

        watch = firestore_client.collection("trips").document(trip["id"]).on_snapshot(record)
        wait_for(lambda: seen, 10, "the listener's first snapshot")
    try:
        assert done.wait(90), seen
    finally:
        watch.unsubscribe()  # type: ignore[no-untyped-call]
    assert seen == [("ready", "queued"), ("ready", "planning"), ("ready", "done")], seen
    stored = trip_document(firestore_client, trip["id"])
    assert stored["version"] == trip["version"] + 1
    assert stored["replanning"]["attempts"] == 1
    first_day = [stop["place_id"] for stop in trip["days"][0]["stops"]]
    assert [stop["place_id"] for stop in stored["days"][0]["stops"]] == first_day, "the other day stays"
    # The same task again: nothing to do, nothing written.
    headers = {"Content-Type": "application/json"}
    repeat = requests.post(worker_url, data=task.http_request.body, headers=headers, timeout=60)
    assert (repeat.status_code, repeat.json()["outcome"]) == (200, "done"), repeat.text
    assert trip_document(firestore_client, trip["id"])["version"] == trip["version"] + 1
    sessions = [s for s in sessions_of(firestore_client, trip["id"]) if s.get("kind") == "replan"]
    assert [session["status"] for session in sessions] == ["completed"]


def test_the_rest_of_a_day_is_re_planned_asynchronously_with_the_same_body(
    plan_url: str, trips_url: str, firestore_client: firestore.Client, stack: dict[str, str]
) -> None:
    """``from``, ``keep`` and ``skip`` work with Prefer: respond-async as without it: checked before anything is
    queued (400), kept on the queued re-plan (not shown), applied by the worker, and the changes reported."""
    owner = sign_up(stack)
    planned = requests.post(plan_url, json=request_body(), headers=owner.headers, timeout=120)
    assert planned.status_code == 201, planned.text
    trip = planned.json()
    stops = trip["days"][1]["stops"]
    sights = [stop for stop in stops if not stop["meal"]]
    assert len(sights) >= 2, stops
    ahead = [stop["place_id"] for stop in sights[-2:]]
    replan_url = f"{trips_url}/trips/{trip['id']}/days/2/replan"
    start = {"time": sights[-2]["arrive"], "location": {"lat": 35.0254, "lng": 135.7621}}
    bad = requests.post(
        replan_url, json={"from": start, "keep": ["nowhere"]}, headers=owner.headers | ASYNC, timeout=60
    )
    assert bad.status_code == 400, bad.text
    assert [problem["field"] for problem in bad.json()["error"]["details"]] == ["keep.0"]
    assert trip_document(firestore_client, trip["id"]).get("replanning") is None, "nothing queued"
    body: dict[str, Any] = {"from": start, "keep": [ahead[0]], "skip": [ahead[1]]}
    response = requests.post(replan_url, json=body, headers=owner.headers | ASYNC, timeout=60)
    assert response.status_code == 202, response.text
    assert not {"options", "wishes"} & set(response.json()["replanning"])
    stored = wait_for(
        lambda: (
            (data := trip_document(firestore_client, trip["id"]))["replanning"]["status"] in ("done", "failed") and data
        ),
        90,
        "the re-plan to end",
    )
    assert stored["replanning"]["status"] == "done", stored["replanning"]
    day = stored["days"][1]
    ids = [stop["place_id"] for stop in day["stops"]]
    assert ahead[0] in ids
    assert ahead[1] not in ids
    assert day["replanned_from"]["time"] == start["time"]
    assert stored["replanning"]["changes"] == day["changes"]
    skipped = next(stop["name"] for stop in stops if stop["place_id"] == ahead[1])
    assert skipped in day["changes"]["dropped"]


def test_a_trip_whose_task_cannot_be_enqueued_fails_at_once(
    env: dict[str, str], worker_url: str, firestore_client: firestore.Client, stack: dict[str, str]
) -> None:
    """The queue does not exist: the stand-in refuses the task, the trip ends failed with a reason, nothing waits."""
    missing_queue = (
        f"projects/{stack['GOOGLE_CLOUD_PROJECT']}/locations/us-central1/queues/missing-{uuid.uuid4().hex[:6]}"
    )
    someone = sign_up(stack)
    with function_server(
        "plan_trip", MAIN, "http", env | {"PLANNING_QUEUE": missing_queue, "PLAN_WORKER_URL": worker_url}
    ) as url:
        response = post_async(url, someone)
    assert response.status_code >= 500, response.text
    (trip,) = trips_of(firestore_client, someone.uid)
    assert trip["status"] == "failed"
    assert trip["failure"]["code"]
    assert trip["progress"]["stage"] == "done"
    assert [session["status"] for session in sessions_of(firestore_client, trip["id"])] == ["failed"]
