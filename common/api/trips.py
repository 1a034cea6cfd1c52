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
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from common.api import routing
from common.api.http import JsonResult, read_json_body
from common.foundation.auth import Caller, verify_caller
from common.foundation.clients import Lazy
from common.foundation.config import Settings
from common.foundation.errors import InvalidRequest, MethodNotAllowed
from common.foundation.log import get_logger
from common.foundation.times import utc_now
from common.services.trips import access, editing, listing, share_links, sharing, store
from common.services.trips.ics import trip_calendar
from common.services.trips.models import ReplanOptions, Trip, _problems_from
from common.services.trips.sharing import ShareList, ShareRequest
from common.services.trips.users import FirebaseUsers, UserDirectory

if TYPE_CHECKING:
    import flask
    from google.cloud import firestore

    from common.services.planning.service import PlanningDeps

logger = get_logger(__name__)

__all__ = ["ReplanRequest", "ShareList", "ShareRequest", "TripsDeps", "default_deps", "handle"]


class ReplanRequest(ReplanOptions):
    """Re-plan a day: the whole day, or with ``from`` only the rest of it from where and when the traveller is;
    ``keep`` and ``skip`` name stops of the day by place id. Locked stops keep their place and times."""


@dataclass(frozen=True)
class TripsDeps:
    settings: Settings
    firestore: firestore.Client
    users: UserDirectory
    planning: Callable[[], PlanningDeps]
    clock: Callable[[], dt.datetime] = utc_now


@dataclass(frozen=True)
class Call:
    """One request to a trip route: the caller, the route, and the trip as read once (``None``: none or not
    theirs; each handler authorizes its action before it reads a body)."""

    request: flask.Request
    caller: Caller
    route: routing.Route
    trip: Trip | None
    deps: TripsDeps

    def authorized(self, action: access.Action) -> Trip:
        access.authorize(self.trip, self.caller.uid, action)
        assert self.trip is not None
        return self.trip

    def body(self, model: type[BaseModel], what: str) -> Any:
        body = read_json_body(self.request, self.deps.settings.max_request_bytes)
        if not isinstance(body, dict):
            details = [{"field": "body", "message": "not an object"}]
            raise InvalidRequest("the body must be a JSON object", details=details)
        try:
            return model.model_validate(body)
        except ValidationError as error:
            raise InvalidRequest(f"the {what} is not valid", details=_problems_from(error)) from None

    def has_body(self) -> bool:
        return bool(self.request.content_length) or bool(self.request.headers.get("Transfer-Encoding"))


# ----- plumbing -------------------------------------------------------------------------------------------------


def raw_path(request: flask.Request) -> str:
    """The path as sent (``%2F`` still encoded) when the server keeps it (gunicorn: ``RAW_URI``; werkzeug:
    ``REQUEST_URI``), else the decoded path."""
    for key in ("RAW_URI", "REQUEST_URI"):
        value = request.environ.get(key)
        if isinstance(value, str) and value.startswith("/"):
            return value
    return request.path


def _etag(trip: Trip) -> dict[str, str]:
    return {"ETag": f'"{trip.version}"'}


# ----- handlers, one per method and route -----------------------------------------------------------------------


def read_trip(call: Call) -> JsonResult:
    trip = call.authorized("read")
    return JsonResult(trip.api_view(), headers=_etag(trip))


def export_calendar(call: Call) -> JsonResult:
    trip = call.authorized("read")
    calendar = trip_calendar(trip, default_time_zone=call.deps.settings.default_timezone)
    disposition = f'attachment; filename="trip-{trip.id}.ics"'
    return JsonResult(
        calendar, content_type="text/calendar", headers={"Content-Disposition": disposition, **_etag(trip)}
    )


def edit_trip(call: Call) -> JsonResult:
    trip = call.authorized("edit")
    if_match = editing.version_from_if_match(call.request.headers.get("If-Match"))
    body = read_json_body(call.request, call.deps.settings.max_request_bytes)
    patch, version = editing.parse_patch(body, trip, call.deps.settings, if_match)
    updated = editing.apply_edit(call.deps.firestore, trip.id, call.caller.uid, patch, version, call.deps.clock())
    return JsonResult(updated.api_view(), headers=_etag(updated))


