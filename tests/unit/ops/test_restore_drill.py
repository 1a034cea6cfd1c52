"""The pieces of the restore drill that need no server: per-document checksums and their comparison, and the
managed (PITR) path, which is only ever built and printed here (it needs a real project)."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.machinery
import importlib.util
import shlex
import sys
from pathlib import Path
from types import ModuleType

import pytest

from common.foundation.errors import InvalidRequest
from common.services.ops.backup import export_line
from common.services.ops.restore import (
    compare_checksums,
    file_checksums,
    pitr_restore_commands,
    pitr_snapshot_time,
)

ROOT = Path(__file__).resolve().parents[3]
NOW = dt.datetime(2026, 12, 4, 21, 30, 17, tzinfo=dt.UTC)
AT = dt.datetime(2026, 12, 4, 20, 15, tzinfo=dt.UTC)


def _load_drill() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("restore_drill", str(ROOT / "scripts" / "restore-drill"))
    spec = importlib.util.spec_from_loader("restore_drill", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["restore_drill"] = module
    loader.exec_module(module)
    return module


def test_a_file_checksum_is_the_digest_of_the_document_line() -> None:
    lines = [export_line("a", {"x": 1, "at": NOW}), export_line("b", {"y": [1, "two"]})]
    checksums = file_checksums(b"".join(lines))
    assert checksums == {"a": hashlib.sha256(lines[0]).hexdigest(), "b": hashlib.sha256(lines[1]).hexdigest()}
    assert export_line("a", {"at": NOW, "x": 1}) == lines[0], "canonical: key order does not matter"


def test_compare_checksums_names_missing_unexpected_and_changed_documents() -> None:
    expected = {"a": "1", "b": "2", "c": "3"}
    assert compare_checksums(expected, dict(expected)) == []
    problems = compare_checksums(expected, {"a": "1", "b": "changed", "d": "4"}, "trips")
    assert problems == [
        "trips: missing: c",
        "trips: unexpected: d",
        "trips: checksum differs: b",
    ]
    counted = compare_checksums(expected, {"a": "1"})
    assert counted[0] == "3 documents expected, 1 found"


def test_pitr_snapshot_times_are_whole_minutes_inside_the_window() -> None:
    assert pitr_snapshot_time("2026-12-04T20:15:00Z", NOW) == AT
    assert pitr_snapshot_time("2026-12-04T21:15:00+01:00", NOW) == AT
    for text in (
        "2026-12-04T20:15:30Z",  # not a whole minute
        "2026-12-04T20:15:00",  # no time zone
        "2026-12-04T22:00:00Z",  # in the future
        "2026-11-27T20:00:00Z",  # more than 7 days ago
        "yesterday",
    ):
        with pytest.raises(InvalidRequest):
            pitr_snapshot_time(text, NOW)


def test_the_clone_command_restores_the_minute_into_a_scratch_database() -> None:
    commands = pitr_restore_commands(
        project="prod-1", source_database="(default)", scratch_database="restore-drill", snapshot_time=AT
    )
    assert commands == [
        [
            "gcloud",
            "firestore",
            "databases",
            "clone",
            "--source-database=projects/prod-1/databases/(default)",
            "--snapshot-time=2026-12-04T20:15:00Z",
            "--destination-database=restore-drill",
            "--project=prod-1",
        ]
    ]


def test_the_export_method_exports_at_the_snapshot_time_then_imports_into_a_new_database() -> None:
    export, create, imported = pitr_restore_commands(
        project="prod-1",
        source_database="(default)",
        scratch_database="restore-drill",
        snapshot_time=AT,
        method="export",
        bucket="gs://prod-1-firestore-backups/",
        location="nam5",
        collections=["trips", "users"],
    )
    uri = "gs://prod-1-firestore-backups/pitr-restores/(default)/2026-12-04T20:15:00Z"
    assert export[:4] == ["gcloud", "firestore", "export", uri]
    assert "--snapshot-time=2026-12-04T20:15:00Z" in export
    assert "--collection-ids=trips,users" in export
    assert "--database=(default)" in export
    assert create[:4] == ["gcloud", "firestore", "databases", "create"]
    assert "--database=restore-drill" in create
    assert "--location=nam5" in create
    assert imported[:4] == ["gcloud", "firestore", "import", uri + "/"]
    assert "--database=restore-drill" in imported
    assert "--collection-ids=trips,users" in imported


def test_the_backup_method_restores_a_scheduled_backup() -> None:
    (command,) = pitr_restore_commands(
        project="p",
        source_database="(default)",
        scratch_database="restore-drill",
        snapshot_time=AT,
        method="backup",
        backup="projects/p/locations/nam5/backups/b1",
    )
    assert command[:4] == ["gcloud", "firestore", "databases", "restore"]
    assert "--source-backup=projects/p/locations/nam5/backups/b1" in command
    with pytest.raises(InvalidRequest):
        pitr_restore_commands(
            project="p",
            source_database="(default)",
            scratch_database="restore-drill",
            snapshot_time=AT,
            method="backup",
        )


@pytest.mark.parametrize("scratch", ["(default)", "db", "Restore", "restore-", "1restore", "a" * 64, "prod"])
def test_a_restore_never_targets_the_source_or_an_invalid_database_id(scratch: str) -> None:
    with pytest.raises(InvalidRequest):
        pitr_restore_commands(project="p", source_database="prod", scratch_database=scratch, snapshot_time=AT)


def test_the_export_method_needs_a_bucket_and_a_location() -> None:
    with pytest.raises(InvalidRequest):
        pitr_restore_commands(
            project="p",
            source_database="(default)",
            scratch_database="restore-drill",
            snapshot_time=AT,
            method="export",
        )


def test_the_drill_prints_the_managed_commands_and_runs_nothing_without_run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    drill = _load_drill()
    ran: list[object] = []
    monkeypatch.setattr(drill.subprocess, "run", lambda *args, **kwargs: ran.append(args))
    at = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).replace(second=0, microsecond=0)
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert drill.main(["pitr", "--project=prod-1", f"--at={stamp}"]) == 0
    assert ran == []
    lines = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("#")]
    clone, verify = (shlex.split(line) for line in lines)
    assert clone[:4] == ["gcloud", "firestore", "databases", "clone"]
    assert f"--snapshot-time={stamp}" in clone
    assert verify[:3] == [".venv/bin/python", "scripts/restore-drill", "verify"]
    assert "--target-database=restore-drill" in verify
    assert f"--at={stamp}" in verify
    assert "--collections=trips,ai_sessions,users" in verify


def test_the_drill_refuses_a_time_outside_the_pitr_window(capsys: pytest.CaptureFixture[str]) -> None:
    drill = _load_drill()
    assert drill.main(["pitr", "--project=prod-1", "--at=2020-01-01T00:00:00Z"]) == 2
    assert "7-day PITR window" in capsys.readouterr().err
