"""Bounded fan-out of blocking calls (Maps lookups) over a thread pool, order preserved."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def fan_out(call: Callable[[T], R], items: Sequence[T], workers: int) -> list[R]:
    """``[call(item) for item in items]``, up to ``workers`` at a time; the first exception raised is re-raised."""
    if workers <= 1 or len(items) <= 1:
        return [call(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="fan-out") as pool:
        return list(pool.map(call, items))
