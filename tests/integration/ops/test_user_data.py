"""user_data through HTTP on the local stack: a user exports everything of theirs (inline, since the Storage emulator
cannot sign URLs), then deletes the account: their documents, their place in others' trips, their exports and their
Firebase Auth account go; other users' data stays. The function runs in the test process
(tests/integration/in_process.py); its own server is tested in tests/integration/test_served_functions.py."""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import Any
from unittest import mock

import pytest
import requests
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore, storage

from tests.integration.in_process import InProcessFunctions
from tests.integration.support import TestUser, module_env, sign_up

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _trip(owner: str, shared: dict[str, str] | None = None) -> dict[str, Any]:
    shared = shared or {}
    return {
        "user_id": owner,
        "status": "ready",
        "version": 3,
        "destination": {"name": "Kyoto"},
        "shared_with": shared,
        "shared_with_uids": sorted(shared),
        "created_at": NOW,
        "updated_at": NOW,
    }


@pytest.fixture(scope="module")
def people(stack: dict[str, str]) -> dict[str, TestUser]:
    return {"alice": sign_up(stack), "bob": sign_up(stack)}


@pytest.fixture(scope="module")
def seeded(people: dict[str, TestUser], firestore_client: firestore.Client) -> dict[str, str]:
    alice, bob = people["alice"].uid, people["bob"].uid
    batch = firestore_client.batch()
    batch.set(firestore_client.collection("users").document(alice), {"display_name": "Alice", "created_at": NOW})
    batch.set(firestore_client.collection("users").document(bob), {"display_name": "Bob"})
    for trip_id in ("a-trip-1", "a-trip-2"):
        batch.set(firestore_client.collection("trips").document(trip_id), _trip(alice))
    batch.set(firestore_client.collection("trips").document("b-trip"), _trip(bob, {alice: "editor", "carol": "viewer"}))
    batch.set(firestore_client.collection("trips").document("b-own"), _trip(bob))
    sessions = {
        "a-s1": {"user_id": alice, "trip_id": "a-trip-1", "status": "completed"},
        "a-s2": {"user_id": alice, "trip_id": "b-trip", "status": "completed"},
        "b-on-a": {"user_id": bob, "trip_id": "a-trip-2", "status": "completed"},
        "b-s1": {"user_id": bob, "trip_id": "b-own", "status": "completed"},
    }
    for session_id, data in sessions.items():
        batch.set(firestore_client.collection("ai_sessions").document(session_id), {**data, "created_at": NOW})
    batch.set(firestore_client.collection("quotas").document(alice), {"day_count": 2, "expire_at": NOW})
    batch.set(firestore_client.collection("quotas").document(bob), {"day_count": 1, "expire_at": NOW})
    batch.commit()
    return {"alice": alice, "bob": bob}


@pytest.fixture(scope="module")
def env(stack: dict[str, str], firestore_project: str) -> dict[str, str]:
    return module_env(stack, firestore_project) | {
        "BACKUP_BUCKET": stack["STACK_BUCKET"],
        "USER_EXPORT_PREFIX": f"it-user-exports/{firestore_project}",
    }


@pytest.fixture(scope="module")
def url(in_process: InProcessFunctions, env: dict[str, str], seeded: dict[str, str]) -> str:
    return in_process.serve("user_data", env)


@pytest.fixture(scope="module")
def gcs(stack: dict[str, str], env: dict[str, str]) -> storage.Client:
    with mock.patch.dict(os.environ, {"STORAGE_EMULATOR_HOST": stack["STORAGE_EMULATOR_HOST"]}):
        return storage.Client(project=env["GOOGLE_CLOUD_PROJECT"], credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]


def test_a_token_is_required(http: requests.Session, url: str) -> None:
    assert http.get(url, timeout=10).status_code == 401
    assert http.delete(url + "?confirm=true", headers={"Authorization": "Bearer a.b.c"}, timeout=10).status_code == 401


