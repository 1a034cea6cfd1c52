"""The trigger relay delivers Firestore writes to a CloudEvent function as Eventarc does: protobuf
DocumentEventData with old_value, one delivery per create, update and delete."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.cloud import firestore

from tests.integration.support import ROOT, background_server, free_port, function_server, http_get_ok

TARGET_SOURCE = Path(__file__).parent / "relay_target" / "main.py"


@pytest.fixture(scope="module")
def relay_to_recorder(stack: dict[str, str], firestore_project: str) -> Iterator[None]:
    env = {**stack, "GOOGLE_CLOUD_PROJECT": firestore_project, "GCLOUD_PROJECT": firestore_project}
    with function_server("record_delivery", TARGET_SOURCE, "cloudevent", env) as target_url:
        health_port = free_port()
        command = [
            sys.executable,
            "-m",
            "scripts.relay",
            "--collection",
            "trips",
            "--target",
            target_url,
            "--project",
            firestore_project,
            "--health-port",
            str(health_port),
        ]
        with background_server(command, health_port, {**env, "PYTHONPATH": str(ROOT)}, "relay"):
            deadline = time.monotonic() + 20
            while not http_get_ok(f"http://127.0.0.1:{health_port}/") and time.monotonic() < deadline:
                time.sleep(0.1)
            yield


def _deliveries(client: firestore.Client, count: int, timeout_s: float = 20.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while True:
        found = [doc.to_dict() or {} for doc in client.collection("relay_received").stream()]
        if len(found) >= count or time.monotonic() > deadline:
            return sorted(found, key=lambda item: item["received_at"])
        time.sleep(0.1)


def test_create_update_delete_arrive_as_protobuf_cloudevents(
    relay_to_recorder: None, firestore_client: firestore.Client
) -> None:
    trip = firestore_client.collection("trips").document("relay-trip")
    trip.set({"title": "Kyoto", "days": [{"date": "2027-04-02", "stops": []}], "version": 1})
    assert len(_deliveries(firestore_client, 1)) == 1
    trip.update({"title": "Kyoto in spring", "version": 2})
    assert len(_deliveries(firestore_client, 2)) == 2
    trip.delete()
    deliveries = _deliveries(firestore_client, 3)
    time.sleep(0.5)
    assert len(_deliveries(firestore_client, 3, timeout_s=0)) == 3, "exactly one delivery per write"

    created, updated, deleted = deliveries
    for delivery in deliveries:
        assert delivery["type"] == "google.cloud.firestore.document.v1.written"
        assert delivery["subject"] == "documents/trips/relay-trip"
        assert delivery["document"].endswith("/documents/trips/relay-trip")

    assert created["old"] is None
    assert created["new"] == {"title": "Kyoto", "days": [{"date": "2027-04-02", "stops": []}], "version": 1}
    assert updated["old"]["title"] == "Kyoto"
    assert updated["new"]["title"] == "Kyoto in spring"
    assert updated["new"]["version"] == 2
    assert deleted["is_delete"] is True
    assert deleted["old"]["title"] == "Kyoto in spring"
    assert deleted["new"] is None
