"""Schemathesis against openapi.json on the local stack: every operation, FUZZ_EXAMPLES generated requests each.

Each function is its own server (functions-framework hands every path to the function), so ``/plan_trip`` goes to a
private plan_trip server and ``/trips...`` to a private trips server, both in this module's Firestore project, with
quotas raised so generated plans are not refused for the rate. A schemathesis auth provider adds a fresh Auth
emulator token to every case (schemathesis itself also sends cases without it, expecting 401).

Cost: a valid plan request plans a trip (0.2-5 s). Generation is nine parts in ten negative (schema-violating) cases,
which the API must reject with a fast 4xx; of the positive ones, most carry random destinations or dates the server
refuses (a 400, possibly after one Maps lookup). Trips operations get some cases on real trip ids of the fuzzing
user (the rest hit random ids: 404); the re-plan route gets few, since a valid one re-plans a day.

Checked on every response: no 5xx; an error is the envelope (with the response's request id); a documented status
code, content type and headers; the body matches its schema; a negative case is rejected (4xx).
"""

from __future__ import annotations

import json
import os
import threading
import urllib.parse
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import requests
import schemathesis
from google.cloud import firestore
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.support import ROOT, TestUser, function_server, module_env, sign_up
from tests.proof.support import MAIN, schema_for, trip_body