def delete_trip(call: Call) -> JsonResult:
    trip = call.authorized("delete")
    store.delete_trip(call.deps.firestore, trip.id)
    return JsonResult(None, status=204)


def share_trip(call: Call) -> JsonResult:
    trip = call.authorized("share")
    body = call.body(ShareRequest, "share request")
    deps = call.deps
    shares = sharing.share_trip(deps.firestore, deps.users, trip.id, call.caller.uid, body, deps.clock())
    return JsonResult(shares.model_dump(mode="json"))


def unshare_trip(call: Call) -> JsonResult:
    trip = call.authorized("share")
    assert call.route.share_uid is not None
    sharing.unshare_trip(call.deps.firestore, trip.id, call.caller.uid, call.route.share_uid, call.deps.clock())
    return JsonResult(None, status=204)


def list_links(call: Call) -> JsonResult:
    trip = share_links.authorize_links(call.trip, call.caller.uid)
    return JsonResult(share_links.list_links(call.deps.firestore, trip).model_dump(mode="json"))


def create_link(call: Call) -> JsonResult:
    trip = share_links.authorize_links(call.trip, call.caller.uid)
    body = call.body(share_links.LinkRequest, "link request") if call.has_body() else share_links.LinkRequest()
    deps = call.deps
    created = share_links.create_link(deps.firestore, deps.settings, trip, call.caller.uid, body, deps.clock())
    return JsonResult(created.model_dump(mode="json"), status=201, headers={"Cache-Control": "no-store"})


def revoke_link(call: Call) -> JsonResult:
    trip = share_links.authorize_links(call.trip, call.caller.uid)
    assert call.route.link_id is not None
    share_links.revoke_link(call.deps.firestore, trip, call.route.link_id)
    return JsonResult(None, status=204)


def replan_day(call: Call) -> JsonResult:
    from common.api.async_planning import accept_replan_request, async_enabled, prefers_async
    from common.services.planning.replan import replan_day as replan

    trip = call.authorized("replan")
    assert call.route.day_number is not None
    body = call.body(ReplanRequest, "request") if call.has_body() else ReplanRequest()
    options = ReplanOptions.model_validate(body.model_dump(by_alias=True))
    wishes = options.wishes
    if prefers_async(call.request) and async_enabled(call.deps.settings):  # 202; plan_worker re-plans the day
        return accept_replan_request(
            call.deps.planning(), call.deps.settings, trip, call.caller.uid, call.route.day_number, wishes, options
        )
    updated = replan(call.deps.planning(), trip, call.caller.uid, call.route.day_number, wishes, options)
    return JsonResult(updated.api_view(), headers=_etag(updated))


Handler = Callable[[Call], JsonResult]
HANDLERS: dict[tuple[str, routing.RouteKind], Handler] = {
    ("GET", "trip"): read_trip,
    ("GET", "ics"): export_calendar,
    ("PATCH", "trip"): edit_trip,
    ("DELETE", "trip"): delete_trip,
    ("POST", "replan"): replan_day,
    ("POST", "share"): share_trip,
    ("DELETE", "unshare"): unshare_trip,
    ("GET", "links"): list_links,
    ("POST", "links"): create_link,
    ("DELETE", "link"): revoke_link,
}


def handle(request: flask.Request, deps: TripsDeps) -> JsonResult:
    """Authenticate, route, read the trip once, then the route's handler (which authorizes before any body)."""
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
    trip = store.read_trip(deps.firestore, route.trip_id)
    return HANDLERS[(request.method, route.kind)](Call(request, caller, route, trip, deps))


def _build_default_deps() -> TripsDeps:
    from common.foundation.clients import firestore_client
    from common.foundation.config import get_settings
    from common.services.planning.service import default_deps

    return TripsDeps(
        settings=get_settings(), firestore=firestore_client.get(), users=FirebaseUsers(), planning=default_deps.get
    )


default_deps: Lazy[TripsDeps] = Lazy(_build_default_deps)
"""The process's dependencies (clients are built lazily, once per instance)."""
