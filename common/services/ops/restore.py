"""Restoring exports: logical ones document by document, managed ones with ``gcloud firestore import``; checking a
restore; the commands of a point-in-time (PITR) restore.

A logical restore first downloads every file the manifest lists and checks its SHA-256, size and line count; only
when all of them match does it write anything, in batched ``set()`` calls (each document replaced exactly as
exported). Documents created after the export are left alone, and nothing is deleted.

A restore is checked per document: each document's checksum is the SHA-256 of its export line (canonical JSON of the
lossless encoding, ``backup.export_line``), computed the same way from an export file, from a restored database and
from the source database (read now, or at a PITR ``read_time``). ``compare_checksums`` lists what differs.

``pitr_restore_commands`` builds the ``gcloud`` commands that restore a database as it was at a minute of the PITR
window into a new (scratch) database: ``clone``, or an export at that ``--snapshot-time`` imported into a new
database, or ``databases restore`` from a scheduled backup. They need a real project and are only built here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from common.foundation.batched_writes import write_in_batches
from common.foundation.errors import InvalidRequest
from common.services.ops.backup import EXPORT_FORMAT, MANIFEST, export_line
from common.services.ops.codec import decode_value

if TYPE_CHECKING:
    import google.cloud.storage as storage
    from google.cloud import firestore

RESTORE_BATCH_SIZE = 200


class IntegrityError(InvalidRequest):
    code = "backup_corrupted"
    default_message = "the backup does not match its manifest"


@dataclass(frozen=True)
class ExportLocation:
    bucket: str
    folder: str

    @classmethod
    def parse(cls, uri: str) -> ExportLocation:
        """``gs://bucket/prefix/tick/`` (a trailing ``manifest.json`` is accepted too)."""
        if not uri.startswith("gs://"):
            raise InvalidRequest("the export location must be a gs:// URI", details=[uri])
        bucket, _, folder = uri.removeprefix("gs://").partition("/")
        folder = folder.strip("/").removesuffix(MANIFEST).strip("/")
        if not bucket:
            raise InvalidRequest("the export location names no bucket", details=[uri])
        return cls(bucket, folder)

    def object_name(self, file_name: str) -> str:
        return f"{self.folder}/{file_name}" if self.folder else file_name


def read_manifest(storage_client: storage.Client, location: ExportLocation) -> dict[str, Any]:
    blob = storage_client.bucket(location.bucket).blob(location.object_name(MANIFEST))
    try:
        manifest = json.loads(blob.download_as_bytes())
    except Exception as exc:
        raise IntegrityError(f"cannot read {MANIFEST} at gs://{location.bucket}/{location.folder}/") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != EXPORT_FORMAT:
        raise IntegrityError(f"{MANIFEST} is not a {EXPORT_FORMAT} manifest")
    return manifest


def verified_files(
    storage_client: storage.Client,
    location: ExportLocation,
    manifest: dict[str, Any],
    collections: Sequence[str] | None = None,
) -> dict[str, bytes]:
    """The contents of every chosen collection file, each checked against the manifest (or ``IntegrityError``)."""
    entries: dict[str, Any] = manifest.get("collections") or {}
    chosen = list(collections) if collections else list(entries)
    unknown = [name for name in chosen if name not in entries]
    if unknown:
        raise InvalidRequest("these collections are not in the export", details=unknown)
    bucket = storage_client.bucket(location.bucket)
    contents: dict[str, bytes] = {}
    problems: list[str] = []
    for name in chosen:
        entry = entries[name]
        data = bucket.blob(location.object_name(entry["file"])).download_as_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            problems.append(f"{entry['file']}: SHA-256 differs from the manifest")
        elif len(data) != entry["bytes"] or data.count(b"\n") != entry["documents"]:
            problems.append(f"{entry['file']}: size or document count differs from the manifest")
        contents[name] = data
    if problems:
        raise IntegrityError(details=problems)
    return contents


def _documents(data: bytes) -> Iterator[tuple[str, Any]]:
    for line in data.splitlines():
        record = json.loads(line)
        yield record["id"], record["data"]


def restore_logical(
    firestore_client: firestore.Client,
    storage_client: storage.Client,
    uri: str,
    collections: Sequence[str] | None = None,
    batch_size: int = RESTORE_BATCH_SIZE,
) -> dict[str, int]:
    """Restore a logical export into ``firestore_client``'s database; the number of documents written per collection."""
    location = ExportLocation.parse(uri)
    manifest = read_manifest(storage_client, location)
    contents = verified_files(storage_client, location, manifest, collections)
    written: dict[str, int] = {}
    for name, data in contents.items():
        collection = firestore_client.collection(name)

        def restore(batch: firestore.WriteBatch, item: tuple[str, Any], collection: Any = collection) -> None:
            doc_id, encoded = item
            batch.set(collection.document(doc_id), decode_value(encoded, firestore_client))

        written[name] = write_in_batches(firestore_client, _documents(data), restore, size=batch_size)
    return written


def managed_import_command(uri: str, project: str, database: str, collections: Sequence[str] = ()) -> str:
    """The ``gcloud firestore import`` command restoring a managed export."""
    command = ["gcloud", "firestore", "import", uri.rstrip("/") + "/", f"--project={project}", f"--database={database}"]
    if collections:
        command.append(f"--collection-ids={','.join(collections)}")
    return shlex.join(command)


# ------------------------------------------------------------------------------------------------ checking a restore

Checksums = dict[str, str]  # document id -> SHA-256 of its export line


def file_checksums(data: bytes) -> Checksums:
    """The checksum of every document of one export file (its lines are export lines already)."""
    checksums: Checksums = {}
    for line in data.splitlines(keepends=True):
        doc_id = json.loads(line)["id"]
        checksums[doc_id] = hashlib.sha256(line).hexdigest()
    return checksums