# PROOF_FUZZ_EXAMPLES lowers the count for a quick local run; CI uses the default.
FUZZ_EXAMPLES = int(os.environ.get("PROOF_FUZZ_EXAMPLES", "500"))
OPENAPI_PATH = ROOT / "openapi.json"
SCHEMA = schemathesis.openapi.from_path(OPENAPI_PATH)
# The auth provider below sets a valid token on every case; one case in 20 then drops it (a 401 is expected). Left
# on, schemathesis would fill the Authorization header with generated junk in most cases, and most requests would
# stop at the 401 without reaching the API's logic.
SCHEMA.config.generation.update(with_security_parameters=False)
OPERATION_IDS = sorted(
    str(operation["operationId"])
    for item in SCHEMA.raw_schema["paths"].values()
    for method, operation in item.items()
    if isinstance(operation, dict) and "operationId" in operation and method != "parameters"
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# Out of 20 cases: how many are positive, and (trips routes) how many name a real trip of the caller.
POSITIVE_IN_20 = 2
REAL_TRIP_IN_20 = {"replanDay": 1, "deleteTrip": 1}
REAL_TRIP_IN_20_DEFAULT = 6


class _Token:
    """The fuzzing user's current ID token (a fresh Auth emulator user per module)."""

    lock = threading.Lock()
    user: TestUser | None = None


@SCHEMA.auth()
class FreshEmulatorToken:
    """Adds ``Authorization: Bearer <fresh Auth emulator ID token>`` to every generated case."""

    def get(self, case: schemathesis.Case[Any], context: schemathesis.AuthContext) -> str:
        with _Token.lock:
            assert _Token.user is not None, "the fuzzing user is not signed up"
            return _Token.user.id_token

    def set(self, case: schemathesis.Case[Any], data: str, context: schemathesis.AuthContext) -> None:
        if case.headers is None:
            case.headers = CaseInsensitiveDict()
        case.headers["Authorization"] = f"Bearer {data}"


@pytest.fixture(scope="module")
def fuzz_user(stack: dict[str, str]) -> Iterator[TestUser]:
    with _Token.lock:
        _Token.user = sign_up(stack)
        user = _Token.user
    yield user
    with _Token.lock:
        _Token.user = None


@pytest.fixture(scope="module")
def servers(stack: dict[str, str], firestore_project: str) -> Iterator[dict[str, str]]:
    env = module_env(stack, firestore_project) | {
        "PLAN_RATE_PER_MINUTE": "100000",
        "PLAN_RATE_PER_DAY": "100000",
        "MAX_SESSIONS_PER_USER": "1000",
        # Revocation is checked in tests/integration; here it would add an Auth emulator call to every request.
        "CHECK_TOKEN_REVOCATION": "false",
    }
    with (
        function_server("plan_trip", MAIN, "http", env) as plan_url,
        function_server("trips", MAIN, "http", env) as trips_url,
        function_server("health", MAIN, "http", env) as health_url,
        function_server("user_data", MAIN, "http", env) as user_data_url,
        function_server("trip_page", MAIN, "http", env) as trip_page_url,
    ):
        yield {
            "plan_trip": plan_url,
            "trips": trips_url,
            "health": health_url,
            "user_data": user_data_url,
            "trip_page": trip_page_url,
        }


@pytest.fixture(scope="module")
def real_trips(servers: dict[str, str], fuzz_user: TestUser) -> list[str]:
    """Trips of the fuzzing user for the generated cases that name a real trip."""
    ids = []
    for destination in ("Kyoto", "Rome"):
        response = requests.post(
            servers["plan_trip"], json=trip_body(destination, days=2), headers=fuzz_user.headers, timeout=120
        )
        assert response.status_code == 201, response.text
        ids.append(str(response.json()["id"]))
    return ids


def _strategy(operation_id: str, real_trip: str | None) -> st.SearchStrategy[schemathesis.Case[Any]]:
    operation = SCHEMA.find_operation_by_id(operation_id)
    auth = SCHEMA.auth

    def cases(mode: GenerationMode, **fixed: Any) -> st.SearchStrategy[schemathesis.Case[Any]]:
        return operation.as_strategy(generation_mode=mode, auth_storage=auth, **fixed)

    positive, negative = cases(GenerationMode.POSITIVE), cases(GenerationMode.NEGATIVE)
    has_trip = real_trip is not None and any(p.name == "trip_id" for p in operation.path_parameters)
    if not has_trip:
        return st.sampled_from(range(20)).flatmap(lambda draw: positive if draw < POSITIVE_IN_20 else negative)
    on_trip = {"path_parameters": {"trip_id": real_trip}}
    real_positive = cases(GenerationMode.POSITIVE, **on_trip)
    real_negative = cases(GenerationMode.NEGATIVE, **on_trip)
    real_share = REAL_TRIP_IN_20.get(operation_id, REAL_TRIP_IN_20_DEFAULT)

    def pick(draw: int) -> st.SearchStrategy[schemathesis.Case[Any]]:
        if draw < real_share:
            return real_positive if draw % 2 == 0 else real_negative
        return positive if draw < real_share + POSITIVE_IN_20 else negative

    return st.sampled_from(range(20)).flatmap(pick)


def _check_envelope(response: schemathesis.Response) -> None:
    """An error answer is the envelope, carrying the request id the response names (except the share page's 404 and
    429, which are HTML pages for a browser, as the document says)."""
    content_types = [
        value for name, values in response.headers.items() if name.lower() == "content-type" for value in values
    ]
    if response.status_code < 400 or any(value.startswith("text/html") for value in content_types):
        return
    body = json.loads(response.content)
    jsonschema.validate(body, schema_for("ErrorEnvelope"))
    request_ids = [
        value for name, values in response.headers.items() if name.lower() == "x-request-id" for value in values
    ]
    assert body["error"]["request_id"] in request_ids


@pytest.mark.parametrize("operation_id", OPERATION_IDS)
def test_every_operation_survives_fuzzing(
    operation_id: str,
    servers: dict[str, str],
    fuzz_user: TestUser,
    real_trips: list[str],
    firestore_client: firestore.Client,
    stack: dict[str, str],
) -> None:
    if operation_id == "deleteUserData":
        # A positive case deletes the caller's account and data: fuzz it as a throwaway user.
        with _Token.lock:
            _Token.user = sign_up(stack)
        try:
            _fuzz_operation(operation_id, servers, real_trips, firestore_client)
        finally:
            with _Token.lock:
                _Token.user = fuzz_user
        return
    _fuzz_operation(operation_id, servers, real_trips, firestore_client)


def _fuzz_operation(
    operation_id: str, servers: dict[str, str], real_trips: list[str], firestore_client: firestore.Client
) -> None:
    operation = SCHEMA.find_operation_by_id(operation_id)
    public = operation.definition.raw.get("security") == []  # health and its document need no token
    function = operation.path.strip("/").split("/", 1)[0].split(".", 1)[0]
    base_url = servers["trips" if function == "trips" else function]
    # deleteTrip gets its own trip (it may really delete it); the others share the first one.
    real_trip = real_trips[1] if operation_id == "deleteTrip" else real_trips[0]
    statuses: dict[int, int] = {}
    session = requests.Session()

    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_strategy(operation_id, real_trip), anonymous=st.sampled_from(range(20)).map(lambda draw: draw == 7))
    def fuzz(case: schemathesis.Case[Any], anonymous: bool) -> None:
        if anonymous:
            # Without a token (call, not call_and_validate: that one re-authenticates and replays after a 401).
            if case.headers is not None:
                case.headers.pop("Authorization", None)
            response = case.call(base_url=base_url, session=session, timeout=120)
            # functions-framework's router refuses a path holding a newline before any function runs (a 404).
            unroutable = "%0A" in urllib.parse.urlsplit(str(response.request.url)).path.upper()
            if public:
                assert response.status_code < 500, response.content[:500]
            else:
                assert response.status_code == (404 if unroutable else 401), response.content[:500]
        else:
            response = case.call_and_validate(base_url=base_url, session=session, checks=CHECKS, timeout=120)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        _check_envelope(response)

    fuzz()
    total = sum(statuses.values())
    print(f"\n{operation_id}: {total} requests, statuses {dict(sorted(statuses.items()))}")
    # An operation without parameters or body (health, its document, the export) has too few distinct cases for
    # Hypothesis to reach the count; it stops once it has tried them.
    has_inputs = bool(operation.path_parameters or operation.query or operation.body)
    assert total >= (FUZZ_EXAMPLES if has_inputs else min(FUZZ_EXAMPLES, 20))
    assert all(status < 500 for status in statuses)
