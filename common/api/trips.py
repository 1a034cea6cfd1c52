"""The ``trips`` HTTP function: list, read, export, edit, re-plan, share and delete trips.

Every route authenticates the caller (Firebase ID token), checks the ids in the path, reads the trip and decides
what the caller may do (``common.services.trips.access``) *before* reading or validating a body. Writes that depend on
what was read happen in a transaction that reads again (optimistic ``version`` for edits). See ``common.api.routing``
for the paths.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from common.api import routing
from common.api.http import JsonResult, read_json_body
from common.foundation import collection_names
from common.foundation.auth import Caller, verify_caller
from common.foundation.clients import Lazy
from common.foundation.config import Settings
from common.foundation.errors import Conflict, InvalidRequest, MethodNotAllowed, NotFound
from common.foundation.log import get_logger
from common.foundation.queries import build_query
from common.foundation.times import utc_now
from common.services.trips import access, admission, day_inputs, editing, listing, store
from common.services.trips.ics import trip_calendar
from common.services.trips.models import _problems_from
from common.services.trips.users import FirebaseUsers, UserDirectory

if TYPE_CHECKING:
    import flask
    from google.cloud import firestore

    from common.services.planning.service import PlanningDeps

logger = get_logger(__name__)
MAX_SHARES = 50
MAX_WISHES = 300
DELETE_BATCH = 400
_UID = r"^[A-Za-z0-9_\-]{1,128}$"

Uid = Annotated[str, StringConstraints(pattern=_UID)]
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
]


class ShareRequest(BaseModel):
    """Share a trip with a user named by ``uid`` or by ``email`` (exactly one)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    uid: Uid | None = None
    email: Email | None = None
    role: Literal["viewer", "editor"]

    @model_validator(mode="after")
    def _one_user(self) -> ShareRequest:
        if (self.uid is None) == (self.email is None):
            raise ValueError("give exactly one of uid and email")
        return self


class ShareList(BaseModel):
    trip_id: str
    shared_with: dict[str, Literal["viewer", "editor"]]


class ReplanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    wishes: str | None = Field(None, max_length=MAX_WISHES, description="What this day should have, in a few words")


@dataclass(frozen=True)
class TripsDeps:
    settings: Settings
    firestore: firestore.Client
    users: UserDirectory
    planning: Callable[[], PlanningDeps]
    clock: Callable[[], dt.datetime] = utc_now


# ----- plumbing -------------------------------------------------------------------------------------------------


def raw_path(request: flask.Request) -> str:
    """The path as sent (``%2F`` still encoded) when the server keeps it (gunicorn: ``RAW_URI``; werkzeug:
    ``REQUEST_URI``), else the decoded path."""
    for key in ("RAW_URI", "REQUEST_URI"):
        value = request.environ.get(key)
        if isinstance(value, str) and value.startswith("/"):
            return value
    return request.path


def _trip_ref(client: firestore.Client, trip_id: str) -> firestore.DocumentReference:
    return client.collection(collection_names.TRIPS).document(trip_id)


def _load(client: firestore.Client, trip_id: str) -> dict[str, Any] | None:
    snapshot = _trip_ref(client, trip_id).get()
    return (snapshot.to_dict() or {}) if snapshot.exists else None


def _etag(trip: dict[str, Any]) -> dict[str, str]:
    return {"ETag": f'"{trip.get("version")}"'}


def _validated(model: type[BaseModel], body: Any, what: str) -> Any:
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object", details=[{"field": "body", "message": "not an object"}])
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise InvalidRequest(f"the {what} is not valid", details=_problems_from(error)) from None


def _has_body(request: flask.Request) -> bool:
    return bool(request.content_length) or bool(request.headers.get("Transfer-Encoding"))


# ----- routes ---------------------------------------------------------------------------------------------------


