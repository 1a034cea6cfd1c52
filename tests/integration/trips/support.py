"""Helpers of the trips integration tests: plan a trip over HTTP, poll the trip, post Firestore CloudEvents (``http``:
a session that reaches in-process functions, tests/integration/in_process.py, and servers)."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import requests
from google.cloud import firestore

from common.foundation.firestore_events import EVENT_TYPE_WRITTEN, build_document, build_event_data
from tests.integration.in_process import InProcessFunctions
from tests.integration.support import ROOT, TestUser, module_env

MAIN = ROOT / "functions" / "main.py"
OPENAPI = json.loads((ROOT / "openapi.json").read_text())
START = dt.date.today() + dt.timedelta(days=40)


def plan_edit_enrich_servers(in_process: InProcessFunctions, stack: dict[str, str], project: str) -> dict[str, str]:
    """plan_trip, trips (at its ``/trips`` path) and enrich_places served in process in ``project``, with quotas out of
    a module's way and events up to ten minutes old enriched."""
    env = module_env(stack, project) | {
        "PLAN_RATE_PER_MINUTE": "60",
        "PLAN_RATE_PER_DAY": "200",
        "ENRICH_MAX_EVENT_AGE_SECONDS": "600",
    }
    return {
        "plan": in_process.serve("plan_trip", env),
        "trips": in_process.serve("trips", env) + "/trips",
        "enrich": in_process.serve("enrich_places", env, signature="cloudevent"),
    }


def schema_for(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}", "components": OPENAPI["components"]}


def plan(
    http: requests.Session, plan_url: str, user: TestUser, days: int = 2, destination: str = "Kyoto"
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "destination": destination,
        "start_date": START.isoformat(),
        "end_date": (START + dt.timedelta(days=days - 1)).isoformat(),
        "travelers": 2,
        "transport": "transit",
    }
    response = http.post(plan_url, json=body, headers=user.headers, timeout=120)
    assert response.status_code == 201, response.text
    return dict(response.json())


def wait_for(check: Callable[[], Any], timeout_s: float = 20.0, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def stored(client: firestore.Client, trip_id: str) -> tuple[dict[str, Any], dt.datetime]:
    snapshot = client.collection("trips").document(trip_id).get()
    return snapshot.to_dict() or {}, snapshot.update_time


def post_event(
    http: requests.Session,
    url: str,
    project: str,
    trip_id: str,
    old: tuple[dict[str, Any], dt.datetime] | None,
    new: tuple[dict[str, Any], dt.datetime] | None,
    *,
    event_id: str | None = None,
    event_time: dt.datetime | None = None,
    as_json: bool = False,
) -> requests.Response:
    """Deliver a ``document.v1.written`` CloudEvent for ``trips/{trip_id}`` the way Eventarc (or the relay) does."""
    name = f"projects/{project}/databases/(default)/documents/trips/{trip_id}"
    documents = [None if item is None else build_document(name, item[0], item[1], item[1]) for item in (old, new)]
    event = build_event_data(documents[0], documents[1])
    body = type(event).to_json(event).encode() if as_json else type(event).serialize(event)
    when = event_time or (new[1] if new else dt.datetime.now(dt.UTC))
    headers = {
        "Content-Type": "application/json" if as_json else "application/protobuf",
        "ce-specversion": "1.0",
        "ce-id": event_id or uuid.uuid4().hex,
        "ce-type": EVENT_TYPE_WRITTEN,
        "ce-source": f"//firestore.googleapis.com/projects/{project}/databases/(default)",
        "ce-subject": f"documents/trips/{trip_id}",
        "ce-time": when.isoformat().replace("+00:00", "Z"),
    }
    return http.post(url, data=body, headers=headers, timeout=60)
