"""Once-only runs of scheduled jobs.

Cloud Scheduler delivers at least once, so a job may be called twice for the same tick. Each run claims
``ops_runs/{job}-{schedule time}`` with ``create()``, which fails when the document exists: the second delivery sees
the claim and does nothing. A run that fails releases its claim so the scheduler's retry can run it again.
Claims carry ``expire_at`` (TTL policy in firestore.indexes.json) and disappear after ``RUN_RECORD_TTL``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from common.foundation.collection_names import OPS_RUNS
from common.foundation.errors import InvalidRequest
from common.foundation.times import as_utc

if TYPE_CHECKING:
    from google.cloud import firestore

RUN_RECORD_TTL = dt.timedelta(days=30)
SCHEDULE_TIME_HEADER = "X-CloudScheduler-ScheduleTime"
_SAFE_KEY = re.compile(r"[^0-9A-Za-z_.:-]")


def schedule_time_from(header: str | None, now: dt.datetime) -> dt.datetime:
    """The tick a delivery belongs to: the scheduler's header (RFC 3339), or ``now`` to the second for a manual call."""
    if not header:
        return now.replace(microsecond=0)
    text = header.strip()
    parsed = as_utc(text)
    if parsed is None:
        raise InvalidRequest(f"{SCHEDULE_TIME_HEADER} is not an RFC 3339 time", details=[text[:64]])
    return parsed.astimezone(dt.UTC)


def schedule_key(schedule_time: dt.datetime) -> str:
    """A document-id-safe, sortable form of the tick, e.g. ``2026-01-02T03:05:00Z``."""
    text = schedule_time.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if schedule_time.microsecond:
        text += f".{schedule_time.microsecond:06d}"
    return _SAFE_KEY.sub("_", text + "Z")


def claim_run(client: firestore.Client, job: str, schedule_time: dt.datetime, now: dt.datetime) -> bool:
    """Claim this tick of ``job``; ``False`` when another delivery already claimed it."""
    from google.api_core import exceptions

    ref = client.collection(OPS_RUNS).document(f"{job}-{schedule_key(schedule_time)}")
    try:
        ref.create(
            {
                "job": job,
                "schedule_time": schedule_time,
                "status": "running",
                "started_at": now,
                "expire_at": now + RUN_RECORD_TTL,
            }
        )
    except exceptions.AlreadyExists:
        return False
    return True


def finish_run(
    client: firestore.Client, job: str, schedule_time: dt.datetime, now: dt.datetime, result: dict[str, Any]
) -> None:
    client.collection(OPS_RUNS).document(f"{job}-{schedule_key(schedule_time)}").update(
        {"status": "done", "finished_at": now, "result": result}
    )


def release_run(client: firestore.Client, job: str, schedule_time: dt.datetime) -> None:
    """Forget a failed run's claim so a retry of the same tick runs again."""
    client.collection(OPS_RUNS).document(f"{job}-{schedule_key(schedule_time)}").delete()
