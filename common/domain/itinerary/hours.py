"""Weekly opening periods (Google Places API (New) shape) to open intervals on one date, for the engine."""

from __future__ import annotations

import datetime as dt

from common.domain.itinerary.models import MINUTES_PER_DAY, OpeningPeriod, OpeningTime, TimeWindow

MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY

Interval = tuple[int, int]


def google_weekday(date: dt.date) -> int:
    """0 = Sunday .. 6 = Saturday, as in Google opening periods."""
    return date.isoweekday() % 7


def _week_minute(point: OpeningTime) -> int:
    return point.day * MINUTES_PER_DAY + point.hour * 60 + point.minute


def _weekly_spans(periods: list[OpeningPeriod]) -> list[Interval]:
    """Periods as [open, close) in minutes since Sunday 00:00; a close before its open wraps into next week."""
    spans: list[Interval] = []
    for period in periods:
        opens = _week_minute(period.open)
        if period.close is None:
            if opens == 0:
                return [(0, MINUTES_PER_WEEK)]
            closes = (opens // MINUTES_PER_DAY + 1) * MINUTES_PER_DAY
        else:
            closes = _week_minute(period.close)
            if closes <= opens:
                closes += MINUTES_PER_WEEK
        spans.append((opens, closes))
    return spans


def merge_intervals(intervals: list[Interval]) -> list[Interval]:
    """Sorted union of intervals; touching intervals merge."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def open_intervals_on(periods: list[OpeningPeriod] | None, date: dt.date) -> list[Interval] | None:
    """Open intervals on ``date`` in minutes since its midnight, clipped to the day; None when hours are unknown."""
    if not periods:
        return None
    day_start = google_weekday(date) * MINUTES_PER_DAY
    day_end = day_start + MINUTES_PER_DAY
    pieces: list[Interval] = []
    for opens, closes in _weekly_spans(periods):
        for shift in (-MINUTES_PER_WEEK, 0, MINUTES_PER_WEEK):
            start, end = max(opens + shift, day_start), min(closes + shift, day_end)
            if start < end:
                pieces.append((start - day_start, end - day_start))
    return merge_intervals(pieces)


def visit_start_windows(
    periods: list[OpeningPeriod] | None, date: dt.date, visit_minutes: int, bounds: TimeWindow
) -> list[Interval]:
    """Inclusive ranges of allowed arrival minutes so the whole visit fits one opening interval and ``bounds``.

    Unknown hours count as open all day.
    """
    intervals = open_intervals_on(periods, date)
    if intervals is None:
        intervals = [(0, MINUTES_PER_DAY)]
    windows: list[Interval] = []
    for opens, closes in intervals:
        earliest = max(opens, bounds.start)
        latest = min(closes, bounds.end) - visit_minutes
        if earliest <= latest:
            windows.append((earliest, latest))
    return windows
