from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from common.domain.maps.cache import SingleFlight, TtlLruCache
from tests.unit.maps.fakes import FakeClock


def test_l1_entries_expire_after_ttl() -> None:
    clock = FakeClock()
    cache = TtlLruCache(max_size=10, ttl_seconds=60, clock=clock)
    cache.set("a", 1)
    clock.advance(59)
    assert cache.get("a") == 1
    clock.advance(1)
    assert cache.get("a") is None
    assert len(cache) == 0


def test_l1_shorter_ttl_for_an_entry_is_honoured_but_never_longer() -> None:
    clock = FakeClock()
    cache = TtlLruCache(max_size=10, ttl_seconds=60, clock=clock)
    cache.set("short", 1, ttl_seconds=5)
    cache.set("long", 2, ttl_seconds=600)
    clock.advance(6)
    assert cache.get("short") is None
    assert cache.get("long") == 2
    clock.advance(60)
    assert cache.get("long") is None


def test_l1_evicts_the_least_recently_used_entry() -> None:
    cache = TtlLruCache(max_size=2, ttl_seconds=60, clock=FakeClock())
    cache.set("a", 1)
    cache.set("b", 2)
    assert cache.get("a") == 1  # a is now the most recently used
    cache.set("c", 3)
    assert cache.get("b") is None
    assert cache.get("a") == 1
    assert cache.get("c") == 3
    assert len(cache) == 2


@pytest.mark.parametrize(("size", "ttl"), [(0, 60), (10, 0)])
def test_l1_with_zero_size_or_ttl_stores_nothing(size: int, ttl: int) -> None:
    cache = TtlLruCache(max_size=size, ttl_seconds=ttl, clock=FakeClock())
    cache.set("a", 1)
    assert cache.get("a") is None


def test_single_flight_runs_twenty_concurrent_identical_calls_once() -> None:
    flights: SingleFlight[int] = SingleFlight()
    calls = 0
    lock = threading.Lock()
    release = threading.Event()

    def work() -> int:
        nonlocal calls
        with lock:
            calls += 1
        release.wait(5)
        return 42

    with ThreadPoolExecutor(max_workers=20) as pool:
        futures = [pool.submit(flights.do, "key", work) for _ in range(20)]
        time.sleep(0.2)  # let every thread reach the flight
        release.set()
        outcomes = [future.result(timeout=5) for future in futures]
    assert calls == 1
    assert [value for value, _ in outcomes] == [42] * 20
    assert sum(1 for _, leader in outcomes if leader) == 1


def test_single_flight_shares_the_failure_and_then_forgets_the_key() -> None:
    flights: SingleFlight[int] = SingleFlight()
    release = threading.Event()

    def failing() -> int:
        release.wait(5)
        raise RuntimeError("upstream down")

    with ThreadPoolExecutor(max_workers=5) as pool:
        futures = [pool.submit(flights.do, "key", failing) for _ in range(5)]
        time.sleep(0.1)
        release.set()
        for future in futures:
            with pytest.raises(RuntimeError, match="upstream down"):
                future.result(timeout=5)
    assert flights.do("key", lambda: 7) == (7, True)
