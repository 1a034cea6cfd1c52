from __future__ import annotations

import random

import pytest
import requests
from google.api_core import exceptions as core_exceptions

from common.domain.maps.errors import (
    MapsPlaceNotFound,
    MapsQuotaExceeded,
    MapsRequestRejected,
    MapsUnavailable,
    is_retryable,
    to_app_error,
)
from common.domain.maps.resilience import CallGuard, RetryPolicy, TokenBucket
from common.foundation.errors import NotFound, PermanentError, QuotaExceeded, RetryableError, UpstreamUnavailable
from tests.unit.maps.fakes import FakeClock, api_error


class SleepRecorder:
    def __init__(self, clock: FakeClock | None = None) -> None:
        self.sleeps: list[float] = []
        self.clock = clock

    def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.clock is not None:
            self.clock.advance(seconds)


def test_token_bucket_allows_a_burst_then_refills_at_the_rate() -> None:
    clock = FakeClock(0.0)
    bucket = TokenBucket(rate=10, burst=3, clock=clock)
    assert [bucket.try_acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.try_acquire() == pytest.approx(0.1)
    clock.advance(0.1)
    assert bucket.try_acquire() == 0.0
    clock.advance(10)  # refill caps at the burst size
    assert [bucket.try_acquire() for _ in range(4)][-1] == pytest.approx(0.1)


def test_token_bucket_acquire_waits_for_a_token_and_gives_up_after_the_timeout() -> None:
    clock = FakeClock(0.0)
    sleep = SleepRecorder(clock)
    bucket = TokenBucket(rate=2, burst=1, clock=clock, sleep=sleep)
    bucket.acquire(timeout=1)
    bucket.acquire(timeout=1)
    assert sleep.sleeps == [pytest.approx(0.5)]
    with pytest.raises(MapsQuotaExceeded):
        bucket.acquire(timeout=0.1)


@pytest.mark.parametrize(
    "error",
    [
        api_error(core_exceptions.TooManyRequests, "slow down"),
        api_error(core_exceptions.ResourceExhausted, "quota"),
        api_error(core_exceptions.InternalServerError, "boom"),
        api_error(core_exceptions.ServiceUnavailable, "down"),
        api_error(core_exceptions.GatewayTimeout, "late"),
        api_error(core_exceptions.DeadlineExceeded, "late"),
        requests.exceptions.ConnectionError("refused"),
        requests.exceptions.ReadTimeout("late"),
    ],
)
def test_retryable_failures(error: Exception) -> None:
    assert is_retryable(error)
    assert isinstance(to_app_error(error, "op"), RetryableError)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (api_error(core_exceptions.BadRequest, "bad mask"), MapsRequestRejected),
        (api_error(core_exceptions.Forbidden, "key"), MapsRequestRejected),
        (api_error(core_exceptions.NotFound, "gone"), MapsPlaceNotFound),
        (ValueError("odd"), MapsRequestRejected),
    ],
)
def test_permanent_failures(error: Exception, expected: type[Exception]) -> None:
    assert not is_retryable(error)
    typed = to_app_error(error, "op")
    assert isinstance(typed, expected)
    assert isinstance(typed, PermanentError)


def test_typed_errors_sit_in_the_common_hierarchy() -> None:
    assert isinstance(to_app_error(api_error(core_exceptions.TooManyRequests, "x"), "op"), QuotaExceeded)
    assert isinstance(to_app_error(api_error(core_exceptions.ServiceUnavailable, "x"), "op"), UpstreamUnavailable)
    assert isinstance(to_app_error(api_error(core_exceptions.NotFound, "x"), "op"), NotFound)


def _guard(max_retries: int, sleep: SleepRecorder) -> CallGuard:
    policy = RetryPolicy(max_retries=max_retries, base_delay=0.1, max_delay=1.0, sleep=sleep, rng=random.Random(1))
    return CallGuard(TokenBucket(1000, 1000), max_concurrency=4, policy=policy, timeout=1.0)


def test_guard_retries_retryable_failures_with_growing_jittered_backoff() -> None:
    sleep = SleepRecorder()
    outcomes: list[Exception | str] = [
        api_error(core_exceptions.ServiceUnavailable, "1"),
        api_error(core_exceptions.TooManyRequests, "2"),
    ]
    outcomes.append("ok")
    attempts: list[int] = []

    def call() -> str:
        attempts.append(1)
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert _guard(3, sleep).run("op", call) == "ok"
    assert len(attempts) == 3
    assert len(sleep.sleeps) == 2
    assert 0 <= sleep.sleeps[0] <= 0.1
    assert 0 <= sleep.sleeps[1] <= 0.2


def test_guard_gives_a_typed_error_when_retries_run_out() -> None:
    sleep = SleepRecorder()
    attempts: list[int] = []

    def call() -> str:
        attempts.append(1)
        raise api_error(core_exceptions.ServiceUnavailable, "down")

    with pytest.raises(MapsUnavailable):
        _guard(2, sleep).run("op", call)
    assert len(attempts) == 3


def test_guard_does_not_retry_a_bad_request() -> None:
    sleep = SleepRecorder()
    attempts: list[int] = []

    def call() -> str:
        attempts.append(1)
        raise api_error(core_exceptions.BadRequest, "no mask")

    with pytest.raises(MapsRequestRejected):
        _guard(3, sleep).run("op", call)
    assert attempts == [1]
    assert sleep.sleeps == []


def test_backoff_delay_is_capped() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=2.0, rng=random.Random(3))
    assert all(0.0 <= policy.delay(attempt) <= 2.0 for attempt in range(10))
