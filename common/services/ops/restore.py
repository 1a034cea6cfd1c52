"""Restoring exports: logical ones document by document, managed ones with ``gcloud firestore import``.

A logical restore first downloads every file the manifest lists and checks its SHA-256, size and line count; only
when all of them match does it write anything, in batched ``set()`` calls (each document replaced exactly as
exported). Documents created after the export are left alone, and nothing is deleted.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from common.foundation.batched_writes import write_in_batches
from common.foundation.errors import InvalidRequest
from common.services.ops.backup import EXPORT_FORMAT, MANIFEST
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
