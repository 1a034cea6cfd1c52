"""Per-user planning quotas and AI sessions, kept in Firestore so every instance sees the same counts.

A planning is admitted in one transaction that reads the user's quota document and their live sessions, refuses
with ``QuotaExceeded`` (429 + Retry-After) when a limit is reached, and otherwise counts the plan and opens an
``ai_sessions`` document. Nothing is started or spent for a refused request.

Concurrent admissions of one user are serialised by the transaction (its reads: the quota document and the query of
live sessions); tests/integration/trips/test_concurrency.py runs them from many threads on the patched stand-in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from common.foundation.collection_names import QUOTAS, SESSIONS
from common.foundation.config import Settings
from common.foundation.errors import QuotaExceeded
from common.foundation.queries import build_query
from common.foundation.times import as_utc

if TYPE_CHECKING:
    from google.cloud import firestore

MAX_TOOL_LOG = 20
QUOTA_DOC_TTL = dt.timedelta(days=2)
SessionKind = Literal["plan", "replan"]
SessionStatus = Literal["completed", "failed"]


@dataclass(frozen=True)
class Limits:
    per_minute: int
    per_day: int
    in_flight: int
    live_session_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            per_minute=settings.plan_rate_per_minute,
            per_day=settings.plan_rate_per_day,
            in_flight=settings.max_sessions_per_user,
            live_session_seconds=settings.agent_response_timeout,
        )


def _minute_start(now: dt.datetime) -> dt.datetime:
    return now.replace(second=0, microsecond=0)


def _seconds_to_next_day(now: dt.datetime) -> int:
    tomorrow = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return int((tomorrow - now).total_seconds()) + 1


def check_quota(
    quota: dict[str, Any], live_sessions: int, limits: Limits, now: dt.datetime
) -> dict[str, Any] | QuotaExceeded:
    """Pure decision: the quota document after counting one more plan, or the refusal to raise."""
    if live_sessions >= limits.in_flight:
        return QuotaExceeded(
            f"at most {limits.in_flight} plannings may run at once",
            retry_after_seconds=min(30, limits.live_session_seconds),
            details=[{"limit": "in_flight", "max": limits.in_flight}],
        )
    minute = _minute_start(now)
    day = now.date().isoformat()
    minute_count = quota.get("minute_count", 0) if as_utc(quota.get("minute_start")) == minute else 0
    day_count = quota.get("day_count", 0) if quota.get("day") == day else 0
    if day_count >= limits.per_day:
        return QuotaExceeded(
            f"at most {limits.per_day} plans a day",
            retry_after_seconds=_seconds_to_next_day(now),
            details=[{"limit": "per_day", "max": limits.per_day}],
        )
    if minute_count >= limits.per_minute:
        return QuotaExceeded(
            f"at most {limits.per_minute} plans a minute",
            retry_after_seconds=60 - now.second,
            details=[{"limit": "per_minute", "max": limits.per_minute}],
        )
    return {
        "minute_start": minute,
        "minute_count": minute_count + 1,
        "day": day,
        "day_count": day_count + 1,
        "updated_at": now,
        "expire_at": now + QUOTA_DOC_TTL,
    }


def admit_planning(
    client: firestore.Client,
    *,
    user_id: str,
    trip_id: str,
    kind: SessionKind,
    settings: Settings,
    now: dt.datetime,
) -> str:
    """Count one planning against the user's quotas and open its session; return the session id."""
    from google.cloud import firestore

    limits = Limits.from_settings(settings)
    quota_ref = client.collection(QUOTAS).document(user_id)
    session_ref = client.collection(SESSIONS).document()
    active_query = build_query(client, "active_sessions_of_user", values={"user_id": user_id, "status": "active"})
    live_after = now - dt.timedelta(seconds=limits.live_session_seconds)

    @firestore.transactional
    def admit(transaction: firestore.Transaction) -> None:
        quota_snapshot = quota_ref.get(transaction=transaction)
        quota = (quota_snapshot.to_dict() or {}) if quota_snapshot.exists else {}
        live = 0
        for session in transaction.get(active_query):
            last_active = as_utc(session.get("last_active_at"))
            if last_active is not None and last_active > live_after:
                live += 1
        decision = check_quota(quota, live, limits, now)
        if isinstance(decision, QuotaExceeded):
            raise decision
        transaction.set(quota_ref, decision)
        transaction.set(
            session_ref,
            {
                "user_id": user_id,
                "trip_id": trip_id,
                "kind": kind,
                "status": "active",
                "created_at": now,
                "last_active_at": now,
                "expires_at": now + dt.timedelta(seconds=settings.session_max_duration),
                "model": None,
                "provider": None,
                "usage": {},
                "tool_log": [],
            },
        )

    admit(client.transaction())
    return str(session_ref.id)


def touch_session(client: firestore.Client, session_id: str, now: dt.datetime) -> None:
    client.collection(SESSIONS).document(session_id).update({"last_active_at": now})


def finish_session(
    client: firestore.Client,
    session_id: str,
    *,
    status: SessionStatus,
    now: dt.datetime,
    provider: str | None = None,
    model: str | None = None,
    usage: dict[str, Any] | None = None,
    tool_log: list[dict[str, Any]] | None = None,
    reason: str | None = None,
) -> None:
    """Close a session with what the planning used (the tool log is bounded)."""
    client.collection(SESSIONS).document(session_id).update(
        {
            "status": status,
            "last_active_at": now,
            "ended_at": now,
            "provider": provider,
            "model": model,
            "usage": usage or {},
            "tool_log": (tool_log or [])[:MAX_TOOL_LOG],
            "reason": reason,
        }
    )
