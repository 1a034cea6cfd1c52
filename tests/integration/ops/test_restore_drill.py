"""The logical restore drill (``scripts/restore-drill logical``) end to end on the local stack, in this module's own
project: trips planned through plan_trip, exported by backup_export, restored by ``scripts/restore`` into a scratch
project, compared document by document. And the drill fails when the export was tampered with: a changed file is
refused by the restore; a changed file with a manifest rewritten to match restores, and the checksum comparison with
the source catches the changed document."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from google.cloud import firestore

from tests.integration.support import ROOT, function_server, module_env

MAIN = ROOT / "functions" / "main.py"
DRILL = ROOT / "scripts" / "restore-drill"


@pytest.fixture(scope="module")
def env(stack: dict[str, str], firestore_project: str) -> dict[str, str]:
    return module_env(stack, firestore_project) | {
        "SCHEDULER_AUTH_BYPASS": "true",
        "BACKUP_MODE": "logical",
        "BACKUP_BUCKET": stack["STACK_BUCKET"],
        "BACKUP_PREFIX": f"it-drills/{firestore_project}",
        "BACKUP_COLLECTIONS": "trips,ai_sessions,users",
    }


@pytest.fixture(scope="module")
def urls(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """plan_trip and backup_export served on this module's project."""
    with (
        function_server("plan_trip", MAIN, "http", env) as plan_url,
        function_server("backup_export", MAIN, "http", env) as backup_url,
    ):
        yield {"PLAN_TRIP_URL": plan_url, "BACKUP_EXPORT_URL": backup_url}


def _drill(env: dict[str, str], urls: dict[str, str], *args: str) -> tuple[int, dict[str, Any], str]:
    result = subprocess.run(
        [sys.executable, str(DRILL), "logical", f"--source-project={env['GOOGLE_CLOUD_PROJECT']}", *args],
        env={**os.environ, **env, **urls},
        capture_output=True,
        text=True,
        timeout=600,
    )
    report: dict[str, Any] = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.returncode, report, result.stderr


@pytest.fixture(scope="module")
def passed(env: dict[str, str], urls: dict[str, str]) -> dict[str, Any]:
    code, report, stderr = _drill(env, urls, "--trips=2", "--copies=4")
    assert code == 0, stderr
    return report


def test_the_drill_restores_every_document_with_the_same_checksum(
    passed: dict[str, Any], firestore_project: str, firestore_client: firestore.Client
) -> None:
    assert passed["ok"] is True
    assert passed["problems"] == []
    assert passed["trips_seeded"] == 10
    assert passed["counts"]["trips"] == {"source": 10, "restored": 10, "exported": 10}
    assert passed["counts"]["ai_sessions"]["restored"] == passed["counts"]["ai_sessions"]["source"] >= 2
    assert set(passed["seconds"]) >= {"export", "restore", "verify", "export_restore_verify"}
    scratch = passed["scratch_project"]
    assert scratch != firestore_project
    restored = {doc.id: doc.to_dict() for doc in firestore.Client(project=scratch).collection("trips").stream()}
    original = {doc.id: doc.to_dict() for doc in firestore_client.collection("trips").stream()}
    assert restored == original, "the scratch project holds exactly the source's trips"


def test_a_tampered_export_file_is_refused_and_the_drill_fails(
    passed: dict[str, Any], env: dict[str, str], urls: dict[str, str]
) -> None:
    code, report, stderr = _drill(env, urls, "--trips=0", "--tamper=file")
    assert code == 1
    assert report["ok"] is False
    assert "scripts/restore failed" in report["problems"][0]
    assert "SHA-256 differs from the manifest" in report["problems"][0]
    assert report["counts"]["trips"]["restored"] == 0, "nothing is written from an export that fails its check"
    assert "DRILL FAILED" in stderr


def test_a_tampered_document_with_a_matching_manifest_is_caught_by_the_checksums(
    passed: dict[str, Any], env: dict[str, str], urls: dict[str, str]
) -> None:
    code, report, _ = _drill(env, urls, "--trips=0", "--tamper=file-and-manifest")
    assert code == 1
    assert not any("scripts/restore failed" in problem for problem in report["problems"]), "the restore went through"
    assert report["counts"]["trips"]["restored"] == report["counts"]["trips"]["source"] == 10
    changed = [problem for problem in report["problems"] if "checksum differs" in problem]
    assert len(changed) == 2, report["problems"]  # against the export file and against the source
    assert all(problem.startswith("trips (restored vs") for problem in changed)
