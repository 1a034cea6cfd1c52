"""Caching pieces: an in-process TTL + LRU cache (L1), single-flight coalescing, and the Firestore cache (L2).

Maps terms: place ids may be kept; every other cached field carries ``expire_at`` at most 30 days out, and
Firestore TTL policies on ``expire_at`` delete expired documents (reads also ignore them, as TTL deletion lags).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from common.foundation.batched_writes import FIRESTORE_BATCH_LIMIT, write_in_batches

if TYPE_CHECKING:
    from google.cloud import firestore

logger = logging.getLogger(__name__)

T = TypeVar("T")
Clock = Callable[[], float]

MAX_CONTENT_TTL_SECONDS = 30 * 24 * 3600
L2_SCHEMA_VERSION = 1
FIRESTORE_GET_ALL_CHUNK = 300
# One attempt, bounded: the client's default retries for 60 s per call, so with Firestore down each cache read or
# write would stall planning for a minute (the cache is an optimisation: a failure is a miss).
L2_TIMEOUT_SECONDS = 2.0


def sha256_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class _Entry:
    value: Any
    expires_at: float


class TtlLruCache:
    """Thread-safe in-process cache: entries expire after ``ttl_seconds``; beyond ``max_size`` the least recently
    used entry goes. ``max_size`` or ``ttl_seconds`` of 0 disables it."""

    def __init__(self, max_size: int, ttl_seconds: float, clock: Clock) -> None:
        self.max_size = max_size
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_size > 0 and self.ttl_seconds > 0

    def get(self, key: str) -> Any | None:
        """The live value, or ``None`` (never store ``None``)."""
        if not self.enabled:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.expires_at <= self._clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry.value

    def set(self, key: str, value: Any, ttl_seconds: float | None = None) -> None:
        """Store ``value``; ``ttl_seconds`` can only shorten the cache's own TTL (e.g. to an L2 expiry)."""
        if not self.enabled or value is None:
            return
        ttl = self.ttl_seconds if ttl_seconds is None else min(self.ttl_seconds, ttl_seconds)
        if ttl <= 0:
            return
        with self._lock:
            self._entries[key] = _Entry(value, self._clock() + ttl)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


class _Flight(Generic[T]):
    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: T | None = None
        self.error: BaseException | None = None


class SingleFlight(Generic[T]):
    """Coalesce concurrent calls with the same key: one runs ``fn``, the others wait for and share its outcome."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[str, _Flight[T]] = {}

    def do(self, key: str, fn: Callable[[], T]) -> tuple[T, bool]:
        """``(value, leader)``: ``leader`` is False for callers that waited for someone else's call."""
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = _Flight()
                self._flights[key] = flight
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return flight.value, False  # type: ignore[return-value]
        try:
            flight.value = fn()
            return flight.value, True
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()


@dataclass(frozen=True)
class L2Hit:
    data: dict[str, Any]
    remaining_seconds: float


class FirestoreCache:
    """L2: documents ``{v, data, cached_at, expire_at}`` in Firestore. Failures are logged and read as misses: the
    cache must never break planning."""

    def __init__(self, client: firestore.Client, clock: Clock) -> None:
        self._client = client
        self._clock = clock

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), tz=UTC)

    def get_many(self, collection: str, doc_ids: Iterable[str]) -> dict[str, L2Hit]:
        ids = list(dict.fromkeys(doc_ids))
        if not ids:
            return {}
        hits: dict[str, L2Hit] = {}
        now = self._now()
        try:
            for start in range(0, len(ids), FIRESTORE_GET_ALL_CHUNK):
                refs = [
                    self._client.collection(collection).document(doc_id)
                    for doc_id in ids[start : start + FIRESTORE_GET_ALL_CHUNK]
                ]
                for snapshot in self._client.get_all(refs, retry=None, timeout=L2_TIMEOUT_SECONDS):
                    if not snapshot.exists:
                        continue
                    document = snapshot.to_dict() or {}
                    expire_at = document.get("expire_at")
                    if document.get("v") != L2_SCHEMA_VERSION or not isinstance(expire_at, datetime):
                        continue
                    remaining = (expire_at - now).total_seconds()
                    if remaining > 0 and isinstance(document.get("data"), dict):
                        hits[snapshot.id] = L2Hit(data=document["data"], remaining_seconds=remaining)
        except Exception:
            logger.warning("maps L2 cache read failed for %s", collection, exc_info=True)
        return hits

    def get(self, collection: str, doc_id: str) -> L2Hit | None:
        return self.get_many(collection, [doc_id]).get(doc_id)

    def put_many(self, collection: str, documents: Mapping[str, dict[str, Any]], ttl_seconds: float) -> None:
        """Write ``data`` documents expiring after ``ttl_seconds`` (capped at 30 days)."""
        if not documents or ttl_seconds <= 0:
            return
        now = self._now()
        expire_at = now + timedelta(seconds=min(ttl_seconds, MAX_CONTENT_TTL_SECONDS))
        target = self._client.collection(collection)

        def put(batch: firestore.WriteBatch, item: tuple[str, dict[str, Any]]) -> None:
            doc_id, data = item
            batch.set(
                target.document(doc_id),
                {"v": L2_SCHEMA_VERSION, "data": data, "cached_at": now, "expire_at": expire_at},
            )

        try:
            write_in_batches(
                self._client,
                documents.items(),
                put,
                size=FIRESTORE_BATCH_LIMIT,
                commit_options={"retry": None, "timeout": L2_TIMEOUT_SECONDS},
            )
        except Exception:
            logger.warning("maps L2 cache write failed for %s", collection, exc_info=True)

    def put(self, collection: str, doc_id: str, data: dict[str, Any], ttl_seconds: float) -> None:
        self.put_many(collection, {doc_id: data}, ttl_seconds)
