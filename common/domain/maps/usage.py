"""Per-request accounting of Maps work: the planner stores ``MapsUsage.snapshot()`` in the trip."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Literal

CacheLevel = Literal["l1", "l2"]


class MapsUsage:
    """Thread-safe counters for one planning request (pass the same object to every MapsService call)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.upstream_calls: Counter[str] = Counter()
        self.cache_hits: Counter[str] = Counter()
        self.cache_misses: Counter[str] = Counter()
        self.billable_elements = 0
        self.retries = 0
        self.coalesced = 0
        self.failures = 0

    def upstream_call(self, kind: str) -> None:
        with self._lock:
            self.upstream_calls[kind] += 1

    def elements(self, count: int) -> None:
        with self._lock:
            self.billable_elements += count

    def hit(self, level: CacheLevel, count: int = 1) -> None:
        with self._lock:
            self.cache_hits[level] += count

    def miss(self, kind: str, count: int = 1) -> None:
        with self._lock:
            self.cache_misses[kind] += count

    def retry(self) -> None:
        with self._lock:
            self.retries += 1

    def coalesced_wait(self) -> None:
        with self._lock:
            self.coalesced += 1

    def failure(self) -> None:
        with self._lock:
            self.failures += 1

    @property
    def total_upstream_calls(self) -> int:
        with self._lock:
            return sum(self.upstream_calls.values())

    def snapshot(self) -> dict[str, object]:
        """A JSON-ready copy."""
        with self._lock:
            return {
                "upstream_calls": dict(self.upstream_calls),
                "billable_elements": self.billable_elements,
                "cache_hits": {"l1": self.cache_hits["l1"], "l2": self.cache_hits["l2"]},
                "cache_misses": dict(self.cache_misses),
                "retries": self.retries,
                "coalesced": self.coalesced,
                "failures": self.failures,
            }


def usage_or_new(usage: MapsUsage | None) -> MapsUsage:
    """The caller's usage object, or a throwaway one when the caller does not count."""
    return usage if usage is not None else MapsUsage()