def handle(request: flask.Request, deps: TripsDeps) -> JsonResult:
    """Authenticate, route, authorize, then do what the route says."""
    caller = verify_caller(request.headers.get("Authorization"))
    route = routing.match_route(routing.split_path(raw_path(request)))
    allowed = routing.METHODS[route.kind]
    if request.method not in allowed:
        raise MethodNotAllowed(
            details=[f"{request.method} is not allowed here; use {', '.join(allowed)}"],
            headers={"Allow": ", ".join(allowed)},
        )
    if route.kind == "list":
        params = listing.parse_list_params({key: request.args.get(key, "") for key in request.args})
        return JsonResult(listing.list_trips(deps.firestore, caller.uid, params))
    assert route.trip_id is not None
    trip = _load(deps.firestore, route.trip_id)
    if route.kind == "ics":
        access.authorize(trip, caller.uid, "read")
        assert trip is not None
        calendar = trip_calendar(trip, default_time_zone=deps.settings.default_timezone)
        return JsonResult(
            calendar,
            content_type="text/calendar",
            headers={"Content-Disposition": f'attachment; filename="trip-{route.trip_id}.ics"', **_etag(trip)},
        )
    if route.kind == "trip" and request.method == "GET":
        access.authorize(trip, caller.uid, "read")
        assert trip is not None
        return JsonResult(store.trip_response(trip), headers=_etag(trip))
    if route.kind == "trip" and request.method == "PATCH":
        access.authorize(trip, caller.uid, "edit")
        return edit_trip(request, route.trip_id, caller, deps)
    if route.kind == "trip":
        access.authorize(trip, caller.uid, "delete")
        delete_trip(deps.firestore, route.trip_id)
        return JsonResult(None, status=204)
    if route.kind == "share":
        access.authorize(trip, caller.uid, "share")
        body = _validated(ShareRequest, read_json_body(request, deps.settings.max_request_bytes), "share request")
        return JsonResult(share_trip(deps, route.trip_id, caller, body))
    if route.kind == "unshare":
        access.authorize(trip, caller.uid, "share")
        assert route.share_uid is not None
        unshare_trip(deps, route.trip_id, caller, route.share_uid)
        return JsonResult(None, status=204)
    access.authorize(trip, caller.uid, "replan")
    assert trip is not None
    assert route.day_number is not None
    wishes = None
    if _has_body(request):
        wishes = _validated(ReplanRequest, read_json_body(request, deps.settings.max_request_bytes), "request").wishes
    updated = replan_day(deps, trip, caller, route.day_number, wishes)
    return JsonResult(updated, headers=_etag(updated))


def edit_trip(request: flask.Request, trip_id: str, caller: Caller, deps: TripsDeps) -> JsonResult:
    from google.cloud import firestore

    if_match = editing.version_from_if_match(request.headers.get("If-Match"))
    body = read_json_body(request, deps.settings.max_request_bytes)
    trip = _load(deps.firestore, trip_id)
    access.authorize(trip, caller.uid, "edit")
    assert trip is not None
    patch, version = editing.parse_patch(body, trip, deps.settings, if_match)
    ref = _trip_ref(deps.firestore, trip_id)

    @firestore.transactional
    def write(transaction: firestore.Transaction) -> None:
        snapshot = ref.get(transaction=transaction)
        current = (snapshot.to_dict() or {}) if snapshot.exists else None
        access.authorize(current, caller.uid, "edit")
        assert current is not None
        transaction.update(ref, editing.patch_fields(current, patch, version, deps.clock()))

    write(deps.firestore.transaction())
    updated = _load(deps.firestore, trip_id) or {}
    return JsonResult(store.trip_response(updated), headers=_etag(updated))


def delete_trip(client: firestore.Client, trip_id: str) -> None:
    """Delete the trip's ``ai_sessions`` (batched) and then the trip."""
    while True:
        sessions = list(
            build_query(client, "sessions_of_trip", values={"trip_id": trip_id}, limit=DELETE_BATCH).stream()
        )
        if not sessions:
            break
        batch = client.batch()
        for session in sessions:
            batch.delete(session.reference)
        batch.commit()
        if len(sessions) < DELETE_BATCH:
            break
    _trip_ref(client, trip_id).delete()


def _shares(trip: dict[str, Any]) -> dict[str, str]:
    shared = trip.get("shared_with") or {}
    uids = set(trip.get("shared_with_uids") or [])
    return {uid: role for uid, role in shared.items() if uid in uids and role in access.SHARE_ROLES}


def _write_shares(
    deps: TripsDeps, trip_id: str, caller: Caller, change: Callable[[dict[str, str]], None]
) -> dict[str, str]:
    """Apply ``change`` to the trip's shares in a transaction; keep ``shared_with`` and ``shared_with_uids`` in step."""
    from google.cloud import firestore

    ref = _trip_ref(deps.firestore, trip_id)
    result: dict[str, str] = {}

    @firestore.transactional
    def write(transaction: firestore.Transaction) -> None:
        snapshot = ref.get(transaction=transaction)
        current = (snapshot.to_dict() or {}) if snapshot.exists else None
        access.authorize(current, caller.uid, "share")
        assert current is not None
        shares = _shares(current)
        change(shares)
        transaction.update(ref, {"shared_with": shares, "shared_with_uids": sorted(shares), "updated_at": deps.clock()})
        result.update(shares)

    write(deps.firestore.transaction())
    return result


