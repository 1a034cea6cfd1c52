"""Trip documents in Firestore (``trips/{id}``): the one place where a typed ``Trip`` becomes a Firestore dict and
back. A trip is created at once as ``planning``, updated with progress, and ended ``ready`` or ``failed``; apps
watch it with a Firestore listener.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from common.foundation.batched_writes import delete_in_batches
from common.foundation.collection_names import SHARE_LINKS, TRIPS
from common.foundation.queries import build_query
from common.foundation.times import as_utc
from common.services.trips.models import (
    DocumentPart,
    Dropped,
    Failure,
    PlannerReport,
    Progress,
    ProgressStage,
    ShareLink,
    Trip,
    TripRequest,
)

if TYPE_CHECKING:
    from google.cloud import firestore

QUICK_WRITE_TIMEOUT_SECONDS = 3.0
DELETE_BATCH = 400
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def new_trip_id() -> str:
    """20 random characters, URL-safe (like Firestore's auto ids, without upper case)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(20))


# ----- the Firestore boundary -----------------------------------------------------------------------------------


def _firestore_value(value: Any) -> Any:
    """Firestore has no date type: calendar dates are stored as ``YYYY-MM-DD`` text (instants stay timestamps)."""
    if isinstance(value, dict):
        return {key: _firestore_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_firestore_value(item) for item in value]
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def document_of(part: DocumentPart) -> dict[str, Any]:
    """The Firestore form of any part of a trip (a day, a stop, the enrichment report...)."""
    return _firestore_value(part.model_dump(mode="python"))  # type: ignore[no-any-return]


def to_document(trip: Trip) -> dict[str, Any]:
    """The Firestore form of a trip (every field, server-only ones included)."""
    return _firestore_value(trip.model_dump(mode="python"))  # type: ignore[no-any-return]


def fields_of(trip: Trip, names: Iterable[str]) -> dict[str, Any]:
    """The Firestore form of some top-level fields of ``trip``, for an update."""
    document = trip.model_dump(mode="python", include=set(names))
    return _firestore_value(document)  # type: ignore[no-any-return]


def from_document(data: Mapping[str, Any]) -> Trip:
    """A stored trip as its model (``pydantic.ValidationError`` when the document is not a trip)."""
    return Trip.model_validate(dict(data))


def trip_ref(client: firestore.Client, trip_id: str) -> firestore.DocumentReference:
    return client.collection(TRIPS).document(trip_id)


def read_trip(client: firestore.Client, trip_id: str, transaction: firestore.Transaction | None = None) -> Trip | None:
    """The stored trip, or ``None`` when there is none (read in ``transaction`` when given)."""
    snapshot = trip_ref(client, trip_id).get(transaction=transaction)
    return from_document(snapshot.to_dict() or {}) if snapshot.exists else None


TripChange = Callable[[Trip | None], tuple[Trip, Iterable[str]]]


def update_trip(client: firestore.Client, trip_id: str, change: TripChange) -> Trip:
    """Read the trip in a transaction, let ``change`` decide (it may raise: nothing is written) the updated trip and
    the names of the fields to write, write them, and return the updated trip (no read back)."""
    from google.cloud import firestore

    ref = trip_ref(client, trip_id)
    updated: list[Trip] = []

    @firestore.transactional
    def write(transaction: firestore.Transaction) -> None:
        trip, names = change(read_trip(client, trip_id, transaction))
        transaction.update(ref, fields_of(trip, names))
        updated[:] = [trip]

    write(client.transaction())
    return updated[0]


def delete_trip(client: firestore.Client, trip_id: str) -> None:
    """Delete the trip's share links and ``ai_sessions`` (batched), and then the trip."""
    delete_links_of_trip(client, trip_id)
    while True:
        sessions = list(
            build_query(client, "sessions_of_trip", values={"trip_id": trip_id}, limit=DELETE_BATCH).stream()
        )
        delete_in_batches(client, [session.reference for session in sessions])
        if len(sessions) < DELETE_BATCH:
            break
    trip_ref(client, trip_id).delete()


# ----- the planning lifecycle -----------------------------------------------------------------------------------


def planning_trip(trip_id: str, user_id: str, request: TripRequest, now: dt.datetime) -> Trip:
    """The trip as first stored: what was asked, no days yet."""
    return Trip(
        id=trip_id,
        user_id=user_id,
        status="planning",
        version=1,
        destination=None,
        start_date=request.start_date,
        end_date=request.end_date,
        travelers=request.travelers,
        pace=request.pace,
        transport=request.transport,
        language=request.language,
        request=request,
        days=[],
        budget=None,
        dropped=[],
        warnings=[],
        planner=None,
        progress=Progress(stage="queued", updated_at=now),
        failure=None,
        created_at=now,
        updated_at=now,
    )


def queued_trip(trip_id: str, user_id: str, request: TripRequest, now: dt.datetime) -> Trip:
    """The trip as first stored by an asynchronous plan: ``queued`` until the worker claims it."""
    return planning_trip(trip_id, user_id, request, now).model_copy(update={"status": "queued"})


ClaimOutcome = Literal["claimed", "reclaimed", "busy", "done", "missing"]


def claim_decision(trip: Trip | None, now: dt.datetime, lease: dt.timedelta) -> ClaimOutcome:
    """Pure: what a delivery of the trip's planning task may do. ``claimed``: it was ``queued``; ``reclaimed``: it is
    ``planning`` but nothing updated it for ``lease`` (the worker that claimed it died); ``busy``: another delivery
    is planning it; ``done``: it is ``ready`` or ``failed``; ``missing``: it was deleted."""
    if trip is None:
        return "missing"
    if trip.status == "queued":
        return "claimed"
    if trip.status != "planning":
        return "done"
    last = max(as_utc(trip.updated_at) or now, as_utc(trip.progress.updated_at) or now)
    return "reclaimed" if now - last >= lease else "busy"


def claim_for_planning(
    client: firestore.Client, trip_id: str, now: dt.datetime, lease: dt.timedelta
) -> tuple[ClaimOutcome, Trip | None]:
    """In one transaction: decide (``claim_decision``) and, when claimed, store the trip ``planning`` with one more
    ``planning_attempts``; return the outcome and the trip (as stored after the claim when claimed)."""
    from google.cloud import firestore

    ref = trip_ref(client, trip_id)
    result: list[tuple[ClaimOutcome, Trip | None]] = []

    @firestore.transactional
    def claim(transaction: firestore.Transaction) -> None:
        trip = read_trip(client, trip_id, transaction)
        outcome = claim_decision(trip, now, lease)
        if trip is not None and outcome in ("claimed", "reclaimed"):
            trip = trip.model_copy(
                update={"status": "planning", "planning_attempts": trip.planning_attempts + 1, "updated_at": now}
            )
            transaction.update(ref, fields_of(trip, ("status", "planning_attempts", "updated_at")))
        result[:] = [(outcome, trip)]

    claim(client.transaction())
    return result[0]


def replan_claim_decision(trip: Trip | None, now: dt.datetime, lease: dt.timedelta) -> ClaimOutcome:
    """``claim_decision`` for the trip's asynchronous re-plan of a day (``trip.replanning``)."""
    replanning = trip.replanning if trip is not None else None
    if trip is None:
        return "missing"
    if replanning is None or replanning.status in ("done", "failed"):
        return "done"
    if replanning.status == "queued":
        return "claimed"
    return "reclaimed" if now - (as_utc(replanning.updated_at) or now) >= lease else "busy"


def claim_replan(
    client: firestore.Client, trip_id: str, now: dt.datetime, lease: dt.timedelta
) -> tuple[ClaimOutcome, Trip | None]:
    """``claim_for_planning`` for a re-plan: ``replanning.status`` ``queued`` -> ``planning`` once."""
    from google.cloud import firestore

    ref = trip_ref(client, trip_id)
    result: list[tuple[ClaimOutcome, Trip | None]] = []

    @firestore.transactional
    def claim(transaction: firestore.Transaction) -> None:
        trip = read_trip(client, trip_id, transaction)
        outcome = replan_claim_decision(trip, now, lease)
        if trip is not None and trip.replanning is not None and outcome in ("claimed", "reclaimed"):
            replanning = trip.replanning.model_copy(
                update={"status": "planning", "attempts": trip.replanning.attempts + 1, "updated_at": now}
            )
            trip = trip.model_copy(update={"replanning": replanning})
            transaction.update(ref, fields_of(trip, ("replanning",)))
        result[:] = [(outcome, trip)]

    claim(client.transaction())
    return result[0]


def create_trip(client: firestore.Client, trip: Trip) -> None:
    trip_ref(client, trip.id).create(to_document(trip))


def set_progress(client: firestore.Client, trip_id: str, stage: ProgressStage, now: dt.datetime) -> None:
    progress = Progress(stage=stage, updated_at=now).model_dump(mode="python")
    trip_ref(client, trip_id).update({"progress": progress, "updated_at": now})


READY_FIELDS = ("destination", "cities", "days", "budget", "dropped", "warnings", "tips", "planner", "solver")


def complete_trip(client: firestore.Client, planning: Trip, planned: Trip, now: dt.datetime) -> Trip:
    """Store ``planned`` (the planning trip with the ``READY_FIELDS`` filled in) as ``ready`` and return it.

    ``planning`` is the trip as created: nothing else writes a trip while it is planned, so the result is known
    without reading it back."""
    ready = planned.model_copy(
        update={
            "status": "ready",
            "progress": Progress(stage="done", updated_at=now),
            "version": planning.version + 1,
            "updated_at": now,
        }
    )
    trip_ref(client, planning.id).update(
        fields_of(ready, (*READY_FIELDS, "status", "progress", "version", "updated_at"))
    )
    return ready


def failed_fields(
    failure: Failure,
    now: dt.datetime,
    *,
    planner: PlannerReport | None = None,
    dropped: list[Dropped] | None = None,
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    """The update that ends a trip ``failed`` (Firestore form), with what the planning knew when it failed."""
    from google.cloud import firestore

    fields: dict[str, Any] = {
        "status": "failed",
        "failure": Failure(code=failure.code, message=failure.message[:500]).model_dump(mode="python"),
        "progress": Progress(stage="done", updated_at=now).model_dump(mode="python"),
        "version": firestore.Increment(1),
        "updated_at": now,
    }
    if planner is not None:
        fields["planner"] = planner.model_dump(mode="python")
    if dropped is not None:
        fields["dropped"] = [item.model_dump(mode="python") for item in dropped]
    if warnings is not None:
        fields["warnings"] = list(warnings)
    return fields


def fail_trip(
    client: firestore.Client,
    trip_id: str,
    failure: Failure,
    *,
    now: dt.datetime,
    planner: PlannerReport | None = None,
    dropped: list[Dropped] | None = None,
    warnings: list[str] | None = None,
    quick: bool = False,
) -> None:
    """Mark a trip ``failed`` with a reason an app can show (see ``failed_fields``).

    ``quick``: one attempt with a short timeout instead of the client's retries (Firestore is known to be failing).
    """
    options: dict[str, Any] = {"retry": None, "timeout": QUICK_WRITE_TIMEOUT_SECONDS} if quick else {}
    fields = failed_fields(failure, now, planner=planner, dropped=dropped, warnings=warnings)
    trip_ref(client, trip_id).update(fields, **options)


# ----- share links (``share_links/{digest of the token}``) ---------------------------------------------------------


def link_ref(client: firestore.Client, link_id: str) -> firestore.DocumentReference:
    return client.collection(SHARE_LINKS).document(link_id)


def _link_document(link: ShareLink) -> dict[str, Any]:
    """A link with ``expire_at`` (the field of the TTL policy and of ``cleanup_sessions``) equal to its expiry, so an
    expired link is deleted some time after it stopped working; one without expiry stays."""
    return {**link.model_dump(mode="python"), "expire_at": link.expires_at}


def create_link(client: firestore.Client, link: ShareLink, limit: int) -> bool:
    """Store a new link unless its trip already has ``limit`` links; whether it was stored. One transaction reads
    the trip's links and creates the link, so creations at the same time cannot pass the cap together (one commits,
    the others' read changed: they are retried and count again). Each retry follows another creation or a revocation
    of the trip's links, hence the attempts allowed."""
    from google.cloud import firestore

    query = build_query(client, "links_of_trip", values={"trip_id": link.trip_id}, limit=limit)
    stored = False

    @firestore.transactional
    def create(transaction: firestore.Transaction) -> None:
        nonlocal stored
        stored = False
        if len(list(transaction.get(query))) >= limit:
            return
        transaction.create(link_ref(client, link.id), _link_document(link))
        stored = True

    create(client.transaction(max_attempts=2 * limit + 5))
    return stored


def read_link(client: firestore.Client, link_id: str) -> ShareLink | None:
    """The stored link, or ``None`` (one document read, whether it exists or not)."""
    snapshot = link_ref(client, link_id).get()
    return ShareLink.model_validate(snapshot.to_dict() or {}) if snapshot.exists else None


def links_of_trip(client: firestore.Client, trip_id: str, limit: int | None = None) -> list[ShareLink]:
    """The trip's links, oldest first."""
    snapshots = build_query(client, "links_of_trip", values={"trip_id": trip_id}, limit=limit).stream()
    links = [ShareLink.model_validate(snapshot.to_dict() or {}) for snapshot in snapshots]
    return sorted(links, key=lambda link: (as_utc(link.created_at), link.id))


def delete_link(client: firestore.Client, link_id: str) -> None:
    link_ref(client, link_id).delete()


def delete_links_of_trip(client: firestore.Client, trip_id: str) -> int:
    """Delete every link of the trip (batched); how many went."""
    deleted = 0
    while True:
        snapshots = list(build_query(client, "links_of_trip", values={"trip_id": trip_id}, limit=DELETE_BATCH).stream())
        deleted += delete_in_batches(client, [snapshot.reference for snapshot in snapshots])
        if len(snapshots) < DELETE_BATCH:
            return deleted


def links_created_by(client: firestore.Client, uid: str) -> list[ShareLink]:
    """The links ``uid`` created (on any trip), for a user's export and deletion."""
    snapshots = build_query(client, "links_created_by", values={"created_by": uid}).stream()
    return [ShareLink.model_validate(snapshot.to_dict() or {}) for snapshot in snapshots]
