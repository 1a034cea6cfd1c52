"""App Check through the real functions: plan_trip, trips and user_data served by functions-framework as deployed,
with APP_CHECK_ENFORCE=true and APP_CHECK_API_ENDPOINT on a stand-in of the App Check API that this test serves
over HTTP (its JWKS holds the public half of the test RSA key that signs the tokens; its verifyAppCheckToken
remembers consumed tokens). ID tokens come from the Auth emulator, trips from the stack's Firestore and Maps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import requests
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from tests.app_check_support import PROJECT_NUMBER, AppCheckStandin, app_check_standin, new_key
from tests.integration.support import ROOT, TestUser, function_server, module_env, sign_up
from tests.integration.trips.support import START, schema_for

MAIN = ROOT / "functions" / "main.py"
HEADER = "X-Firebase-AppCheck"


@pytest.fixture(scope="module")
def standin() -> Iterator[AppCheckStandin]:
    with app_check_standin() as running:
        yield running


@pytest.fixture(scope="module")
def auth_project(stack: dict[str, str]) -> str:
    """The Firebase project (FIREBASE_PROJECT_ID in module_env): App Check tokens are for it."""
    return stack["GOOGLE_CLOUD_PROJECT"]


@pytest.fixture(scope="module")
def servers(stack: dict[str, str], firestore_project: str, standin: AppCheckStandin) -> Iterator[dict[str, str]]:
    env = module_env(stack, firestore_project) | {
        "APP_CHECK_ENFORCE": "true",
        "APP_CHECK_API_ENDPOINT": standin.url,
        "PLAN_RATE_PER_MINUTE": "60",
        "PLAN_RATE_PER_DAY": "200",
        "ALLOWED_ORIGINS": "https://trips.example.org",
    }
    with (
        function_server("plan_trip", MAIN, "http", env) as plan_url,
        function_server("trips", MAIN, "http", env) as trips_url,
        function_server("user_data", MAIN, "http", env) as user_data_url,
    ):
        yield {"plan": plan_url, "trips": f"{trips_url}/trips", "user_data": user_data_url}


@pytest.fixture(scope="module")
def people(stack: dict[str, str]) -> dict[str, TestUser]:
    return {"owner": sign_up(stack), "other": sign_up(stack)}


def trip_request(days: int = 2) -> dict[str, Any]:
    return {
        "destination": "Kyoto",
        "start_date": START.isoformat(),
        "end_date": (START + dt.timedelta(days=days - 1)).isoformat(),
        "travelers": 2,
        "transport": "transit",
    }


def with_app_check(user: TestUser, token: str) -> dict[str, str]:
    return {**user.headers, HEADER: token}


def refused(response: requests.Response, code: str = "app_check_failed") -> dict[str, Any]:
    assert response.status_code == 401, response.text
    body = response.json()
    jsonschema.validate(body, schema_for("ErrorEnvelope"))
    assert body["error"]["code"] == code
    assert body["error"]["request_id"] == response.headers["X-Request-Id"]
    return dict(body["error"])


def trips_of(client: firestore.Client, uid: str) -> list[str]:
    return [doc.id for doc in client.collection("trips").where(filter=FieldFilter("user_id", "==", uid)).stream()]


@pytest.fixture(scope="module")
def planned(
    servers: dict[str, str], people: dict[str, TestUser], standin: AppCheckStandin, auth_project: str
) -> dict[str, Any]:
    """A trip of the owner's, planned with a good limited-use token (and that token, now consumed)."""
    token = standin.token(auth_project)
    response = requests.post(
        servers["plan"], json=trip_request(), headers=with_app_check(people["owner"], token), timeout=120
    )
    assert response.status_code == 201, response.text
    return {"trip": response.json(), "token": token}


def test_plan_trip_with_a_good_limited_use_token_plans_and_consumes_it(
    planned: dict[str, Any], standin: AppCheckStandin, auth_project: str
) -> None:
    jsonschema.validate(planned["trip"], schema_for("Trip"))
    assert planned["trip"]["status"] == "ready"
    assert standin.consumed[planned["token"]] == 1, "verifyAppCheckToken was called once for it"
    assert auth_project in standin.verify_projects


def test_a_replayed_limited_use_token_is_refused_by_plan_trip(
    servers: dict[str, str],
    people: dict[str, TestUser],
    planned: dict[str, Any],
    standin: AppCheckStandin,
    firestore_client: firestore.Client,
) -> None:
    before = trips_of(firestore_client, people["owner"].uid)
    response = requests.post(
        servers["plan"], json=trip_request(), headers=with_app_check(people["owner"], planned["token"]), timeout=60
    )
    assert refused(response)["details"] == ["the App Check token was already used: send a new limited-use token"]
    assert standin.consumed[planned["token"]] == 2
    assert trips_of(firestore_client, people["owner"].uid) == before, "nothing planned, nothing stored"


