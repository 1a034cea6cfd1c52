"""The OpenAPI 3.1 document of the HTTP functions, generated from the pydantic models that implement the contract.

``python -m scripts.openapi`` writes it to ``openapi.json``; a test fails when the committed file differs from what
the models say, and integration tests validate real responses against it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from common.api.openapi_paths import APP_CHECK_SECURITY, trips_paths
from common.api.openapi_paths import MODELS as TRIPS_MODELS
from common.services.trips.models import Trip, TripRequest

REF = "#/components/schemas/{model}"


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[Any]
    request_id: str


class ErrorEnvelope(BaseModel):
    error: ErrorBody


def _schemas(*models: tuple[type[BaseModel], str]) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model, mode in models:
        schema = model.model_json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
        schemas.update(schema.pop("$defs", {}))
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
        (TripRequest, "validation"), (Trip, "serialization"), (ErrorEnvelope, "serialization"), *TRIPS_MODELS
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
        "servers": [{"url": "http://127.0.0.1:8201", "description": "local stack (see .stack/env)"}],
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
            "/plan_trip": {
                "post": {
                    "operationId": "planTrip",
                    "summary": "Plan a trip and store it in trips/{id}",
                    "description": "Needs a limited-use App Check token (getLimitedUseToken()) in X-Firebase-AppCheck, "
                    "a new one for each call: the token is consumed (replay protection), and a token used before is "
                    "refused with 401 app_check_failed.",
                    "security": APP_CHECK_SECURITY,
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
                        **common_errors,
                    },
                }
            },
            **trips_paths(REF, common_errors),
        },
    }
