"""The scheduled jobs as the HTTP adapters call them: authenticate the scheduler, find the tick, run once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from common.foundation.config import Settings
from common.services.ops.backup import AdminClient, run_logical_export, start_managed_export
from common.services.ops.cleanup import run_cleanup
from common.services.ops.runs import claim_run, finish_run, release_run, schedule_time_from
from common.services.ops.scheduler_auth import TokenVerifier, google_oidc_verifier, verify_scheduler

if TYPE_CHECKING:
    import google.cloud.storage as storage
    from google.cloud import firestore

CLEANUP_JOB = "cleanup_sessions"


def cleanup_job(
    authorization: str | None,
    schedule_header: str | None,
    settings: Settings,
    client: firestore.Client,
    now: dt.datetime,
    verifier: TokenVerifier = google_oidc_verifier,
) -> dict[str, Any]:
    """One cleanup run for this tick; a repeated delivery of the same tick does nothing (``skipped``)."""
    verify_scheduler(authorization, settings, verifier)
    schedule_time = schedule_time_from(schedule_header, now)
    base = {"job": CLEANUP_JOB, "schedule_time": schedule_time.isoformat()}
    if not claim_run(client, CLEANUP_JOB, schedule_time, now):
        return {**base, "skipped": True, "reason": "this schedule time already ran"}
    try:
        report = run_cleanup(client, settings, now)
    except Exception:
        release_run(client, CLEANUP_JOB, schedule_time)
        raise
    result = report.as_dict()
    finish_run(client, CLEANUP_JOB, schedule_time, dt.datetime.now(dt.UTC), result)
    return {**base, "skipped": False, **result}


def backup_job(
    authorization: str | None,
    schedule_header: str | None,
    settings: Settings,
    client: firestore.Client,
    storage_client: Callable[[], storage.Client],
    admin_client: Callable[[], AdminClient],
    now: dt.datetime,
    verifier: TokenVerifier = google_oidc_verifier,
) -> dict[str, Any]:
    """Start (managed) or write (logical) this tick's export, once per tick."""
    verify_scheduler(authorization, settings, verifier)
    schedule_time = schedule_time_from(schedule_header, now)
    if settings.backup_mode == "managed":
        result = start_managed_export(client, admin_client(), settings, schedule_time, now)
    else:
        result = run_logical_export(client, storage_client(), settings, schedule_time, now)
    return {"job": "backup_export", "mode": settings.backup_mode, **result}