def share_trip(deps: TripsDeps, trip_id: str, caller: Caller, body: ShareRequest) -> dict[str, Any]:
    if body.uid is not None:
        uid: str | None = body.uid if deps.users.exists(body.uid) else None
    else:
        assert body.email is not None
        uid = deps.users.uid_for_email(str(body.email))
    if uid is None:
        raise NotFound("no such user", details=[{"field": "email" if body.email else "uid", "message": "no account"}])
    if uid == caller.uid:
        raise InvalidRequest(
            "the owner cannot share a trip with themselves", details=[{"field": "uid", "message": "is you"}]
        )

    def add(shares: dict[str, str]) -> None:
        if uid not in shares and len(shares) >= MAX_SHARES:
            raise Conflict(f"a trip can be shared with at most {MAX_SHARES} people")
        shares[uid] = body.role

    shares = _write_shares(deps, trip_id, caller, add)
    return ShareList.model_validate({"trip_id": trip_id, "shared_with": shares}).model_dump(mode="json")


def unshare_trip(deps: TripsDeps, trip_id: str, caller: Caller, uid: str) -> None:
    def remove(shares: dict[str, str]) -> None:
        shares.pop(uid, None)

    _write_shares(deps, trip_id, caller, remove)


def replan_day(
    deps: TripsDeps, trip: dict[str, Any], caller: Caller, day_number: int, wishes: str | None
) -> dict[str, Any]:
    """Re-plan day ``day_number`` (1-based) with the planner; counted against the plan quota."""
    from google.cloud import firestore

    from common.services.planning.replan import replan_trip_day

    days = trip.get("days") or []
    if trip.get("status") != "ready":
        raise Conflict("only a ready trip can be re-planned", details=[{"status": trip.get("status")}])
    if day_number > len(days):
        raise NotFound("no such day", details=[{"field": "day", "message": f"the trip has days 1 to {len(days)}"}])
    planning = deps.planning()
    now = deps.clock()
    trip_id = str(trip["id"])
    version = int(trip.get("version") or 0)
    session_id = admission.admit_planning(
        deps.firestore, user_id=caller.uid, trip_id=trip_id, kind="replan", settings=deps.settings, now=now
    )
    try:
        fields = replan_trip_day(caller.uid, trip, day_number - 1, wishes, planning)
    except Exception as error:
        admission.finish_session(
            deps.firestore, session_id, status="failed", now=deps.clock(), reason=getattr(error, "code", "internal")
        )
        raise
    ref = _trip_ref(deps.firestore, trip_id)
    replanned_date = str(fields["days"][day_number - 1]["date"])

    @firestore.transactional
    def write(transaction: firestore.Transaction) -> None:
        snapshot = ref.get(transaction=transaction)
        current = (snapshot.to_dict() or {}) if snapshot.exists else None
        access.authorize(current, caller.uid, "replan")
        assert current is not None
        if int(current.get("version") or 0) != version:
            raise Conflict("the trip changed while the day was re-planned; try again")
        enrichment = dict(current.get("enrichment") or {})
        hashes = dict(enrichment.get("day_hashes") or day_inputs.day_hashes(current.get("days") or []))
        # The planner computed the new day's legs and times: it is a baseline for enrichment, not an edit.
        hashes[replanned_date] = day_inputs.day_hash(fields["days"][day_number - 1])
        enrichment.update({"day_hashes": hashes, "transport": current.get("transport")})
        update = {**fields, "enrichment": enrichment, "version": version + 1, "updated_at": deps.clock()}
        transaction.update(ref, update)

    planner = fields.get("planner") or {}
    status: Literal["completed", "failed"] = "failed"
    try:
        write(deps.firestore.transaction())
        status = "completed"
    finally:
        admission.finish_session(
            deps.firestore,
            session_id,
            status=status,
            now=deps.clock(),
            provider=planner.get("provider"),
            model=planner.get("model"),
            usage=planner,
            reason=None if status == "completed" else "not stored",
        )
    return store.trip_response(_load(deps.firestore, trip_id) or {})


def _build_default_deps() -> TripsDeps:
    from common.foundation.clients import firestore_client
    from common.foundation.config import get_settings
    from common.services.planning.service import default_deps

    return TripsDeps(
        settings=get_settings(), firestore=firestore_client.get(), users=FirebaseUsers(), planning=default_deps.get
    )


default_deps: Lazy[TripsDeps] = Lazy(_build_default_deps)
"""The process's dependencies (clients are built lazily, once per instance)."""
