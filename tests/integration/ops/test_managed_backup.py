"""Managed exports, with an in-process fake of FirestoreAdminClient (no stand-in of the admin API exists) and the
real Firestore stand-in for the ``backups/{tick}`` record: one export per tick, its operation recorded, never
waited for, and a failed start released so the scheduler's retry can start it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import firestore

from common.foundation.config import Settings, load_settings
from common.foundation.errors import UpstreamError, UpstreamUnavailable
from common.services.ops.backup import start_managed_export
from common.services.ops.jobs import backup_job

NOW = dt.datetime(2026, 4, 5, 3, 0, 27, tzinfo=dt.UTC)


@dataclass
class _Operation:
    name: str


@dataclass
class _Future:
    operation: _Operation


class FakeAdmin:
    """Records export requests; answers with an operation, or raises the queued errors first."""

    def __init__(self, *errors: Exception) -> None:
        self.requests: list[dict[str, Any]] = []
        self.errors = list(errors)

    def export_documents(self, request: dict[str, Any]) -> _Future:
        self.requests.append(request)
        if self.errors:
            raise self.errors.pop(0)
        return _Future(_Operation(f"{request['name']}/operations/op-{len(self.requests)}"))


@pytest.fixture
def settings(firestore_project: str) -> Settings:
    return load_settings(
        google_cloud_project=firestore_project,
        backup_mode="managed",
        backup_bucket="ops-backups",
        backup_prefix="daily",
    )


def _record(client: firestore.Client, key: str) -> dict[str, Any] | None:
    snapshot = client.collection("backups").document(key).get()
    return snapshot.to_dict() if snapshot.exists else None


def test_one_export_per_tick_with_its_operation_recorded(
    settings: Settings, firestore_client: firestore.Client
) -> None:
    tick = dt.datetime(2026, 4, 5, 3, 0, tzinfo=dt.UTC)
    admin = FakeAdmin()
    first = start_managed_export(firestore_client, admin, settings, tick, NOW)
    second = start_managed_export(firestore_client, admin, settings, tick, NOW + dt.timedelta(seconds=5))
    assert len(admin.requests) == 1
    request = admin.requests[0]
    assert request["name"] == f"projects/{settings.google_cloud_project}/databases/(default)"
    assert request["output_uri_prefix"] == "gs://ops-backups/daily/2026-04-05T03:00:00Z"
    assert request["collection_ids"] == ["trips", "ai_sessions", "users", "share_links"]
    assert request["snapshot_time"] == dt.datetime(2026, 4, 5, 3, 0, tzinfo=dt.UTC)
    assert first["started"] is True
    assert first["operation"].endswith("/operations/op-1")
    assert second == {**first, "started": False}
    record = _record(firestore_client, "2026-04-05T03:00:00Z")
    assert record is not None
    assert record["status"] == "started"
    assert record["operation"] == first["operation"]


def test_a_transient_failure_releases_the_tick_for_the_retry(
    settings: Settings, firestore_client: firestore.Client
) -> None:
    tick = dt.datetime(2026, 4, 6, 3, 0, tzinfo=dt.UTC)
    admin = FakeAdmin(exceptions.ServiceUnavailable("try later"))  # type: ignore[no-untyped-call]
    with pytest.raises(UpstreamUnavailable):
        start_managed_export(firestore_client, admin, settings, tick, NOW)
    assert _record(firestore_client, "2026-04-06T03:00:00Z") is None
    retried = start_managed_export(firestore_client, admin, settings, tick, NOW)
    assert retried["started"] is True
    assert len(admin.requests) == 2


def test_a_refusal_is_permanent_and_also_releases(settings: Settings, firestore_client: firestore.Client) -> None:
    tick = dt.datetime(2026, 4, 7, 3, 0, tzinfo=dt.UTC)
    admin = FakeAdmin(exceptions.PermissionDenied("no bucket access"))  # type: ignore[no-untyped-call]
    with pytest.raises(UpstreamError):
        start_managed_export(firestore_client, admin, settings, tick, NOW)
    assert _record(firestore_client, "2026-04-07T03:00:00Z") is None


def test_the_job_chooses_the_managed_mode_from_settings(settings: Settings, firestore_client: firestore.Client) -> None:
    bypass = load_settings(**{**settings.model_dump(), "scheduler_auth_bypass": True})
    admin = FakeAdmin()

    def no_storage() -> Any:
        raise AssertionError("a managed export writes nothing itself")

    result = backup_job(None, "2026-04-08T03:00:00Z", bypass, firestore_client, no_storage, lambda: admin, NOW)
    assert result["mode"] == "managed"
    assert result["started"] is True
    assert len(admin.requests) == 1
