"""The ``cleanup_sessions`` job: end stale AI sessions, fail plannings that timed out, delete expired documents.

Each kind of work is a query for candidates (paged with ``where`` on its ordering field, since the Firestore
stand-in ignores cursors and offsets), then one transaction per page that re-reads every candidate and changes it
only if it still qualifies. So a plan in flight is never touched: a session touched within the planning timeout
(``AGENT_RESPONSE_TIMEOUT``) is live and is never ended, and a trip whose planning updated within that time stays
``planning``, even if it changed between the query and the write.

Kinds, in order:

- ``sessions_idle``: active sessions not touched for ``SESSION_IDLE_TIMEOUT`` (at least the planning timeout);
- ``sessions_too_old``: active sessions created more than ``SESSION_MAX_DURATION`` ago (unless live);
- ``sessions_over_limit``: beyond ``MAX_SESSIONS_PER_USER`` active sessions of one user, the least recently
  touched are ended first (live ones never);
- ``trips_timed_out``: trips still ``planning`` whose ``progress.updated_at`` and ``updated_at`` are older than the
  planning timeout become ``failed`` with ``failure.code = "planning_timed_out"``;
- ``deleted_<collection>``: documents whose ``expire_at`` has passed, in the Maps caches, ``quotas`` and
  ``ops_runs`` (TTL policies delete them too, but only within about a day).

Writes are bounded (``CLEANUP_BATCH_SIZE`` documents per transaction) and the run stops between pages once
``CLEANUP_TIME_BUDGET_SECONDS`` is spent (``complete`` is then false; the next run continues).
Ended sessions get ``status = "expired"``, ``ended_at`` and ``reason``.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from common.config import Settings
from common.log import get_logger

if TYPE_CHECKING:
    from google.cloud import firestore
    from google.cloud.firestore_v1.base_document import DocumentSnapshot
    from google.cloud.firestore_v1.query import Query

    Snapshot = DocumentSnapshot[Any]

logger = get_logger(__name__)

SESSIONS = "ai_sessions"
TRIPS = "trips"
EXPIRING_COLLECTIONS = ("places_cache", "maps_search_cache", "maps_route_cache", "quotas", "ops_runs")
TIMED_OUT_MESSAGE = "Planning took too long and was stopped. Please try again."

DELETE = object()  # a decision: delete the document
Decision = dict[str, Any] | object | None


@dataclass(frozen=True)
class CleanupPolicy:
    idle_seconds: int
    max_duration_seconds: int
    max_sessions_per_user: int
    planning_timeout_seconds: int
    batch_size: int
    time_budget_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> CleanupPolicy:
        return cls(
            idle_seconds=settings.session_idle_timeout,
            max_duration_seconds=settings.session_max_duration,
            max_sessions_per_user=settings.max_sessions_per_user,
            planning_timeout_seconds=settings.agent_response_timeout,
            batch_size=settings.cleanup_batch_size,
            time_budget_seconds=settings.cleanup_time_budget_seconds,
        )


@dataclass
class CleanupReport:
    counts: dict[str, int] = field(default_factory=dict)
    complete: bool = True

    def add(self, kind: str, count: int) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + count

    def as_dict(self) -> dict[str, Any]:
        return {"counts": dict(self.counts), "complete": self.complete}


class _Budget:
    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._deadline = clock() + seconds

    @property
    def spent(self) -> bool:
        return self._clock() >= self._deadline


def _utc(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return None


def _field(snapshot: Snapshot, path: str) -> Any:
    data = snapshot.to_dict() or {}
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def pages(base: Query, order_field: str, batch_size: int) -> Iterator[list[Snapshot]]:
    """Pages of ``base`` ordered by ``order_field``, advancing with ``where(order_field >= last)`` and skipping
    documents already seen at that value (no cursors: the stand-in ignores them; this works on Firestore too)."""
    from google.cloud.firestore_v1.base_query import FieldFilter

    cursor: Any = None
    seen_at_cursor: set[str] = set()
    while True:
        query = base
        if cursor is not None:
            query = query.where(filter=FieldFilter(order_field, ">=", cursor))
        limit = batch_size + len(seen_at_cursor)
        snapshots = list(query.order_by(order_field).limit(limit).stream())
        fresh = [snapshot for snapshot in snapshots if snapshot.id not in seen_at_cursor]
        if not fresh:
            return
        yield fresh
        last = _field(fresh[-1], order_field)
        if last != cursor:
            seen_at_cursor = set()
        cursor = last
        seen_at_cursor |= {snapshot.id for snapshot in fresh if _field(snapshot, order_field) == last}
        if len(snapshots) < limit or cursor is None:
            return


def apply_in_transaction(
    client: firestore.Client, snapshots: list[Snapshot], decide: Callable[[Snapshot], Decision]
) -> int:
    """Re-read ``snapshots`` in one transaction; update or delete each as ``decide`` says; return how many changed."""
    from google.cloud import firestore

    references = [snapshot.reference for snapshot in snapshots]
    if not references:
        return 0

    @firestore.transactional
    def apply(transaction: firestore.Transaction) -> int:
        changed = 0
        for current in transaction.get_all(references):
            if not current.exists:
                continue
            decision = decide(current)
            if decision is None:
                continue
            if decision is DELETE:
                transaction.delete(current.reference)
            elif isinstance(decision, dict):
                transaction.update(current.reference, decision)
            changed += 1
        return changed

    result: int = apply(client.transaction())
    return result


class SessionCleaner:
    """One cleanup run at ``now``."""

    def __init__(
        self,
        client: firestore.Client,
        policy: CleanupPolicy,
        now: dt.datetime,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.policy = policy
        self.now = now
        self.budget = _Budget(policy.time_budget_seconds, clock)
        self.report = CleanupReport()
        self.live_after = now - dt.timedelta(seconds=policy.planning_timeout_seconds)
        self.idle_before = now - dt.timedelta(seconds=max(policy.idle_seconds, policy.planning_timeout_seconds))
        self.created_before = now - dt.timedelta(seconds=policy.max_duration_seconds)

    def run(self) -> CleanupReport:
        steps: list[Callable[[], None]] = [
            self.expire_idle_sessions,
            self.expire_old_sessions,
            self.enforce_session_limit,
            self.fail_timed_out_trips,
            *[functools.partial(self.delete_expired, name) for name in EXPIRING_COLLECTIONS],
        ]
        for step in steps:
            if self.budget.spent:
                self.report.complete = False
                break
            step()
        logger.info("cleanup finished", extra={"fields": self.report.as_dict()})
        return self.report

    # ----- sessions ---------------------------------------------------------------------------------------------

    def _is_live(self, session: Snapshot) -> bool:
        last_active = _utc(_field(session, "last_active_at"))
        return _field(session, "status") == "active" and (last_active is None or last_active >= self.live_after)

    def _ended(self, reason: str) -> dict[str, Any]:
        return {"status": "expired", "ended_at": self.now, "reason": reason}

    def _process(self, kind: str, base: Query, order_field: str, decide: Callable[[Snapshot], Decision]) -> None:
        for page in pages(base, order_field, self.policy.batch_size):
            self.report.add(kind, apply_in_transaction(self.client, page, decide))
            if self.budget.spent:
                self.report.complete = False
                return
        self.report.add(kind, 0)

    def _active_sessions(self) -> Query:
        from google.cloud.firestore_v1.base_query import FieldFilter

        return self.client.collection(SESSIONS).where(filter=FieldFilter("status", "==", "active"))

    def expire_idle_sessions(self) -> None:
        from google.cloud.firestore_v1.base_query import FieldFilter

        def decide(session: Snapshot) -> Decision:
            last_active = _utc(_field(session, "last_active_at"))
            if self._is_live(session) or last_active is None or last_active >= self.idle_before:
                return None
            return self._ended("idle")

        base = self._active_sessions().where(filter=FieldFilter("last_active_at", "<", self.idle_before))
        self._process("sessions_idle", base, "last_active_at", decide)

    def expire_old_sessions(self) -> None:
        from google.cloud.firestore_v1.base_query import FieldFilter

        def decide(session: Snapshot) -> Decision:
            created = _utc(_field(session, "created_at"))
            if self._is_live(session) or created is None or created >= self.created_before:
                return None
            return self._ended("max_duration")

        base = self._active_sessions().where(filter=FieldFilter("created_at", "<", self.created_before))
        self._process("sessions_too_old", base, "created_at", decide)

    def enforce_session_limit(self) -> None:
        by_user: dict[str, list[Snapshot]] = {}
        for page in pages(self._active_sessions(), "last_active_at", self.policy.batch_size):
            for session in page:
                user = _field(session, "user_id")
                if isinstance(user, str):
                    by_user.setdefault(user, []).append(session)
        excess: list[Snapshot] = []
        for sessions in by_user.values():
            surplus = len(sessions) - self.policy.max_sessions_per_user
            if surplus <= 0:
                continue
            # ``pages`` yields oldest first: end the least recently touched ones that are not live.
            excess.extend([session for session in sessions if not self._is_live(session)][:surplus])

        def decide(session: Snapshot) -> Decision:
            return None if self._is_live(session) or _field(session, "status") != "active" else self._ended("limit")

        for start in range(0, len(excess), self.policy.batch_size):
            if self.budget.spent:
                self.report.complete = False
                return
            batch = excess[start : start + self.policy.batch_size]
            self.report.add("sessions_over_limit", apply_in_transaction(self.client, batch, decide))
        self.report.add("sessions_over_limit", 0)

    # ----- trips ------------------------------------------------------------------------------------------------

    def fail_timed_out_trips(self) -> None:
        from google.cloud import firestore
        from google.cloud.firestore_v1.base_query import FieldFilter

        def decide(trip: Snapshot) -> Decision:
            if _field(trip, "status") != "planning":
                return None
            times = [_utc(_field(trip, "updated_at")), _utc(_field(trip, "progress.updated_at"))]
            known = [moment for moment in times if moment is not None]
            if known and max(known) >= self.live_after:
                return None
            return {
                "status": "failed",
                "failure": {"code": "planning_timed_out", "message": TIMED_OUT_MESSAGE},
                "progress": {"stage": "done", "updated_at": self.now},
                "version": firestore.Increment(1),
                "updated_at": self.now,
            }

        base = (
            self.client.collection(TRIPS)
            .where(filter=FieldFilter("status", "==", "planning"))
            .where(filter=FieldFilter("updated_at", "<", self.live_after))
        )
        self._process("trips_timed_out", base, "updated_at", decide)

    # ----- expired documents ------------------------------------------------------------------------------------

    def delete_expired(self, collection: str) -> None:
        from google.cloud.firestore_v1.base_query import FieldFilter

        def decide(document: Snapshot) -> Decision:
            expire_at = _utc(_field(document, "expire_at"))
            return DELETE if expire_at is not None and expire_at < self.now else None

        base = self.client.collection(collection).where(filter=FieldFilter("expire_at", "<", self.now))
        self._process(f"deleted_{collection}", base, "expire_at", decide)


def run_cleanup(
    client: firestore.Client,
    settings: Settings,
    now: dt.datetime,
    clock: Callable[[], float] = time.monotonic,
) -> CleanupReport:
    return SessionCleaner(client, CleanupPolicy.from_settings(settings), now, clock).run()
