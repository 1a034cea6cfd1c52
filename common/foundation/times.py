"""Time helpers shared by every layer: the clock, and stored or transmitted times as aware UTC datetimes."""

from __future__ import annotations

import datetime as dt
from typing import Any


def utc_now() -> dt.datetime:
    """Now, aware, in UTC (the default clock of every service; tests pass their own)."""
    return dt.datetime.now(dt.UTC)


def as_utc(value: Any) -> dt.datetime | None:
    """A datetime (Firestore timestamps are datetimes; naive ones are UTC) or RFC 3339 text as an aware datetime;
    ``None`` for anything else, including unparseable text."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str) and value:
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None


LAST_MINUTE_OF_DAY = 23 * 60 + 59


def clock_minutes(clock: str) -> int:
    """``"HH:MM"`` (a stop's local time) as minutes since midnight."""
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def clock_text(minute: int) -> str:
    """Minutes since midnight as ``"HH:MM"``, kept within the day (00:00 to 23:59)."""
    minute = max(0, min(LAST_MINUTE_OF_DAY, minute))
    return f"{minute // 60:02d}:{minute % 60:02d}"
