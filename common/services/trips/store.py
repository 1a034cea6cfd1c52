"""Trip documents in Firestore (``trips/{id}``): created at once as ``planning``, updated with progress, and ended
``ready`` or ``failed``; apps watch them with a Firestore listener."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import TYPE_CHECKING, Any

from common.foundation.collection_names import TRIPS
from common.services.trips.models import ProgressStage, Trip, TripRequest

if TYPE_CHECKING:
    from google.cloud import firestore

QUICK_WRITE_TIMEOUT_SECONDS = 3.0
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def new_trip_id() -> str:
    """20 random characters, URL-safe (like Firestore's auto ids, without upper case)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(20))


def planning_document(trip_id: str, user_id: str, request: TripRequest, now: dt.datetime) -> dict[str, Any]:
    """The trip as first stored: what was asked, no days yet."""
    return {
        "id": trip_id,
        "user_id": user_id,
        "status": "planning",
        "version": 1,
        "destination": None,
        "start_date": request.start_date.isoformat(),
        "end_date": request.end_date.isoformat(),
        "travelers": request.travelers,
        "pace": request.pace,
        "transport": request.transport,
        "language": request.language,
        "request": request.model_dump(mode="json"),
        "days": [],
        "budget": None,
        "dropped": [],
        "warnings": [],
        "planner": None,
        "progress": {"stage": "queued", "updated_at": now},
        "failure": None,
        "shared_with": {},  # uid -> "viewer" | "editor"
        "shared_with_uids": [],  # the same uids, queryable with array_contains
        "created_at": now,
        "updated_at": now,
    }


def create_trip(client: firestore.Client, document: dict[str, Any]) -> None:
    client.collection(TRIPS).document(document["id"]).create(document)


def set_progress(client: firestore.Client, trip_id: str, stage: ProgressStage, now: dt.datetime) -> None:
    client.collection(TRIPS).document(trip_id).update(
        {"progress": {"stage": stage, "updated_at": now}, "updated_at": now}
    )


def complete_trip(
    client: firestore.Client, planning: dict[str, Any], fields: dict[str, Any], now: dt.datetime
) -> dict[str, Any]:
    """Store the planned trip as ``ready`` (fields: destination, days, budget, dropped, warnings, planner) and return
    the stored document. ``planning`` is the document as created: nothing else writes a trip while it is planned,
    so the result is known without reading it back."""
    update = {
        **fields,
        "status": "ready",
        "progress": {"stage": "done", "updated_at": now},
        "version": planning["version"] + 1,
        "updated_at": now,
    }
    client.collection(TRIPS).document(planning["id"]).update(update)
    return {**planning, **update}


def fail_trip(
    client: firestore.Client,
    trip_id: str,
    *,
    code: str,
    message: str,
    now: dt.datetime,
    extra: dict[str, Any],
    quick: bool = False,
) -> None:
    """Mark a trip ``failed`` with a reason an app can show; ``extra`` may carry the planner report.

    ``quick``: one attempt with a short timeout instead of the client's retries (Firestore is known to be failing).
    """
    from google.cloud import firestore

    options: dict[str, Any] = {"retry": None, "timeout": QUICK_WRITE_TIMEOUT_SECONDS} if quick else {}
    client.collection(TRIPS).document(trip_id).update(
        {
            **extra,
            "status": "failed",
            "failure": {"code": code, "message": message[:500]},
            "progress": {"stage": "done", "updated_at": now},
            "version": firestore.Increment(1),
            "updated_at": now,
        },
        **options,
    )


def trip_response(document: dict[str, Any]) -> dict[str, Any]:
    """The API form of a stored trip (validated against the contract; server-only fields left out)."""
    return Trip.model_validate(document).model_dump(mode="json")
