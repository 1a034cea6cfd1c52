"""plan_trip through HTTP on the local stack: Auth emulator tokens, Firestore stand-in, Maps stand-in, and the
offline planner (no Gemini credentials). The function runs in the test process (functions-framework's
``create_app(...).test_client()``, tests/integration/in_process.py) with the environment of its server; the contract
test also runs through the function's own server, as deployed, in tests/integration/test_served_functions.py."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import time
from typing import Any

import jsonschema
import pytest
import requests
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from tests.integration.in_process import InProcessFunctions
from tests.integration.support import ROOT, TestUser, module_env, sign_up

OPENAPI = json.loads((ROOT / "openapi.json").read_text())
START = (dt.date.today() + dt.timedelta(days=30)).isoformat()


def schema_for(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}", "components": OPENAPI["components"]}


def kyoto_request(**overrides: Any) -> dict[str, Any]:
    start = dt.date.fromisoformat(START)
    body: dict[str, Any] = {
        "destination": "Kyoto",
        "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=2)).isoformat(),
        "travelers": 2,
        "budget": {"amount": 900, "currency": "EUR"},
        "interests": ["temples", "gardens", "food"],
        "pace": "moderate",
        "transport": "transit",
        "must_include": ["Fushimi Inari Taisha"],
        "avoid": ["nightlife"],
        "language": "en",
    }
    body.update(overrides)
    return body


@pytest.fixture(scope="module")
def trips_url(in_process: InProcessFunctions, stack: dict[str, str], firestore_project: str) -> str:
    """The trips function on this module's Firestore project (where a planned trip's Location points)."""
    return in_process.serve("trips", module_env(stack, firestore_project))


@pytest.fixture(scope="module")
def plan_url(in_process: InProcessFunctions, stack: dict[str, str], firestore_project: str, trips_url: str) -> str:
    env = module_env(stack, firestore_project) | {"PLAN_RATE_PER_MINUTE": "30", "PLAN_RATE_PER_DAY": "100"}
    return in_process.serve("plan_trip", env | {"TRIPS_URL": trips_url})


@pytest.fixture(scope="module")
def user(stack: dict[str, str]) -> TestUser:
    return sign_up(stack)


def trips_of(client: firestore.Client, uid: str) -> list[dict[str, Any]]:
    return [
        doc.to_dict() or {}
        for doc in client.collection("trips").where(filter=FieldFilter("user_id", "==", uid)).stream()
    ]


def assert_envelope(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    jsonschema.validate(body, schema_for("ErrorEnvelope"))
    assert body["error"]["code"] == code
    assert body["error"]["request_id"] == response.headers["X-Request-Id"]
    return dict(body["error"])


def test_plans_a_trip_that_matches_the_contract(
    http: requests.Session, plan_url: str, user: TestUser, firestore_client: firestore.Client, trips_url: str
) -> None:
    check_plans_a_trip_that_matches_the_contract(http, plan_url, trips_url, user, firestore_client)


def check_plans_a_trip_that_matches_the_contract(
    http: requests.Session, plan_url: str, trips_url: str, user: TestUser, firestore_client: firestore.Client
) -> None:
    """The first plan of a project (nothing cached yet); tests/integration/test_served_functions.py runs it through
    the functions' servers."""
    response = http.post(plan_url, json=kyoto_request(), headers=user.headers, timeout=120)
    assert response.status_code == 201, response.text
    trip = response.json()
    jsonschema.validate(trip, schema_for("Trip"))
    location = response.headers["Location"]
    assert location == f"{trips_url}/{trip['id']}", "the trips function's URL of the trip"
    assert http.get(location, headers=user.headers, timeout=30).json()["id"] == trip["id"]
    assert trip["status"] == "ready"
    assert trip["user_id"] == user.uid
    assert trip["destination"]["time_zone"] == "Asia/Tokyo"
    assert [day["date"] for day in trip["days"]] == [
        (dt.date.fromisoformat(START) + dt.timedelta(days=offset)).isoformat() for offset in range(3)
    ]
    assert all(day["stops"] for day in trip["days"])
    names = [stop["name"] for day in trip["days"] for stop in day["stops"]]
    assert "Fushimi Inari Taisha" in names
    assert len(names) == len(set(names)), "no place twice"
    assert all(stop["category"] != "bar" for day in trip["days"] for stop in day["stops"]), "nightlife avoided"
    for day in trip["days"]:
        # Moderate pace: at most 5 sights; lunch and dinner come on top (before, 6 stops counted the meals).
        sights = [stop for stop in day["stops"] if stop["category"] not in ("restaurant", "cafe")]
        assert len(sights) <= 5
        assert len(day["stops"]) <= 7
        lunch = [
            s for s in day["stops"] if s["category"] in ("restaurant", "cafe") and "11:30" <= s["arrive"] <= "14:30"
        ]
        dinner = [s for s in day["stops"] if s["category"] == "restaurant" and "18:00" <= s["arrive"] <= "21:30"]
        assert len(lunch) == 1, "lunch every full day"
        assert len(dinner) == 1, "dinner every full day"
        times = [(stop["arrive"], stop["depart"]) for stop in day["stops"]]
        assert times == sorted(times)
        assert all(arrive < depart for arrive, depart in times)
        assert all(later[0] >= earlier[1] for earlier, later in itertools.pairwise(times))
    assert trip["budget"]["currency"] == "EUR"
    assert trip["budget"]["limit"] == 900
    assert trip["planner"]["provider"] == "offline"
    assert trip["planner"]["maps_calls"] > 0
    assert any("offline" in warning for warning in trip["warnings"])

    stored = firestore_client.collection("trips").document(trip["id"]).get().to_dict() or {}
    assert stored["status"] == "ready"
    assert stored["progress"]["stage"] == "done"
    sessions = [
        doc.to_dict() or {}
        for doc in firestore_client.collection("ai_sessions")
        .where(filter=FieldFilter("trip_id", "==", trip["id"]))
        .stream()
    ]
    assert len(sessions) == 1
    assert sessions[0]["status"] == "completed"
    assert sessions[0]["user_id"] == user.uid


