"""The OpenAPI 3.1 document of the HTTP functions, generated from the pydantic models that implement the contract.

``python -m scripts.openapi`` writes it to ``openapi.json``; a test fails when the committed file differs from what
the models say, and integration tests validate real responses against it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from common.api.openapi_paths import APP_CHECK_SECURITY, local_servers, trip_page_paths, trips_paths
from common.api.openapi_paths import MODELS as TRIPS_MODELS
from common.services.health import HealthReport
from common.services.ops.user_data import UserDataDeletion, UserDataExport
from common.services.trips.models import Trip, TripRequest

REF = "#/components/schemas/{model}"


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[Any]
    request_id: str


class ErrorEnvelope(BaseModel):
    error: ErrorBody


DEPLOYED_SERVER: dict[str, Any] = {
    "url": "https://{region}-{project}.cloudfunctions.net",
    "description": "Deployed: every path starts with its function's name (plan_trip, trips, user_data, health, "
    "trip_page)",
    "variables": {
        "region": {"default": "us-central1", "description": "The functions' region"},
        "project": {"default": "your-project-id", "description": "The Google Cloud project id"},
    },
}


def _json(model: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": REF.format(model=model)}}}


def _schemas(*models: tuple[type[BaseModel], str]) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model, mode in models:
        schema = model.model_json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
        for name, definition in schema.pop("$defs", {}).items():
            if schemas.setdefault(name, definition) != definition:
                raise ValueError(f"two different schemas are named {name}")
        schemas[model.__name__] = schema
    return schemas


def _error(description: str, retry_after: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorEnvelope")}}},
    }
    if retry_after:
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}}
    return response


def build_document(version: str = "0.1.0") -> dict[str, Any]:
    schemas = _schemas(
        (TripRequest, "validation"),
        (Trip, "serialization"),
        (ErrorEnvelope, "serialization"),
        *TRIPS_MODELS,
        (HealthReport, "serialization"),
        (UserDataExport, "serialization"),
        (UserDataDeletion, "serialization"),
    )
    common_errors = {
        "400": _error("Invalid request: every problem is listed in details"),
        "401": _error(
            "Missing, malformed, expired or revoked Firebase ID token; or, on operations that require App Check, "
            "a missing or invalid X-Firebase-AppCheck token (code app_check_failed)"
        ),
        "405": _error("Method not allowed"),
        "413": _error("Body too large"),
        "415": _error("Body is not JSON"),
        "429": _error("Quota exceeded", retry_after=True),
        "500": _error("Internal error (nothing internal is disclosed)"),
        "503": _error("An upstream service is unavailable; the trip is stored as failed", retry_after=False),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Trip planner backend",
            "version": version,
            "description": "HTTP Cloud Functions of the trip planner. Each function has its own URL: the path "
            "names the function, as in https://REGION-PROJECT.cloudfunctions.net/plan_trip.",
        },
        "servers": [DEPLOYED_SERVER],
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "firebase": {"type": "http", "scheme": "bearer", "bearerFormat": "Firebase ID token"},
                "appCheck": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Firebase-AppCheck",
                    "description": "A Firebase App Check token of the calling app (the Firebase client SDKs' "
                    "getToken(), or getLimitedUseToken() where replay protection applies), verified with "
                    "firebase-admin when APP_CHECK_ENFORCE is on (the production default). Missing or invalid: 401 "
                    "with code app_check_failed.",
                },
            },
        },
        "security": [{"firebase": []}],
        "paths": {
            "/health": {
                "servers": [DEPLOYED_SERVER, *local_servers("health")],
                "get": {
                    "operationId": "getHealth",
                    "summary": "The deployment's configuration summary and a Firestore probe",
                    "security": [],
                    "responses": {
                        "200": {"description": "Serving", "content": _json("HealthReport")},
                        "503": {"description": "Firestore does not answer", "content": _json("HealthReport")},
                    },
                },
            },
            "/health/openapi.json": {
                "servers": [DEPLOYED_SERVER, *local_servers("health")],
                "get": {
                    "operationId": "getOpenApiDocument",
                    "summary": "This document (served by the health function)",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}},
                },
            },
            "/user_data": {
                "servers": [DEPLOYED_SERVER, *local_servers("user_data")],
                "get": {
                    "operationId": "exportUserData",
                    "security": APP_CHECK_SECURITY,
                    "summary": "Export everything stored about the caller (a signed URL, or the data inline)",
                    "responses": {
                        "200": {"description": "Where the export is", "content": _json("UserDataExport")},
                        **{code: common_errors[code] for code in ("401", "405", "500", "503")},
                    },
                },
                "delete": {
                    "operationId": "deleteUserData",
                    "security": APP_CHECK_SECURITY,
                    "summary": "Delete the caller's account and all of its data (send ?confirm=true)",
                    "parameters": [
                        {
                            "name": "confirm",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string", "enum": ["true"]},
                        }
                    ],
                    "responses": {
                        "200": {"description": "What was deleted", "content": _json("UserDataDeletion")},
                        **{code: common_errors[code] for code in ("400", "401", "405", "500", "503")},
                    },
                },
            },
            "/plan_trip": {
                "servers": [DEPLOYED_SERVER, *local_servers("plan_trip")],
                "post": {
                    "operationId": "planTrip",
                    "summary": "Plan a trip and store it in trips/{id}",
                    "description": "Needs a limited-use App Check token (getLimitedUseToken()) in X-Firebase-AppCheck, "
                    "a new one for each call: the token is consumed (replay protection), and a token used before is "
                    "refused with 401 app_check_failed. A multi-city trip names its cities in `destinations` (each "
                    "with its nights and lodging): a body that breaks the contract (zero nights, nights that do not "
                    "add up, more than MAX_TRIP_CITIES cities) is refused before any Maps call; then unknown cities "
                    "and moves too long for one travel day are listed together in one 400. Nothing is stored.",
                    "security": APP_CHECK_SECURITY,
                    "parameters": [
                        {
                            "name": "Prefer",
                            "in": "header",
                            "required": False,
                            "description": "respond-async (RFC 7240): answer 202 with the queued trip at once; the "
                            "plan follows in trips/{id} (watch it with a Firestore listener)",
                            "schema": {"type": "string"},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": REF.format(model="TripRequest")}}},
                    },
                    "responses": {
                        "201": {
                            "description": "The planned trip",
                            "headers": {"Location": {"schema": {"type": "string"}}},
                            "content": {"application/json": {"schema": {"$ref": REF.format(model="Trip")}}},
                        },
                        "202": {
                            "description": "Prefer: respond-async: the trip, queued; the worker plans it",
                            "headers": {
                                "Location": {"schema": {"type": "string"}},
                                "Preference-Applied": {"schema": {"type": "string"}},
                            },
                            "content": {"application/json": {"schema": {"$ref": REF.format(model="Trip")}}},
                        },
                        **common_errors,
                    },
                },
            },
            **{
                path: {"servers": [DEPLOYED_SERVER, *local_servers("trips")], **item}
                for path, item in trips_paths(REF, common_errors).items()
            },
            **{
                path: {"servers": [DEPLOYED_SERVER, *local_servers("trip_page")], **item}
                for path, item in trip_page_paths(REF).items()
            },
        },
    }
