"""The trips API's part of the OpenAPI document (``common/api/openapi.py`` merges it in)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from common.api.trips import ReplanRequest, ShareList, ShareRequest
from common.services.trips.editing import TripPatch
from common.services.trips.listing import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, STATUSES, TripList
from common.services.trips.models import ShareLink
from common.services.trips.share_links import CreatedLink, LinkList, LinkRequest

Mode = Literal["validation", "serialization"]
# Operations an app calls to change or spend something: a Firebase ID token and an App Check token, both.
APP_CHECK_SECURITY: list[dict[str, list[str]]] = [{"firebase": [], "appCheck": []}]
MODELS: tuple[tuple[type[BaseModel], Mode], ...] = (
    (TripPatch, "validation"),
    (ShareRequest, "validation"),
    (ReplanRequest, "validation"),
    (TripList, "serialization"),
    (ShareList, "serialization"),
    (LinkRequest, "validation"),
    (CreatedLink, "serialization"),
    (LinkList, "serialization"),
    (ShareLink, "serialization"),
)


# The local stack's default ports (scripts/stack; STACK_FUNCTIONS_PORT moves them): one server per function.
LOCAL_PORTS = {"health": 8201, "plan_trip": 8202, "user_data": 8205, "trips": 8206, "trip_page": 8209}


def local_servers(function: str) -> list[dict[str, Any]]:
    """The function on the local stack: its own port, answering the same paths as deployed."""
    return [{"url": f"http://127.0.0.1:{LOCAL_PORTS[function]}", "description": f"local stack: {function}"}]


def _json(ref: str, model: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": ref.format(model=model)}}}


def _path_parameter(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema or {"type": "string", "maxLength": 1500},
    }


def trips_paths(ref: str, errors: dict[str, Any]) -> dict[str, Any]:
    """Paths of the ``trips`` function. Deployed, each path follows the function's URL
    (``https://REGION-PROJECT.cloudfunctions.net/trips/...``); the leading ``/trips`` segment is optional."""

    def error(description: str) -> dict[str, Any]:
        return {"description": description, "content": _json(ref, "ErrorEnvelope")}

    errors = {
        **errors,
        "403": error("The caller may see the trip but not do this (viewers edit nothing; only the owner shares)"),
        "404": error("No such trip, or not one the caller may see (the same answer), or no such route"),
        "409": error("Conflict: a stale version, or the trip is not ready"),
    }
    trip_id = _path_parameter("trip_id", "The trip's id")
    read_errors = {code: errors[code] for code in ("400", "401", "404", "405", "500")}
    write_errors = {code: errors[code] for code in sorted(errors) if code not in ("429",)}
    etag = {"ETag": {"schema": {"type": "string"}, "description": 'The trip version, as "N" (send it as If-Match)'}}
    trip = {"description": "The trip", "headers": etag, "content": _json(ref, "Trip")}
    no_content = {"description": "Done; no body"}
    return {
        "/trips": {
            "get": {
                "operationId": "listTrips",
                "summary": "The caller's trips and the trips shared with them, newest first",
                "parameters": [
                    {
                        "name": "page_size",
                        "in": "query",
                        "schema": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_PAGE_SIZE,
                            "default": DEFAULT_PAGE_SIZE,
                        },
                    },
                    {"name": "page_token", "in": "query", "schema": {"type": "string", "maxLength": 512}},
                    {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(STATUSES)}},
                ],
                "responses": {
                    "200": {"description": "A page of trips", "content": _json(ref, "TripList")},
                    **read_errors,
                },
            }
        },
        "/trips/{trip_id}": {
            "parameters": [trip_id],
            "get": {"operationId": "getTrip", "summary": "One trip", "responses": {"200": trip, **read_errors}},
            "patch": {
                "operationId": "editTrip",
                "security": APP_CHECK_SECURITY,
                "summary": "Edit title, notes or the stops of some days (owner or editor); then enriched by a trigger",
                "parameters": [
                    {"name": "If-Match", "in": "header", "schema": {"type": "string"}, "description": '"N": version'}
                ],
                "requestBody": {"required": True, "content": _json(ref, "TripPatch")},
                "responses": {"200": trip, **write_errors},
            },
            "delete": {
                "operationId": "deleteTrip",
                "security": APP_CHECK_SECURITY,
                "summary": "Delete the trip and its AI sessions (owner only)",
                "responses": {"204": no_content, **write_errors},
            },
        },
        "/trips/{trip_id}.ics": {
            "parameters": [trip_id],
            "get": {
                "operationId": "getTripCalendar",
                "summary": "The trip as an iCalendar file: one event per stop and per transfer between cities, each in "
                "its city's local time and time zone",
                "responses": {
                    "200": {
                        "description": "iCalendar (RFC 5545)",
                        "content": {"text/calendar": {"schema": {"type": "string"}}},
                    },
                    **read_errors,
                },
            },
        },
        "/trips/{trip_id}/days/{day}/replan": {
            "parameters": [
                trip_id,
                _path_parameter("day", "Day number, 1 for the first day", {"type": "integer", "minimum": 1}),
            ],
            "post": {
                "operationId": "replanDay",
                "security": APP_CHECK_SECURITY,
                "summary": "Re-plan one day (owner or editor); other days stay; counted against the plan quota",
                "description": "The whole day, or with `from` only the rest of it from where and when the traveller "
                "is (the stops behind stay as they were); `keep` and `skip` name stops of the day by place id; "
                "locked stops keep their place and times (409 naming those that cannot be kept). The day's "
                "`changes` say what changed.",
                "parameters": [
                    {
                        "name": "Prefer",
                        "in": "header",
                        "required": False,
                        "description": "respond-async (RFC 7240): answer 202 at once with the trip, its replanning "
                        "queued; watch trips/{id} until replanning.status is done or failed",
                        "schema": {"type": "string"},
                    }
                ],
                "requestBody": {"required": False, "content": _json(ref, "ReplanRequest")},
                "responses": {
                    "200": trip,
                    "202": {
                        "description": "Prefer: respond-async: the trip, its replanning queued",
                        "content": _json(ref, "Trip"),
                    },
                    **errors,
                },
            },
        },
        "/trips/{trip_id}/share": {
            "parameters": [trip_id],
            "post": {
                "operationId": "shareTrip",
                "security": APP_CHECK_SECURITY,
                "summary": "Share with a user by uid or email, as viewer or editor (owner only)",
                "requestBody": {"required": True, "content": _json(ref, "ShareRequest")},
                "responses": {
                    "200": {"description": "Who the trip is shared with", "content": _json(ref, "ShareList")},
                    **write_errors,
                },
            },
        },
        "/trips/{trip_id}/share/{uid}": {
            "parameters": [
                trip_id,
                _path_parameter("uid", "The user to stop sharing with", {"type": "string", "maxLength": 128}),
            ],
            "delete": {
                "operationId": "unshareTrip",
                "security": APP_CHECK_SECURITY,
                "summary": "Stop sharing with a user (owner only)",
                "responses": {"204": no_content, **write_errors},
            },
        },
        "/trips/{trip_id}/links": {
            "parameters": [trip_id],
            "get": {
                "operationId": "listShareLinks",
                "summary": "The trip's read-only share links, oldest first (owner; editors when link_sharing is "
                "editors); tokens are never shown again",
                "responses": {
                    "200": {"description": "The links", "content": _json(ref, "LinkList")},
                    **{code: errors[code] for code in ("400", "401", "403", "404", "405", "500")},
                },
            },
            "post": {
                "operationId": "createShareLink",
                "security": APP_CHECK_SECURITY,
                "summary": "Create a read-only link anyone can open without signing in (owner; editors when "
                "link_sharing is editors); the answer is the only time the token is shown",
                "requestBody": {"required": False, "content": _json(ref, "LinkRequest")},
                "responses": {
                    "201": {
                        "description": "The new link, its token and page URL",
                        "content": _json(ref, "CreatedLink"),
                    },
                    **write_errors,
                },
            },
        },
        "/trips/{trip_id}/links/{link_id}": {
            "parameters": [
                trip_id,
                _path_parameter("link_id", "The link's id, as listed", {"type": "string", "pattern": "^[0-9a-f]{64}$"}),
            ],
            "delete": {
                "operationId": "revokeShareLink",
                "security": APP_CHECK_SECURITY,
                "summary": "Revoke a share link: its page answers 404 at once",
                "responses": {"204": no_content, **write_errors},
            },
        },
    }


