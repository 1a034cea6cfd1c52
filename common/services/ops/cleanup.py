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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from common.foundation.collection_names import EXPIRING
from common.foundation.config import Settings
from common.foundation.log import get_logger
from common.foundation.queries import RangeOp, field_value, pages
from common.foundation.times import as_utc
from common.services.trips import store
from common.services.trips.models import Failure

if TYPE_CHECKING:
    from google.cloud import firestore
    from google.cloud.firestore_v1.base_document import DocumentSnapshot

    Snapshot = DocumentSnapshot[Any]

logger = get_logger(__name__)
ACTIVE = {"status": "active"}
PLANNING = {"status": "planning"}

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


def _field(snapshot: Snapshot, path: str) -> Any:
    return field_value(snapshot.to_dict() or {}, path)


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
            *[functools.partial(self.delete_expired, name) for name in EXPIRING],
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
        last_active = as_utc(_field(session, "last_active_at"))
        return _field(session, "status") == "active" and (last_active is None or last_active >= self.live_after)

    def _ended(self, reason: str) -> dict[str, Any]:
        return {"status": "expired", "ended_at": self.now, "reason": reason}

    def _process(
        self,
        kind: str,
        query: str,
        decide: Callable[[Snapshot], Decision],
        *,
        values: dict[str, Any] | None = None,
        before: dt.datetime,
    ) -> None:
        """Apply ``decide`` to the documents of the registered ``query`` whose range field is before ``before``."""
        bound: list[tuple[RangeOp, Any]] = [("<", before)]
        for page in pages(self.client, query, self.policy.batch_size, values=values, ranges=bound):
            self.report.add(kind, apply_in_transaction(self.client, page, decide))
            if self.budget.spent:
                self.report.complete = False
                return
        self.report.add(kind, 0)

    def expire_idle_sessions(self) -> None:
        def decide(session: Snapshot) -> Decision:
            last_active = as_utc(_field(session, "last_active_at"))
            if self._is_live(session) or last_active is None or last_active >= self.idle_before:
                return None
            return self._ended("idle")

        self._process("sessions_idle", "active_sessions", decide, values=ACTIVE, before=self.idle_before)

    def expire_old_sessions(self) -> None:
        def decide(session: Snapshot) -> Decision:
            created = as_utc(_field(session, "created_at"))
            if self._is_live(session) or created is None or created >= self.created_before:
                return None
            return self._ended("max_duration")

        self._process("sessions_too_old", "old_sessions", decide, values=ACTIVE, before=self.created_before)

    def enforce_session_limit(self) -> None:
        by_user: dict[str, list[Snapshot]] = {}
        for page in pages(self.client, "active_sessions", self.policy.batch_size, values=ACTIVE):
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
        timed_out = Failure(code="planning_timed_out", message=TIMED_OUT_MESSAGE)

        def decide(trip: Snapshot) -> Decision:
            if _field(trip, "status") != "planning":
                return None
            times = [as_utc(_field(trip, "updated_at")), as_utc(_field(trip, "progress.updated_at"))]
            known = [moment for moment in times if moment is not None]
            if known and max(known) >= self.live_after:
                return None
            return store.failed_fields(timed_out, self.now)

        self._process("trips_timed_out", "stuck_planning_trips", decide, values=PLANNING, before=self.live_after)

    # ----- expired documents ------------------------------------------------------------------------------------

    def delete_expired(self, collection: str) -> None:
        def decide(document: Snapshot) -> Decision:
            expire_at = as_utc(_field(document, "expire_at"))
            return DELETE if expire_at is not None and expire_at < self.now else None

        self._process(f"deleted_{collection}", f"expired_{collection}", decide, before=self.now)


def run_cleanup(
    client: firestore.Client,
    settings: Settings,
    now: dt.datetime,
    clock: Callable[[], float] = time.monotonic,
) -> CleanupReport:
    return SessionCleaner(client, CleanupPolicy.from_settings(settings), now, clock).run()
