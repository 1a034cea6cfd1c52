"""Logical backup and restore end to end on the local stack: backup_export (HTTP) writes NDJSON files and a manifest
to the Cloud Storage emulator, the collections are wiped, ``scripts/restore`` puts them back, and every document is
compared with what was there: nothing lost, nothing changed. A corrupted file stops the restore before any write.
backup_export runs in the test process (tests/integration/in_process.py); its own server is tested in
tests/integration/test_served_functions.py."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import subprocess
import sys
from typing import Any
from unittest import mock

import pytest
import requests
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore, storage

from tests.integration.in_process import InProcessFunctions
from tests.integration.support import ROOT, module_env

TICK = "2026-02-03T04:00:00Z"
COUNTS = {"trips": 230, "ai_sessions": 40, "users": 25, "quotas": 12, "places_cache": 30}
COLLECTIONS = list(COUNTS)


def _document(collection: str, index: int, client: firestore.Client) -> dict[str, Any]:
    stamp = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=index, microseconds=index * 7 + 1)
    return {
        "index": index,
        "name": f"{collection} №{index} — Kyōto",
        "ratio": index / 7,
        "whole": float(index),
        "big": 2**53 - 1 - index,  # the stand-in refuses integers beyond 2**53 - 1 (real Firestore: int64)
        "flag": index % 2 == 0,
        "missing": None,
        "at": stamp,
        "blob": bytes(range(index % 256)) + b"\x00",
        "where": firestore.GeoPoint(35.0 + index / 1000, 135.0 - index / 1000),
        "ref": client.collection("trips").document(f"t{index:04d}"),
        "limit": math.inf if index % 3 == 0 else -math.inf,
        "nested": {"list": [1, "two", {"three": stamp}], "$dollar": {"$bytes": "not bytes"}, "empty": {}},
        "tags": [],
    }


def _snapshot(client: firestore.Client) -> dict[str, dict[str, dict[str, Any]]]:
    return {
        name: {snapshot.id: snapshot.to_dict() or {} for snapshot in client.collection(name).stream()}
        for name in COLLECTIONS
    }


def _wipe(client: firestore.Client) -> None:
    """Batched deletes by explicit queries (the stand-in has no recursive_delete or list_documents)."""
    for name in COLLECTIONS:
        while True:
            snapshots = list(client.collection(name).limit(200).stream())
            if not snapshots:
                break
            batch = client.batch()
            for snapshot in snapshots:
                batch.delete(snapshot.reference)
            batch.commit()


@pytest.fixture(scope="module")
def originals(firestore_client: firestore.Client) -> dict[str, dict[str, dict[str, Any]]]:
    for name, count in COUNTS.items():
        for start in range(0, count, 200):
            batch = firestore_client.batch()
            for index in range(start, min(count, start + 200)):
                batch.set(
                    firestore_client.collection(name).document(f"d{index:04d}"),
                    _document(name, index, firestore_client),
                )
            batch.commit()
    return _snapshot(firestore_client)


@pytest.fixture(scope="module")
def env(stack: dict[str, str], firestore_project: str) -> dict[str, str]:
    return module_env(stack, firestore_project) | {
        "SCHEDULER_AUTH_BYPASS": "true",
        "BACKUP_MODE": "logical",
        "BACKUP_BUCKET": stack["STACK_BUCKET"],
        "BACKUP_PREFIX": f"it-backups/{firestore_project}",
        "BACKUP_COLLECTIONS": ",".join(COLLECTIONS),
    }


@pytest.fixture(scope="module")
def backup_url(in_process: InProcessFunctions, env: dict[str, str]) -> str:
    return in_process.serve("backup_export", env)


@pytest.fixture(scope="module")
def gcs(stack: dict[str, str], env: dict[str, str]) -> storage.Client:
    with mock.patch.dict(os.environ, {"STORAGE_EMULATOR_HOST": stack["STORAGE_EMULATOR_HOST"]}):
        return storage.Client(project=env["GOOGLE_CLOUD_PROJECT"], credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]


@pytest.fixture(scope="module")
def export(http: requests.Session, backup_url: str, originals: dict[str, Any]) -> dict[str, Any]:
    response = http.post(backup_url, headers={"X-CloudScheduler-ScheduleTime": TICK}, timeout=120)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _restore(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "restore"), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_export_counts_every_document(export: dict[str, Any], env: dict[str, str]) -> None:
    assert export["started"] is True
    assert export["status"] == "done"
    assert export["counts"] == COUNTS
    assert export["output_uri"] == f"gs://{env['BACKUP_BUCKET']}/{env['BACKUP_PREFIX']}/{TICK}/"


def test_the_manifest_checksums_match_the_files(
    export: dict[str, Any], env: dict[str, str], gcs: storage.Client
) -> None:
    bucket = gcs.bucket(env["BACKUP_BUCKET"])
    folder = f"{env['BACKUP_PREFIX']}/{TICK}"
    manifest = json.loads(bucket.blob(f"{folder}/manifest.json").download_as_bytes())
    assert manifest["schedule_time"].startswith("2026-02-03T04:00:00")
    assert manifest["project"] == env["GOOGLE_CLOUD_PROJECT"]
    for name, count in COUNTS.items():
        entry = manifest["collections"][name]
        data = bucket.blob(f"{folder}/{entry['file']}").download_as_bytes()
        assert entry["documents"] == count == len(data.splitlines())
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        first = json.loads(data.splitlines()[0])
        assert set(first) == {"id", "data"}


def test_the_same_tick_starts_no_second_export(export: dict[str, Any], http: requests.Session, backup_url: str) -> None:
    response = http.post(backup_url, headers={"X-CloudScheduler-ScheduleTime": TICK}, timeout=60)
    assert response.status_code == 200
    assert response.json()["started"] is False
    assert response.json()["status"] == "done"


def test_wipe_and_restore_gives_back_every_document_unchanged(
    export: dict[str, Any],
    originals: dict[str, dict[str, dict[str, Any]]],
    firestore_client: firestore.Client,
    env: dict[str, str],
) -> None:
    _wipe(firestore_client)
    assert all(not documents for documents in _snapshot(firestore_client).values())
    result = _restore(env, "logical", export["output_uri"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["restored"] == COUNTS
    restored = _snapshot(firestore_client)
    for name in COLLECTIONS:
        assert restored[name].keys() == originals[name].keys(), name
        for doc_id, data in originals[name].items():
            assert restored[name][doc_id] == data, (name, doc_id)
    sample = restored["trips"]["d0007"]
    assert sample["at"].microsecond == originals["trips"]["d0007"]["at"].microsecond
    assert isinstance(sample["blob"], bytes)
    assert isinstance(sample["where"], firestore.GeoPoint)
    assert sample["ref"].path == "trips/t0007"


def test_a_corrupted_file_stops_the_restore_before_any_write(
    export: dict[str, Any], firestore_client: firestore.Client, env: dict[str, str], gcs: storage.Client
) -> None:
    bucket = gcs.bucket(env["BACKUP_BUCKET"])
    blob = bucket.blob(f"{env['BACKUP_PREFIX']}/{TICK}/users.ndjson")
    original = blob.download_as_bytes()
    blob.upload_from_string(original.replace(b"Ky", b"Kx", 1), content_type="application/x-ndjson")
    try:
        verify = _restore(env, "logical", export["output_uri"], "--verify-only")
        assert verify.returncode == 1
        assert "SHA-256" in verify.stderr
        _wipe(firestore_client)
        failed = _restore(env, "logical", export["output_uri"])
        assert failed.returncode == 1
        assert all(not documents for documents in _snapshot(firestore_client).values()), "nothing was written"
    finally:
        blob.upload_from_string(original, content_type="application/x-ndjson")
    assert _restore(env, "logical", export["output_uri"], "--collections", "users").returncode == 0
    assert len(list(firestore_client.collection("users").stream())) == COUNTS["users"]


def test_a_managed_export_restores_with_gcloud(env: dict[str, str]) -> None:
    result = _restore(env, "managed", "gs://backups/daily/2026-02-03T04:00:00Z", "--collections", "trips,users")
    assert result.returncode == 0
    assert result.stdout.strip() == (
        "gcloud firestore import gs://backups/daily/2026-02-03T04:00:00Z/ "
        f"--project={env['GOOGLE_CLOUD_PROJECT']} '--database=(default)' --collection-ids=trips,users"
    )