def test_every_problem_is_listed_and_nothing_is_stored(
    http: requests.Session, plan_url: str, stack: dict[str, str], firestore_client: firestore.Client
) -> None:
    newcomer = sign_up(stack)
    body = kyoto_request(
        destination="",
        start_date="2001-01-01",
        end_date="2000-12-31",
        travelers=0,
        pace="frantic",
        interests=["x" * 41],
        colour="blue",
    )
    error = assert_envelope(
        http.post(plan_url, json=body, headers=newcomer.headers, timeout=30), 400, "invalid_request"
    )
    fields = {detail["field"] for detail in error["details"]}
    assert {"destination", "start_date", "end_date", "travelers", "pace", "interests.0", "colour"} <= fields
    assert trips_of(firestore_client, newcomer.uid) == []


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "missing"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "Bearer"),
        ({"Authorization": "Bearer not-a-jwt"}, "malformed"),
        ({"Authorization": "Bearer aaa.bbb.ccc"}, "not a valid"),
    ],
)
def test_requests_without_a_valid_token_get_401(
    http: requests.Session, plan_url: str, headers: dict[str, str], detail: str
) -> None:
    error = assert_envelope(
        http.post(plan_url, json=kyoto_request(), headers=headers, timeout=30), 401, "unauthenticated"
    )
    assert detail in " ".join(error["details"])


