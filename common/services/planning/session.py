"""One planning session, the same for a new plan and a re-planned day: admitted against the user's quotas, kept
alive while it progresses, and closed as completed or failed with the same failure codes on both paths."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from common.foundation.config import Settings
from common.foundation.errors import AppError, InternalError, backing_service_unavailable
from common.services.trips import admission, store
from common.services.trips.admission import SessionKind
from common.services.trips.models import Failure, PlannerReport, ProgressStage

if TYPE_CHECKING:
    from google.cloud import firestore


@dataclass(frozen=True)
class FailureCause:
    """What an exception means for the trip: the failure to show, and whether Firestore itself is down."""

    failure: Failure
    expected: bool  # an ``AppError``: a known condition, logged as a warning rather than with its trace
    firestore_down: bool


def failure_cause(error: Exception) -> FailureCause:
    """The one mapping of planning errors to failure codes (an unexpected error discloses nothing)."""
    if isinstance(error, AppError):
        return FailureCause(Failure(code=error.code, message=error.message), expected=True, firestore_down=False)
    unavailable = backing_service_unavailable(error)
    if unavailable is not None:
        failure = Failure(code=unavailable.code, message=unavailable.message)
        return FailureCause(failure, expected=False, firestore_down=True)
    failure = Failure(code=InternalError.code, message=InternalError.default_message)
    return FailureCause(failure, expected=False, firestore_down=False)


@dataclass
class PlanningSession:
    """An admitted planning of trip ``trip_id`` (its ``ai_sessions`` document is ``session_id``)."""

    client: firestore.Client
    session_id: str
    trip_id: str
    kind: SessionKind
    clock: Callable[[], dt.datetime]

    @classmethod
    def admit(
        cls,
        client: firestore.Client,
        settings: Settings,
        clock: Callable[[], dt.datetime],
        *,
        user_id: str,
        trip_id: str,
        kind: SessionKind,
    ) -> PlanningSession:
        """Count one planning against the user's quotas (``QuotaExceeded`` before anything starts) and open it."""
        session_id = admission.admit_planning(
            client, user_id=user_id, trip_id=trip_id, kind=kind, settings=settings, now=clock()
        )
        return cls(client=client, session_id=session_id, trip_id=trip_id, kind=kind, clock=clock)

    def progress(self, stage: ProgressStage) -> None:
        """A new plan shows its stage on the trip (apps watch it); every planning keeps its session alive."""
        now = self.clock()
        if self.kind == "plan":
            store.set_progress(self.client, self.trip_id, stage, now)
        admission.touch_session(self.client, self.session_id, now)

    def finish(self, report: PlannerReport | None, tool_log: list[dict[str, Any]] | None = None) -> None:
        self._close("completed", report, tool_log, reason=None)

    def fail(
        self, failure: Failure, report: PlannerReport | None, tool_log: list[dict[str, Any]] | None = None
    ) -> None:
        self._close("failed", report, tool_log, reason=failure.code)

    def _close(
        self,
        status: admission.SessionStatus,
        report: PlannerReport | None,
        tool_log: list[dict[str, Any]] | None,
        reason: str | None,
    ) -> None:
        admission.finish_session(
            self.client,
            self.session_id,
            status=status,
            now=self.clock(),
            provider=report.provider if report else None,
            model=report.model if report else None,
            usage=report.model_dump(mode="python") if report else {},
            tool_log=tool_log,
            reason=reason,
        )
