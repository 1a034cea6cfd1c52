"""Helpers of the proof suites: request bodies, envelope checks, private stand-ins and function servers, log files."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import jsonschema
import requests
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from scripts.envfile import STACK_STATE_DIR
from tests.integration.support import ROOT, TestUser, wait_until_answers
from tests.integration.support import maps_standin as maps_standin  # re-exported: the proof suites start it here

MAIN = ROOT / "functions" / "main.py"
OPENAPI: dict[str, Any] = json.loads((ROOT / "openapi.json").read_text())
START = dt.date.today() + dt.timedelta(days=30)
CITIES = ("Kyoto", "Paris", "Rome", "Barcelona", "London", "Tokyo")


def schema_for(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}", "components": OPENAPI["components"]}


def trip_body(destination: str = "Kyoto", days: int = 1, start: dt.date = START, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "destination": destination,
        "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=days - 1)).isoformat(),
        "travelers": 2,
        "transport": "transit",
    }
    body.update(overrides)
    return body


def assert_envelope(response: requests.Response, status: int | None = None, code: str | None = None) -> dict[str, Any]:
    """The response is an error in the envelope (of ``status`` and ``code`` when given); its ``error`` object."""
    if status is not None:
        assert response.status_code == status, response.text[:2000]
    assert 400 <= response.status_code < 600, response.text[:2000]
    body = response.json()
    jsonschema.validate(body, schema_for("ErrorEnvelope"))
    if code is not None:
        assert body["error"]["code"] == code, body
    assert body["error"]["request_id"] == response.headers["X-Request-Id"]
    return dict(body["error"])


def trips_of(client: firestore.Client, uid: str) -> list[dict[str, Any]]:
    return [
        {"id": doc.id, **(doc.to_dict() or {})}
        for doc in client.collection("trips").where(filter=FieldFilter("user_id", "==", uid)).stream()
    ]


def sessions_of(client: firestore.Client, uid: str) -> list[dict[str, Any]]:
    return [
        doc.to_dict() or {}
        for doc in client.collection("ai_sessions").where(filter=FieldFilter("user_id", "==", uid)).stream()
    ]


def trip_id_in(error: dict[str, Any]) -> str | None:
    return next(
        (detail["trip_id"] for detail in error["details"] if isinstance(detail, dict) and "trip_id" in detail), None
    )


def log_file_of(url: str, target: str) -> Path:
    """The log file ``function_server`` writes for the server at ``url``."""
    port = url.rsplit(":", 1)[1].split("/", 1)[0]
    return STACK_STATE_DIR / f"test-fn-{target}-{port}.log"


def maps_admin(endpoint: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """GET (no body) or POST (a body) an admin path of a Maps stand-in."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{endpoint}/__admin/{path}", data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read() or b"{}"))


def start_firestore(port: int) -> subprocess.Popen[bytes]:
    """A private Firestore stand-in (``node scripts/firestore_launcher.js PORT``) in its own process group, answering;
    the caller stops it (``stop_process_group``), pauses it (SIGSTOP to the group) or kills it."""
    log = open(STACK_STATE_DIR / f"test-fs-{port}.log", "ab")  # noqa: SIM115 - the child keeps it open
    process = subprocess.Popen(
        ["node", str(ROOT / "scripts" / "firestore_launcher.js"), str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    wait_until_answers(port, process)
    return process


def wait_for(check: Any, timeout_s: float = 20.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def auth_headers(user: TestUser) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.id_token}", "Content-Type": "application/json"}