def database_checksums(
    firestore_client: firestore.Client, collection: str, read_time: dt.datetime | None = None
) -> Checksums:
    """The checksum of every document of ``collection`` as stored now (or at ``read_time``, a PITR read)."""
    stream = (
        firestore_client.collection(collection).stream(read_time=read_time)
        if read_time
        else firestore_client.collection(collection).stream()
    )
    return {
        snapshot.id: hashlib.sha256(export_line(snapshot.id, snapshot.to_dict() or {})).hexdigest()
        for snapshot in stream
    }


def compare_checksums(expected: Mapping[str, str], actual: Mapping[str, str], label: str = "") -> list[str]:
    """What differs between two checksum sets: missing, unexpected and changed documents (empty: identical)."""
    prefix = f"{label}: " if label else ""
    problems = []
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    changed = sorted(doc_id for doc_id in set(expected) & set(actual) if expected[doc_id] != actual[doc_id])
    if len(expected) != len(actual):
        problems.append(f"{prefix}{len(expected)} documents expected, {len(actual)} found")
    for kind, ids in (("missing", missing), ("unexpected", extra), ("checksum differs", changed)):
        if ids:
            shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
            problems.append(f"{prefix}{kind}: {shown}")
    return problems


# ------------------------------------------------------------------------------------- point-in-time recovery (PITR)

PITR_WINDOW = dt.timedelta(days=7)  # with PITR enabled (scripts/deploy: --enable-pitr); one hour without
PITR_METHODS = ("clone", "export", "backup")
_DATABASE_ID = re.compile(r"^[a-z][a-z0-9-]{2,61}[a-z0-9]$")
_UUID_LIKE = re.compile(r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")


def pitr_snapshot_time(text: str, now: dt.datetime) -> dt.datetime:
    """A PITR snapshot time: RFC 3339, a whole minute, in the past and within the 7-day PITR window."""
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest("the snapshot time must be an RFC 3339 time, e.g. 2026-01-02T03:04:00Z") from None
    if moment.tzinfo is None:
        raise InvalidRequest("the snapshot time needs a time zone (Z for UTC)", details=[text])
    moment = moment.astimezone(dt.UTC)
    if moment.second or moment.microsecond:
        raise InvalidRequest("PITR snapshots exist for whole minutes only", details=[text])
    if moment > now:
        raise InvalidRequest("the snapshot time is in the future", details=[text])
    if moment < now - PITR_WINDOW:
        raise InvalidRequest("the snapshot time is older than the 7-day PITR window", details=[text])
    return moment


def _check_database_id(database: str, source: str) -> None:
    if not _DATABASE_ID.match(database) or _UUID_LIKE.match(database):
        raise InvalidRequest(
            "the scratch database id must be 4-63 characters of a-z, 0-9 and -, start with a letter and not end with -",
            details=[database],
        )
    if database == source:
        raise InvalidRequest("restore into a scratch database, never over the source", details=[database])


def pitr_restore_commands(
    *,
    project: str,
    source_database: str,
    scratch_database: str,
    snapshot_time: dt.datetime,
    method: str = "clone",
    bucket: str | None = None,
    location: str | None = None,
    backup: str | None = None,
    collections: Sequence[str] = (),
) -> list[list[str]]:
    """The ``gcloud`` commands restoring ``source_database`` as it was at ``snapshot_time`` into a new database.

    - ``clone``: ``gcloud firestore databases clone`` from the PITR snapshot (same location; indexes come along).
    - ``export``: ``gcloud firestore export --snapshot-time`` to ``bucket``, a new database in ``location``, then
      ``gcloud firestore import`` into it (also the way to restore only ``collections``).
    - ``backup``: ``gcloud firestore databases restore`` from a scheduled backup (``backup``:
      ``projects/P/locations/L/backups/ID``; its own time, not ``snapshot_time``).
    """
    if method not in PITR_METHODS:
        raise InvalidRequest(f"the method is one of {', '.join(PITR_METHODS)}", details=[method])
    _check_database_id(scratch_database, source_database)
    stamp = snapshot_time.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    source = f"projects/{project}/databases/{source_database}"
    project_flag = f"--project={project}"
    if method == "clone":
        return [
            [
                "gcloud",
                "firestore",
                "databases",
                "clone",
                f"--source-database={source}",
                f"--snapshot-time={stamp}",
                f"--destination-database={scratch_database}",
                project_flag,
            ]
        ]
    if method == "backup":
        if not backup or not backup.startswith("projects/"):
            raise InvalidRequest("name the backup: projects/P/locations/L/backups/ID", details=[backup or ""])
        return [
            [
                "gcloud",
                "firestore",
                "databases",
                "restore",
                f"--source-backup={backup}",
                f"--destination-database={scratch_database}",
                project_flag,
            ]
        ]
    if not bucket or not location:
        raise InvalidRequest("the export method needs a bucket and the database location")
    uri = f"gs://{bucket.removeprefix('gs://').strip('/')}/pitr-restores/{source_database}/{stamp}"
    selection = [f"--collection-ids={','.join(collections)}"] if collections else []
    return [
        [
            "gcloud",
            "firestore",
            "export",
            uri,
            f"--database={source_database}",
            f"--snapshot-time={stamp}",
            *selection,
            project_flag,
        ],
        [
            "gcloud",
            "firestore",
            "databases",
            "create",
            f"--database={scratch_database}",
            f"--location={location}",
            "--type=firestore-native",
            project_flag,
        ],
        ["gcloud", "firestore", "import", uri + "/", f"--database={scratch_database}", *selection, project_flag],
    ]
