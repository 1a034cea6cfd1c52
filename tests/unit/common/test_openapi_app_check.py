"""The OpenAPI document: openapi.json is what the models say, and it names the App Check header where it is needed."""

from __future__ import annotations

import json

from common.api.openapi import build_document
from scripts.openapi import TARGET, render

APP_CHECK_OPERATIONS = {
    "planTrip",
    "editTrip",
    "deleteTrip",
    "replanDay",
    "shareTrip",
    "unshareTrip",
    "createShareLink",
    "revokeShareLink",
    "exportUserData",
    "deleteUserData",
}


def test_openapi_json_is_up_to_date() -> None:
    assert TARGET.read_text() == render(), "openapi.json is stale: run .venv/bin/python -m scripts.openapi"


def test_app_check_is_documented_on_the_operations_that_require_it() -> None:
    document = build_document()
    scheme = document["components"]["securitySchemes"]["appCheck"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "X-Firebase-AppCheck")
    required = set()
    for item in document["paths"].values():
        for method, operation in item.items():
            if method not in ("get", "put", "post", "patch", "delete"):
                continue  # parameters, servers
            security = operation.get("security", document["security"])
            if any("appCheck" in requirement for requirement in security):
                assert all("firebase" in requirement for requirement in security), "App Check adds to the ID token"
                required.add(operation["operationId"])
    assert required == APP_CHECK_OPERATIONS
    assert "app_check_failed" in json.dumps(document["paths"]["/plan_trip"]["post"]["responses"]["401"])
    assert "getLimitedUseToken" in document["paths"]["/plan_trip"]["post"]["description"]
