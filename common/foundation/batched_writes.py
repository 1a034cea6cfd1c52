"""Batched Firestore writes: the one loop that groups writes into batches of at most ``size`` and commits each."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from google.cloud import firestore

T = TypeVar("T")
FIRESTORE_BATCH_LIMIT = 500  # writes per commit that Firestore accepts


def write_in_batches(
    client: firestore.Client,
    items: Iterable[T],
    write: Callable[[firestore.WriteBatch, T], None],
    *,
    size: int = FIRESTORE_BATCH_LIMIT,
    commit_options: dict[str, Any] | None = None,
) -> int:
    """Add ``write(batch, item)`` for every item, committing every ``size`` writes and once more at the end; the
    number of items written. ``commit_options`` go to each ``commit`` (e.g. ``retry`` and ``timeout``)."""
    if not 1 <= size <= FIRESTORE_BATCH_LIMIT:
        raise ValueError(f"a batch holds 1 to {FIRESTORE_BATCH_LIMIT} writes")
    count = 0
    batch = client.batch()
    pending = 0
    for item in items:
        write(batch, item)
        pending += 1
        count += 1
        if pending >= size:
            batch.commit(**(commit_options or {}))
            batch = client.batch()
            pending = 0
    if pending:
        batch.commit(**(commit_options or {}))
    return count


def delete_in_batches(
    client: firestore.Client, references: Iterable[firestore.DocumentReference], *, size: int = FIRESTORE_BATCH_LIMIT
) -> int:
    """Delete every referenced document, ``size`` per commit; how many were deleted."""
    return write_in_batches(client, references, lambda batch, reference: batch.delete(reference), size=size)
