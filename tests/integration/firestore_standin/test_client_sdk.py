"""The Firebase JS SDK (npm ``firebase``, under Node, as an app uses it) against the local stack: sign-in on the Auth
emulator, several listeners on one Firestore instance, reads after an unsubscribe, and a client write refused as
the project's rules refuse it. The scenario is ``client_sdk_scenario.mjs``; this test seeds data and makes the
server-side writes it asks for, with the real Python client."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import uuid
from pathlib import Path
from typing import Any

from google.cloud import firestore

from tests.integration.support import ROOT

SCENARIO = Path(__file__).with_name("client_sdk_scenario.mjs")


def trip(uid: str, title: str, status: str = "planning") -> dict[str, Any]:
    return {"user_id": uid, "title": title, "status": status, "shared_with_uids": []}


def run_scenario(stack: dict[str, str], project: str, client: firestore.Client) -> tuple[dict[str, Any], list[str]]:
    """Run the scenario, answering its requests for server-side writes; return its result and the steps it asked."""
    env = {
        **os.environ,
        "FIRESTORE_EMULATOR_HOST": stack["FIRESTORE_EMULATOR_HOST"],
        "FIREBASE_AUTH_EMULATOR_HOST": stack["FIREBASE_AUTH_EMULATOR_HOST"],
        "PROJECT": project,
        "UID_EMAIL": f"js-{uuid.uuid4().hex[:10]}@example.com",
    }
    process = subprocess.Popen(
        ["node", str(SCENARIO)], cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    killer = threading.Timer(120, process.kill)
    killer.start()
    trips = client.collection("trips")
    uid = ""
    asked: list[str] = []
    outcome: dict[str, Any] = {}
    try:
        assert process.stdout is not None
        assert process.stdin is not None
        for line in process.stdout:
            message = json.loads(line)
            if "uid" in message:
                uid = message["uid"]
                continue
            if "need" not in message:
                outcome = message
                break
            need = message["need"]
            asked.append(need)
            if need == "seed":
                trips.document("a1").set(trip(uid, "Kyoto"))
                trips.document("a2").set(trip(uid, "Rome", "ready"))
                trips.document("b1").set(trip("someone-else", "Paris"))
            elif need == "update-a1-add-a3-and-other-user":
                trips.document("a1").update({"status": "ready"})
                trips.document("a3").set(trip(uid, "Tokyo"))
                trips.document("b2").set(trip("someone-else", "Lima"))
            elif need == "unrelated-writes":
                batch = client.batch()
                for n in range(300):
                    batch.set(client.collection("maps_route_cache").document(f"js-{n}"), {"minutes": n})
                batch.commit()
                trips.document("b1").update({"status": "ready"})
                trips.document("a2").update({"marker": True})
            elif need == "delete-a3":
                trips.document("a3").delete()
            process.stdin.write("ok\n")
            process.stdin.flush()
        process.wait(timeout=30)
    finally:
        killer.cancel()
        if process.poll() is None:
            process.kill()
    stderr = process.stderr.read() if process.stderr else ""
    assert "error" not in outcome, f"{outcome['error']}\nresult so far: {outcome.get('result')}\n{stderr[-2000:]}"
    assert process.returncode == 0, stderr[-2000:]
    return dict(outcome["result"]), asked


def test_the_firebase_js_sdk_listens_reads_and_is_refused_writes(
    stack: dict[str, str], firestore_project: str, firestore_client: firestore.Client
) -> None:
    result, asked = run_scenario(stack, firestore_project, firestore_client)
    assert asked == ["seed", "update-a1-add-a3-and-other-user", "unrelated-writes", "delete-a3"]
    assert result["queryFirstIds"] == ["a1", "a2"], "the user's query sees their trips only"
    assert result["secondListenerStatus"] == "planning", "a second listener on the same instance gets a server snapshot"
    assert result["queryAfterUpdateIds"] == ["a1", "a2", "a3"]
    assert result["docListenerStatus"] == "ready"
    assert result["getDocAfterUnsubscribe"] == {"exists": True, "fromCache": False, "title": "Rome"}
    assert result["getDocsAfterUnsubscribe"] == ["a1", "a2", "a3"]
    assert result["newListenerAfterUnsubscribe"] == ["a2"]
    assert result["markerAfterUnrelatedWrites"] is True
    assert result["queryAfterDeleteIds"] == ["a1", "a2"]
    assert result["clientWrite"] == "permission-denied"
    assert not firestore_client.collection("trips").document("client-write").get().exists
