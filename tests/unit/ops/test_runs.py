"""Scheduler ticks: parsing the schedule-time header and naming run records."""

from __future__ import annotations

import datetime as dt

import pytest

from common.foundation.errors import InvalidRequest
from common.services.ops.runs import schedule_key, schedule_time_from

NOW = dt.datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)


def test_the_scheduler_header_sets_the_tick() -> None:
    assert schedule_time_from("2026-05-06T07:05:00Z", NOW) == dt.datetime(2026, 5, 6, 7, 5, tzinfo=dt.UTC)
    assert schedule_time_from("2026-05-06T09:05:00+02:00", NOW) == dt.datetime(2026, 5, 6, 7, 5, tzinfo=dt.UTC)


def test_a_manual_call_uses_now_to_the_second() -> None:
    assert schedule_time_from(None, NOW) == NOW.replace(microsecond=0)
    assert schedule_time_from("", NOW) == NOW.replace(microsecond=0)


def test_a_malformed_header_is_a_bad_request() -> None:
    with pytest.raises(InvalidRequest):
        schedule_time_from("yesterday", NOW)


def test_keys_are_document_id_safe_and_distinct_per_tick() -> None:
    key = schedule_key(dt.datetime(2026, 5, 6, 7, 5, tzinfo=dt.UTC))
    assert key == "2026-05-06T07:05:00Z"
    assert "/" not in key
    assert schedule_key(NOW) != schedule_key(NOW.replace(microsecond=0))
