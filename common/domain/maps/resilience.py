"""Rate limiting (token bucket + concurrency bound) and retries with exponential backoff and full jitter."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from common.domain.maps.errors import MapsQuotaExceeded, is_retryable, to_app_error

T = TypeVar("T")


class TokenBucket:
    """``rate`` tokens per second up to ``burst``; ``acquire`` blocks until a token is free or ``timeout`` passes."""

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def try_acquire(self) -> float:
        """Take a token and return 0.0, or return the seconds until one is available."""
        with self._lock:
            self._refill()
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) / self.rate

    def acquire(self, timeout: float) -> None:
        """Raise ``MapsQuotaExceeded`` if no token frees up within ``timeout`` seconds."""
        deadline = self._clock() + timeout
        while True:
            wait = self.try_acquire()
            if wait == 0.0:
                return
            if self._clock() + wait > deadline:
                raise MapsQuotaExceeded("local Maps rate limit: no request slot within the timeout")
            self._sleep(wait)


@dataclass
class RetryPolicy:
    """Retry retryable failures up to ``max_retries`` times; delay ``base * 2**attempt`` capped, with full jitter."""

    max_retries: int = 3
    base_delay: float = 0.2
    max_delay: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        return self.rng.uniform(0.0, min(self.max_delay, self.base_delay * (2**attempt)))


class CallGuard:
    """Runs one upstream call: waits for a token and a concurrency slot, then retries per the policy, and turns
    the final failure into our typed error."""

    def __init__(self, bucket: TokenBucket, max_concurrency: int, policy: RetryPolicy, timeout: float) -> None:
        self.bucket = bucket
        self.policy = policy
        self.timeout = timeout
        self._slots = threading.BoundedSemaphore(max_concurrency)

    def run(
        self,
        operation: str,
        call: Callable[[], T],
        on_attempt: Callable[[], None] | None = None,
        on_retry: Callable[[], None] | None = None,
    ) -> T:
        attempt = 0
        while True:
            self.bucket.acquire(self.timeout)
            if not self._slots.acquire(timeout=self.timeout):
                raise MapsQuotaExceeded("local Maps concurrency limit: no slot within the timeout")
            try:
                if on_attempt is not None:
                    on_attempt()
                return call()
            except Exception as exc:
                if not is_retryable(exc) or attempt >= self.policy.max_retries:
                    raise to_app_error(exc, operation) from exc
            finally:
                self._slots.release()
            if on_retry is not None:
                on_retry()
            self.policy.sleep(self.policy.delay(attempt))
            attempt += 1
