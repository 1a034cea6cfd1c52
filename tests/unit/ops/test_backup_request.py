"""The managed export request and the export target, from settings (pure logic; the call itself is tested with a fake
admin client against the Firestore stand-in in tests/integration/ops/test_managed_backup.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from common.foundation.config import load_settings
from common.foundation.errors import ConfigError
from common.services.ops.backup import BackupTarget, export_request

TICK = dt.datetime(2026, 5, 6, 3, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 5, 6, 3, 0, 41, 5000, tzinfo=dt.UTC)


def test_the_request_names_the_database_the_folder_and_the_collections() -> None:
    settings = load_settings(
        google_cloud_project="p1", backup_bucket="gs://b1/", backup_prefix="/daily/", backup_collections="trips,users"
    )
    target = BackupTarget.from_settings(settings, TICK)
    request = export_request(settings, target, NOW)
    assert request == {
        "name": "projects/p1/databases/(default)",
        "output_uri_prefix": "gs://b1/daily/2026-05-06T03:00:00Z",
        "collection_ids": ["trips", "users"],
        "snapshot_time": dt.datetime(2026, 5, 6, 3, 0, tzinfo=dt.UTC),
    }


def test_without_snapshot_no_snapshot_time_is_sent() -> None:
    settings = load_settings(backup_bucket="b", backup_snapshot=False)
    assert "snapshot_time" not in export_request(settings, BackupTarget.from_settings(settings, TICK), NOW)


def test_the_default_collections_are_trips_sessions_users_and_share_links() -> None:
    settings = load_settings(backup_bucket="b")
    assert BackupTarget.from_settings(settings, TICK).collections == ("trips", "ai_sessions", "users", "share_links")


def test_a_bucket_and_valid_collection_ids_are_required() -> None:
    with pytest.raises(ConfigError, match="BACKUP_BUCKET"):
        BackupTarget.from_settings(load_settings(), TICK)
    with pytest.raises(ConfigError, match="BACKUP_COLLECTIONS"):
        BackupTarget.from_settings(load_settings(backup_bucket="b", backup_collections='["trips/x"]'), TICK)