def trip_page_paths(ref: str) -> dict[str, Any]:
    """The public page of a share link (the ``trip_page`` function): HTML, no token needed. Deployed it answers at
    ``https://REGION-PROJECT.cloudfunctions.net/trip_page/t/{token}`` (the link's ``url``); locally at ``/t/{token}``
    too."""
    html = {"text/html": {"schema": {"type": "string"}}}
    no_store = {"Cache-Control": {"schema": {"type": "string"}, "description": "no-store"}}
    return {
        "/trip_page/t/{token}": {
            "parameters": [_path_parameter("token", "The link's token", {"type": "string", "maxLength": 200})],
            "get": {
                "operationId": "getSharedTripPage",
                "summary": "The shared trip as one HTML page (read-only; no sign-in; nothing about the owner)",
                "security": [],
                "responses": {
                    "200": {
                        "description": "The trip's page",
                        "headers": {"Content-Security-Policy": {"schema": {"type": "string"}}},
                        "content": html,
                    },
                    "404": {
                        "description": "The same page for a token that is unknown, revoked or expired (a path the "
                        "framework cannot route, such as one holding a newline, gets the JSON error envelope)",
                        "headers": no_store,
                        "content": {**html, **_json(ref, "ErrorEnvelope")},
                    },
                    "405": {"description": "Method not allowed", "content": {"application/json": {}}},
                    "429": {
                        "description": "Too many unknown tokens from this client: a page, with Retry-After",
                        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
                        "content": html,
                    },
                },
            },
        }
    }