def _bad_tokens(standin: AppCheckStandin, project: str) -> dict[str, tuple[str | None, str]]:
    return {
        "missing": (None, "the X-Firebase-AppCheck header is missing"),
        "malformed": ("not-a-token", "the App Check token is malformed"),
        "garbage": ("aaa.bbb.ccc", "the App Check token is not valid"),
        "expired": (standin.token(project, ttl_s=300, issued_s_ago=900), "the App Check token has expired"),
        "other project": (standin.token("someone-elses-project"), "(audience)"),
        "project number only": (standin.token(project, audience=[f"projects/{PROJECT_NUMBER}"]), "(audience)"),
        "not App Check": (standin.token(project, issuer="https://securetoken.google.com/" + project), "(issuer)"),
        "forged": (standin.token(project, key=new_key()), "signature does not verify"),
    }


def test_plan_trip_refuses_a_missing_or_bad_token_before_anything_else(
    servers: dict[str, str],
    people: dict[str, TestUser],
    standin: AppCheckStandin,
    auth_project: str,
    firestore_client: firestore.Client,
) -> None:
    consume_calls = len(standin.verify_projects)
    for name, (token, detail) in _bad_tokens(standin, auth_project).items():
        headers = people["other"].headers | ({HEADER: token} if token else {})
        error = refused(requests.post(servers["plan"], json=trip_request(), headers=headers, timeout=60))
        assert detail in error["details"][0], name
        assert "X-Firebase-AppCheck" in error["message"]
    assert trips_of(firestore_client, people["other"].uid) == []
    assert len(standin.verify_projects) == consume_calls, "a token refused locally is never sent to be consumed"


def test_app_check_comes_before_the_id_token(
    servers: dict[str, str], people: dict[str, TestUser], standin: AppCheckStandin, auth_project: str
) -> None:
    no_app_check = requests.post(servers["plan"], json=trip_request(), headers=people["other"].headers, timeout=60)
    refused(no_app_check)
    no_id_token = requests.post(
        servers["plan"], json=trip_request(), headers={HEADER: standin.token(auth_project)}, timeout=60
    )
    refused(no_id_token, code="unauthenticated")


def test_the_trips_api_needs_app_check_to_change_things_not_to_read(
    servers: dict[str, str],
    people: dict[str, TestUser],
    planned: dict[str, Any],
    standin: AppCheckStandin,
    auth_project: str,
) -> None:
    owner = people["owner"]
    trip_url = f"{servers['trips']}/{planned['trip']['id']}"
    assert requests.get(servers["trips"], headers=owner.headers, timeout=30).status_code == 200
    current = requests.get(trip_url, headers=owner.headers, timeout=30)
    assert current.status_code == 200
    version = current.json()["version"]
    writes = [
        ("PATCH", trip_url, {"version": version, "title": "Kyoto in spring"}),
        ("POST", f"{trip_url}/share", {"uid": people["other"].uid, "role": "viewer"}),
        ("POST", f"{trip_url}/days/1/replan", {}),
        ("DELETE", f"{trip_url}/share/{people['other'].uid}", None),
        ("DELETE", trip_url, None),
    ]
    for method, url, body in writes:
        for token, _ in _bad_tokens(standin, auth_project).values():
            headers = owner.headers | ({HEADER: token} if token else {})
            refused(requests.request(method, url, json=body, headers=headers, timeout=30))
    assert requests.get(trip_url, headers=owner.headers, timeout=30).json()["version"] == version, "nothing changed"

    # The same token serves several calls: the trips API does not consume it (no replay protection there).
    token = standin.token(auth_project)
    headers = with_app_check(owner, token)
    edited = requests.patch(
        trip_url, json={"version": version, "title": "Kyoto in spring"}, headers=headers, timeout=30
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["title"] == "Kyoto in spring"
    shared = requests.post(
        f"{trip_url}/share", json={"uid": people["other"].uid, "role": "viewer"}, headers=headers, timeout=30
    )
    assert shared.status_code == 200, shared.text
    unshared = requests.delete(f"{trip_url}/share/{people['other'].uid}", headers=headers, timeout=30)
    assert unshared.status_code == 204, unshared.text
    deleted = requests.delete(trip_url, headers=headers, timeout=30)
    assert deleted.status_code == 204, deleted.text
    assert token not in standin.consumed


def test_user_data_needs_app_check_for_export_and_deletion(
    servers: dict[str, str], stack: dict[str, str], standin: AppCheckStandin, auth_project: str
) -> None:
    user = sign_up(stack)
    url = servers["user_data"]
    for token, _ in _bad_tokens(standin, auth_project).values():
        headers = user.headers | ({HEADER: token} if token else {})
        refused(requests.get(url, headers=headers, timeout=30))
        refused(requests.delete(f"{url}?confirm=true", headers=headers, timeout=30))
    exported = requests.get(url, headers=with_app_check(user, standin.token(auth_project)), timeout=60)
    assert exported.status_code == 200, exported.text
    assert exported.headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("function", ["plan", "trips", "user_data"])
def test_a_preflight_asking_for_the_app_check_header_is_allowed(servers: dict[str, str], function: str) -> None:
    response = requests.options(
        servers[function],
        headers={
            "Origin": "https://trips.example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-firebase-appcheck",
        },
        timeout=10,
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "https://trips.example.org"
    allowed = {name.strip().lower() for name in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "x-firebase-appcheck"} <= allowed