def test_the_export_holds_every_document_of_the_user_and_nothing_of_others(
    http: requests.Session, url: str, people: dict[str, TestUser], env: dict[str, str], gcs: storage.Client
) -> None:
    alice = people["alice"]
    response = http.get(url, headers=alice.headers, timeout=30)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["url"] is None  # the emulator cannot sign: the data comes inline
    data = answer["data"]
    assert data["uid"] == alice.uid
    assert data["profile"]["display_name"] == "Alice"
    assert data["profile"]["created_at"] == {"$timestamp": NOW.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    assert [trip["id"] for trip in data["trips"]] == ["a-trip-1", "a-trip-2"]
    assert [session["id"] for session in data["ai_sessions"]] == ["a-s1", "a-s2"]
    assert data["quota"]["day_count"] == 2
    assert data["shared_with_me"] == [{"trip_id": "b-trip", "role": "editor"}]
    assert "Bob" not in json.dumps(data)
    assert answer["counts"] == {"trips": 2, "ai_sessions": 2}
    bucket_name, _, object_name = answer["uri"].removeprefix("gs://").partition("/")
    assert object_name.startswith(f"{env['USER_EXPORT_PREFIX']}/{alice.uid}/")
    assert json.loads(gcs.bucket(bucket_name).blob(object_name).download_as_bytes()) == data


def test_deletion_needs_confirmation(
    http: requests.Session, url: str, people: dict[str, TestUser], firestore_client: firestore.Client
) -> None:
    response = http.delete(url, headers=people["alice"].headers, timeout=30)
    assert response.status_code == 400
    assert firestore_client.collection("users").document(people["alice"].uid).get().exists


def test_deleting_the_account_removes_all_of_it_and_only_it(
    http: requests.Session,
    url: str,
    people: dict[str, TestUser],
    firestore_client: firestore.Client,
    stack: dict[str, str],
    env: dict[str, str],
    gcs: storage.Client,
) -> None:
    alice, bob = people["alice"], people["bob"]
    http.get(url, headers=alice.headers, timeout=30).raise_for_status()  # a second export file
    response = http.delete(url + "?confirm=true", headers=alice.headers, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["deleted"] == {
        "share_links": 0,  # her links: tests/integration/trips/test_share_links.py
        "trips": 2,
        "ai_sessions": 3,  # her two, and Bob's session on her trip
        "shared_trips_left": 1,
        "quota": 1,
        "profile": 1,
        "exports": 2,
        "auth_account": 1,
    }

    def exists(collection: str, doc_id: str) -> bool:
        return bool(firestore_client.collection(collection).document(doc_id).get().exists)

    for collection, doc_id in (
        ("users", alice.uid),
        ("quotas", alice.uid),
        ("trips", "a-trip-1"),
        ("trips", "a-trip-2"),
        ("ai_sessions", "a-s1"),
        ("ai_sessions", "a-s2"),
        ("ai_sessions", "b-on-a"),
    ):
        assert not exists(collection, doc_id), (collection, doc_id)
    for collection, doc_id in (("users", bob.uid), ("quotas", bob.uid), ("trips", "b-own"), ("ai_sessions", "b-s1")):
        assert exists(collection, doc_id), (collection, doc_id)
    shared = firestore_client.collection("trips").document("b-trip").get().to_dict() or {}
    assert shared["shared_with"] == {"carol": "viewer"}
    assert shared["shared_with_uids"] == ["carol"]
    assert shared["user_id"] == bob.uid
    left = list(gcs.bucket(env["BACKUP_BUCKET"]).list_blobs(prefix=f"{env['USER_EXPORT_PREFIX']}/{alice.uid}/"))
    assert left == []
    lookup = requests.post(
        f"http://{stack['FIREBASE_AUTH_EMULATOR_HOST']}/identitytoolkit.googleapis.com/v1/accounts:lookup?key=local",
        json={"idToken": alice.id_token},
        timeout=10,
    )
    assert lookup.status_code == 400 or not lookup.json().get("users"), "the Auth account is gone"
    assert http.get(url, headers=alice.headers, timeout=30).status_code == 401
