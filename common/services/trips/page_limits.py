"""Rate limits of the public trip page (``trip_page``), per client.

A client is its IP address as Google's front end reports it: the entry of ``X-Forwarded-For`` that the trusted
proxies added (``SHARE_PAGE_PROXY_HOPS`` from the right; entries further left are whatever the client sent), hashed
with the project id, so no address is stored or logged.

Two counters, in windows of ``SHARE_PAGE_WINDOW_SECONDS``:

- **misses** (a token that is unknown, revoked or expired) in Firestore, ``share_page_misses/{client}-{window}``, so
  every instance sees the same count: guessing tokens is what must be stopped, and an attacker's requests land on many
  instances. Past ``SHARE_PAGE_MISSES_PER_WINDOW`` the client gets 429 for the rest of the window, hits included
  (one document read per request; a miss adds one write). The documents carry ``expire_at`` (TTL and cleanup).
- **all requests**, in memory per instance (``SHARE_PAGE_REQUESTS_PER_WINDOW``): a cheap cap that costs no Firestore
  operation, against one client hammering a valid link; a page that is shared widely is cached by browsers and
  proxies (``Cache-Control``) and spread over instances, so a per-instance count is enough there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from common.foundation.collection_names import PAGE_MISSES
from common.foundation.config import Settings
from common.foundation.errors import QuotaExceeded
from common.foundation.times import as_utc

if TYPE_CHECKING:
    from google.cloud import firestore

MAX_TRACKED_CLIENTS = 10_000


def client_key(remote_addr: str | None, forwarded_for: str | None, hops: int, salt: str) -> str:
    """A hashed name of the client: the ``X-Forwarded-For`` entry ``hops`` from the right (added by our proxies),
    else the socket's peer address."""
    address = remote_addr or ""
    entries = [entry.strip() for entry in (forwarded_for or "").split(",") if entry.strip()]
    if hops > 0 and len(entries) >= hops:
        address = entries[-hops]
    return hashlib.sha256(f"{salt}\n{address[:100]}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Window:
    index: int
    ends_at: dt.datetime

    @classmethod
    def at(cls, now: dt.datetime, seconds: int) -> Window:
        index = int(now.timestamp()) // seconds
        return cls(index, dt.datetime.fromtimestamp((index + 1) * seconds, dt.UTC))

    def retry_after(self, now: dt.datetime) -> int:
        return max(1, int((self.ends_at - now).total_seconds()) + 1)


def _too_many(window: Window, now: dt.datetime) -> QuotaExceeded:
    return QuotaExceeded(
        "too many requests for shared trips; try again later", retry_after_seconds=window.retry_after(now)
    )


class RequestCounter:
    """Requests per client in the current window, in this instance's memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._window = -1
        self._counts: dict[str, int] = {}

    def admit(self, client: str, settings: Settings, now: dt.datetime) -> None:
        window = Window.at(now, settings.share_page_window_seconds)
        with self._lock:
            if window.index != self._window or len(self._counts) > MAX_TRACKED_CLIENTS:
                self._window, self._counts = window.index, {}
            count = self._counts.get(client, 0) + 1
            self._counts[client] = count
        if count > settings.share_page_requests_per_window:
            raise _too_many(window, now)


class MissCounter:
    """Misses per client in the current window, in Firestore (shared by every instance)."""

    def __init__(self, client: firestore.Client, settings: Settings) -> None:
        self._firestore = client
        self._settings = settings

    def _ref(self, client: str, window: Window) -> firestore.DocumentReference:
        return self._firestore.collection(PAGE_MISSES).document(f"{client}-{window.index}")

    def check(self, client: str, now: dt.datetime) -> None:
        """429 when the client already missed too often in this window."""
        window = Window.at(now, self._settings.share_page_window_seconds)
        snapshot = self._ref(client, window).get()
        misses = (snapshot.to_dict() or {}).get("misses", 0) if snapshot.exists else 0
        if isinstance(misses, int) and misses >= self._settings.share_page_misses_per_window:
            raise _too_many(window, now)

    def record(self, client: str, now: dt.datetime) -> None:
        from google.cloud import firestore

        window = Window.at(now, self._settings.share_page_window_seconds)
        fields = {"misses": firestore.Increment(1), "expire_at": as_utc(window.ends_at)}
        self._ref(client, window).set(fields, merge=True)
