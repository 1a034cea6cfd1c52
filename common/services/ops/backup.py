"""The ``backup_export`` job: a Firestore export per scheduler tick, started at most once per tick.

Two modes (``BACKUP_MODE``):

- ``managed``: Firestore's own export (``FirestoreAdminClient.export_documents``) of ``BACKUP_COLLECTIONS`` to
  ``gs://BACKUP_BUCKET/BACKUP_PREFIX/<tick>/``, at a consistent ``snapshot_time`` (this minute) when
  ``BACKUP_SNAPSHOT`` is on. The call returns a long-running operation; we record its name and do not wait. Restore
  with ``gcloud firestore import`` (``scripts/restore managed`` prints the command). No stand-in exists for the admin
  API, so this mode runs only against Google.
- ``logical`` (the default; runs on the local stack too): streams each collection to
  ``gs://BACKUP_BUCKET/BACKUP_PREFIX/<tick>/<collection>.ndjson``, one ``{"id", "data"}`` line per document, values
  encoded losslessly (``common.services.ops.codec``), then writes ``manifest.json`` (document counts, byte sizes and
  SHA-256 of every file, the tick, the source project and database). The manifest is written last: its presence means
  the export is complete. Top-level collections only (this backend keeps no subcollections). With ``BACKUP_SNAPSHOT``
  every collection is read at the same ``read_time`` (real Firestore allows that within an hour; not used against
  the stand-in, which ignores it).

Either way ``backups/{tick}`` is created with ``create()`` first, so a second delivery of the same tick finds it and
starts nothing; a start that fails deletes it again so the scheduler's retry can try once more.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from common.foundation.collection_names import BACKUPS
from common.foundation.config import Settings
from common.foundation.errors import ConfigError, UpstreamError, UpstreamUnavailable
from common.foundation.log import get_logger
from common.services.ops.codec import encode_document
from common.services.ops.runs import schedule_key

if TYPE_CHECKING:
    import google.cloud.storage as storage
    from google.cloud import firestore

logger = get_logger(__name__)

EXPORT_FORMAT = "trip-planner-logical-export/1"
MANIFEST = "manifest.json"
_COLLECTION_ID = r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$"


class ExportOperation(Protocol):
    @property
    def operation(self) -> Any: ...


class AdminClient(Protocol):
    """What we use of ``google.cloud.firestore_admin_v1.FirestoreAdminClient``."""

    def export_documents(self, request: dict[str, Any]) -> ExportOperation: ...


@dataclass(frozen=True)
class BackupTarget:
    """Where the export of one tick goes."""

    bucket: str
    prefix: str
    collections: tuple[str, ...]
    schedule_time: dt.datetime

    @classmethod
    def from_settings(cls, settings: Settings, schedule_time: dt.datetime) -> BackupTarget:
        import re

        if not settings.backup_bucket:
            raise ConfigError("BACKUP_BUCKET must name the Cloud Storage bucket for backups")
        bad = [name for name in settings.backup_collections if not re.match(_COLLECTION_ID, name)]
        if bad or not settings.backup_collections:
            raise ConfigError("BACKUP_COLLECTIONS must list collection ids", details=bad)
        return cls(
            bucket=settings.backup_bucket.removeprefix("gs://").strip("/"),
            prefix=settings.backup_prefix.strip("/"),
            collections=tuple(dict.fromkeys(settings.backup_collections)),
            schedule_time=schedule_time,
        )

    @property
    def key(self) -> str:
        return schedule_key(self.schedule_time)

    @property
    def folder(self) -> str:
        return f"{self.prefix}/{self.key}" if self.prefix else self.key

    @property
    def uri(self) -> str:
        return f"gs://{self.bucket}/{self.folder}/"


def _claim(client: firestore.Client, target: BackupTarget, mode: str, now: dt.datetime) -> dict[str, Any] | None:
    """Create ``backups/{tick}``; the existing record when this tick was already started."""
    from google.api_core import exceptions

    ref = client.collection(BACKUPS).document(target.key)
    try:
        ref.create(
            {
                "mode": mode,
                "status": "starting",
                "schedule_time": target.schedule_time,
                "output_uri": target.uri,
                "collections": list(target.collections),
                "created_at": now,
            }
        )
    except exceptions.AlreadyExists:
        existing = ref.get()
        return existing.to_dict() or {}
    return None


def _release(client: firestore.Client, target: BackupTarget) -> None:
    try:
        client.collection(BACKUPS).document(target.key).delete()
    except Exception:
        logger.warning("could not release backup claim %s", target.key, exc_info=True)


def _already(existing: dict[str, Any], target: BackupTarget) -> dict[str, Any]:
    logger.info("backup for this tick already started", extra={"fields": {"tick": target.key}})
    return {
        "started": False,
        "tick": target.key,
        "status": existing.get("status"),
        "output_uri": existing.get("output_uri", target.uri),
        "operation": existing.get("operation"),
    }


def export_request(settings: Settings, target: BackupTarget, now: dt.datetime) -> dict[str, Any]:
    """The ``ExportDocumentsRequest`` of a managed export (``snapshot_time``: this minute, when configured)."""
    request: dict[str, Any] = {
        "name": f"projects/{settings.google_cloud_project}/databases/{settings.firestore_database_id}",
        "output_uri_prefix": target.uri.rstrip("/"),
        "collection_ids": list(target.collections),
    }
    if settings.backup_snapshot:
        request["snapshot_time"] = now.astimezone(dt.UTC).replace(second=0, microsecond=0)
    return request


def start_managed_export(
    firestore_client: firestore.Client,
    admin_client: AdminClient,
    settings: Settings,
    schedule_time: dt.datetime,
    now: dt.datetime,
) -> dict[str, Any]:
    """Start a managed export for this tick (once) and record its operation name; does not wait for it."""
    from google.api_core import exceptions

    target = BackupTarget.from_settings(settings, schedule_time)
    existing = _claim(firestore_client, target, "managed", now)
    if existing is not None:
        return _already(existing, target)
    try:
        operation = admin_client.export_documents(request=export_request(settings, target, now))
        operation_name = str(operation.operation.name)
    except (exceptions.ServiceUnavailable, exceptions.DeadlineExceeded, exceptions.TooManyRequests) as exc:
        _release(firestore_client, target)
        raise UpstreamUnavailable("the Firestore export could not be started", details=[str(exc)[:300]]) from None
    except exceptions.GoogleAPICallError as exc:
        _release(firestore_client, target)
        raise UpstreamError("Firestore refused the export", details=[str(exc)[:300]]) from None
    except Exception:
        _release(firestore_client, target)
        raise
    firestore_client.collection(BACKUPS).document(target.key).update(
        {"status": "started", "operation": operation_name, "started_at": now}
    )
    logger.info("managed export started", extra={"fields": {"tick": target.key, "operation": operation_name}})
    return {
        "started": True,
        "tick": target.key,
        "status": "started",
        "output_uri": target.uri,
        "operation": operation_name,
    }


def export_line(doc_id: str, data: dict[str, Any]) -> bytes:
    """One document as its line of a logical export (canonical JSON: the same document always gives the same bytes)."""
    record = encode_document(doc_id, data)
    return (
        json.dumps(record, ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")) + "\n"
    ).encode("utf-8")


def export_collection(
    firestore_client: firestore.Client,
    bucket: storage.Bucket,
    collection: str,
    object_name: str,
    read_time: dt.datetime | None,
) -> dict[str, Any]:
    """Stream one collection to ``object_name`` as NDJSON; its manifest entry (file, documents, bytes, sha256)."""
    digest = hashlib.sha256()
    documents = 0
    size = 0
    with tempfile.TemporaryFile() as spool:
        stream = (
            firestore_client.collection(collection).stream(read_time=read_time)
            if read_time
            else firestore_client.collection(collection).stream()
        )
        for snapshot in stream:
            line = export_line(snapshot.id, snapshot.to_dict() or {})
            spool.write(line)
            digest.update(line)
            documents += 1
            size += len(line)
        spool.seek(0)
        bucket.blob(object_name).upload_from_file(spool, size=size, content_type="application/x-ndjson")
    return {"file": object_name.rsplit("/", 1)[-1], "documents": documents, "bytes": size, "sha256": digest.hexdigest()}


def run_logical_export(
    firestore_client: firestore.Client,
    storage_client: storage.Client,
    settings: Settings,
    schedule_time: dt.datetime,
    now: dt.datetime,
    collections: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Export this tick's collections (once) with a manifest; the result holds the counts per collection."""
    target = BackupTarget.from_settings(settings, schedule_time)
    if collections is not None:
        target = BackupTarget(target.bucket, target.prefix, tuple(collections), schedule_time)
    existing = _claim(firestore_client, target, "logical", now)
    if existing is not None:
        return _already(existing, target)
    read_time = now if settings.backup_snapshot and not settings.firestore_emulator_host else None
    try:
        bucket = storage_client.bucket(target.bucket)
        entries = {
            name: export_collection(firestore_client, bucket, name, f"{target.folder}/{name}.ndjson", read_time)
            for name in target.collections
        }
        manifest = {
            "format": EXPORT_FORMAT,
            "schedule_time": target.schedule_time.isoformat(),
            "exported_at": now.isoformat(),
            "read_time": read_time.isoformat() if read_time else None,
            "project": settings.google_cloud_project,
            "database": settings.firestore_database_id,
            "collections": entries,
        }
        bucket.blob(f"{target.folder}/{MANIFEST}").upload_from_string(
            json.dumps(manifest, indent=2, sort_keys=True), content_type="application/json"
        )
    except Exception:
        _release(firestore_client, target)
        raise
    counts = {name: entry["documents"] for name, entry in entries.items()}
    firestore_client.collection(BACKUPS).document(target.key).update(
        {"status": "done", "counts": counts, "finished_at": dt.datetime.now(dt.UTC)}
    )
    logger.info("logical export written", extra={"fields": {"tick": target.key, "counts": counts}})
    return {"started": True, "tick": target.key, "status": "done", "output_uri": target.uri, "counts": counts}


def build_admin_client() -> AdminClient:
    from google.cloud import firestore_admin_v1

    client: AdminClient = firestore_admin_v1.FirestoreAdminClient()
    return client