def _unsigned_token(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def test_expired_and_wrong_project_tokens_get_401(
    http: requests.Session, plan_url: str, user: TestUser, stack: dict[str, str]
) -> None:
    project = stack["GOOGLE_CLOUD_PROJECT"]
    now = int(time.time())
    base = {
        "iss": f"https://securetoken.google.com/{project}",
        "aud": project,
        "sub": user.uid,
        "user_id": user.uid,
        "auth_time": now + 2,
        "iat": now + 2,
    }
    # Issued after the user was created (or the emulator calls it revoked: it rounds that time up to the
    # second), expired a minute ago.
    expired = _unsigned_token(base | {"exp": now - 120})
    error = assert_envelope(
        http.post(plan_url, json=kyoto_request(), headers={"Authorization": f"Bearer {expired}"}, timeout=30),
        401,
        "unauthenticated",
    )
    assert "expired" in " ".join(error["details"])
    other = _unsigned_token(
        base
        | {"aud": "someone-else", "iss": "https://securetoken.google.com/someone-else", "iat": now, "exp": now + 3600}
    )
    assert_envelope(
        http.post(plan_url, json=kyoto_request(), headers={"Authorization": f"Bearer {other}"}, timeout=30),
        401,
        "unauthenticated",
    )


def test_revoked_tokens_get_401(http: requests.Session, plan_url: str, stack: dict[str, str]) -> None:
    import firebase_admin
    from firebase_admin import auth

    revoked_user = sign_up(stack)
    app = firebase_admin.initialize_app(options={"projectId": stack["GOOGLE_CLOUD_PROJECT"]}, name="revoker")
    try:
        time.sleep(1.1)  # revocation is recorded in whole seconds after the token's issue time
        auth.revoke_refresh_tokens(revoked_user.uid, app=app)
    finally:
        firebase_admin.delete_app(app)
    error = assert_envelope(
        http.post(plan_url, json=kyoto_request(), headers=revoked_user.headers, timeout=30), 401, "unauthenticated"
    )
    assert "revoked" in " ".join(error["details"])


def test_method_media_type_and_size_are_checked(http: requests.Session, plan_url: str, user: TestUser) -> None:
    response = http.get(plan_url, headers=user.headers, timeout=30)
    assert_envelope(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "POST"
    response = http.post(
        plan_url, data="destination=Kyoto", headers=user.headers | {"Content-Type": "text/plain"}, timeout=30
    )
    assert_envelope(response, 415, "unsupported_media_type")
    big = json.dumps(kyoto_request(notes="x" * 200_000))
    response = http.post(plan_url, data=big, headers=user.headers | {"Content-Type": "application/json"}, timeout=30)
    assert_envelope(response, 413, "payload_too_large")


def test_cors_preflight_is_answered_for_allowed_origins(http: requests.Session, plan_url: str) -> None:
    headers = {
        "Origin": "http://localhost:3000",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    response = http.options(plan_url, headers=headers, timeout=30)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    response = http.options(plan_url, headers=headers | {"Origin": "https://elsewhere.example"}, timeout=30)
    assert "Access-Control-Allow-Origin" not in response.headers


def test_unknown_destination_is_a_400_and_stores_nothing(
    http: requests.Session, plan_url: str, stack: dict[str, str], firestore_client: firestore.Client
) -> None:
    traveller = sign_up(stack)
    response = http.post(
        plan_url,
        json=kyoto_request(destination="Atlantis under the sea", must_include=[]),
        headers=traveller.headers,
        timeout=60,
    )
    error = assert_envelope(response, 400, "invalid_request")
    assert {"field": "destination", "message": "no city or area of that name on Google Maps"} in error["details"]
    assert not any(isinstance(detail, dict) and "trip_id" in detail for detail in error["details"])
    assert trips_of(firestore_client, traveller.uid) == [], "bad input: nothing stored"


def test_a_traveller_can_leave_a_meal_out_of_every_day(http: requests.Session, plan_url: str, user: TestUser) -> None:
    body = kyoto_request(skip_meals=["dinner"], dietary=[], must_include=[])
    response = http.post(plan_url, json=body, headers=user.headers, timeout=120)
    assert response.status_code == 201, response.text
    days = response.json()["days"]
    assert all(stop["meal"] != "dinner" for day in days for stop in day["stops"]), "dinner left out as asked"
    assert all(any(stop["meal"] == "lunch" for stop in day["stops"]) for day in days), "lunch still planned"
    refused = http.post(plan_url, json=kyoto_request(skip_meals=["breakfast"]), headers=user.headers, timeout=30)
    assert refused.status_code == 400
    assert any(detail["field"].startswith("skip_meals") for detail in refused.json()["error"]["details"])
