"""The trips API through HTTP on the local stack (Auth emulator tokens, Firestore and Maps stand-ins, offline
planner), with the relay delivering this module's trip writes to its own enrich_places server. plan_trip and trips
run in the test process (tests/integration/in_process.py); the trips function's own server is tested in
tests/integration/test_served_functions.py."""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Iterator
from typing import Any

import icalendar
import jsonschema
import pytest
import requests
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from common.services.trips import store
from tests.integration.in_process import InProcessFunctions
from tests.integration.support import (
    ROOT,
    TestUser,
    background_server,
    free_port,
    function_server,
    http_get_ok,
    module_env,
    sign_up,
)
from tests.integration.trips.support import MAIN, plan, schema_for, stored, wait_for

NO_TOKEN: dict[str, str] = {}
BAD_TOKEN = {"Authorization": "Bearer aaa.bbb.ccc"}


@pytest.fixture(scope="module")
def servers(in_process: InProcessFunctions, stack: dict[str, str], firestore_project: str) -> Iterator[dict[str, str]]:
    """plan_trip and trips in the test process; enrich_places under its own server, fed by the relay (as the stack
    runs it), so every trip write of this module reaches it as Eventarc would deliver it."""
    env = module_env(stack, firestore_project) | {"PLAN_RATE_PER_MINUTE": "60", "PLAN_RATE_PER_DAY": "200"}
    plan_url = in_process.serve("plan_trip", env)
    trips_url = in_process.serve("trips", env)
    with function_server("enrich_places", MAIN, "cloudevent", env) as enrich_url:
        health_port = free_port()
        relay = [sys.executable, "-m", "scripts.relay", "--collection", "trips", "--target", enrich_url]
        relay += ["--project", firestore_project, "--health-port", str(health_port)]
        with background_server(relay, health_port, {**env, "PYTHONPATH": str(ROOT)}, "trips-relay"):
            assert wait_for(lambda: http_get_ok(f"http://127.0.0.1:{health_port}/"))
            yield {"plan": plan_url, "trips": f"{trips_url}/trips", "bare": trips_url}


@pytest.fixture(scope="module")
def people(stack: dict[str, str]) -> dict[str, TestUser]:
    return {role: sign_up(stack) for role in ("owner", "editor", "viewer", "stranger")}


@pytest.fixture(scope="module")
def shared_trip(http: requests.Session, servers: dict[str, str], people: dict[str, TestUser]) -> dict[str, Any]:
    trip = plan(http, servers["plan"], people["owner"])
    owner = people["owner"].headers
    url = f"{servers['trips']}/{trip['id']}/share"
    response = http.post(url, json={"uid": people["editor"].uid, "role": "editor"}, headers=owner, timeout=30)
    assert response.status_code == 200, response.text
    response = http.post(url, json={"email": people["viewer"].email, "role": "viewer"}, headers=owner, timeout=30)
    assert response.status_code == 200, response.text
    jsonschema.validate(response.json(), schema_for("ShareList"))
    assert response.json()["shared_with"] == {people["editor"].uid: "editor", people["viewer"].uid: "viewer"}
    return trip


def assert_envelope(response: requests.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    jsonschema.validate(body, schema_for("ErrorEnvelope"))
    if code:
        assert body["error"]["code"] == code
    assert body["error"]["request_id"] == response.headers["X-Request-Id"]
    return dict(body["error"])


def callers(people: dict[str, TestUser]) -> dict[str, dict[str, str]]:
    return {name: user.headers for name, user in people.items()} | {"no token": NO_TOKEN, "bad token": BAD_TOKEN}


def version_of(http: requests.Session, servers: dict[str, str], trip_id: str, people: dict[str, TestUser]) -> int:
    return int(http.get(f"{servers['trips']}/{trip_id}", headers=people["owner"].headers, timeout=30).json()["version"])


def test_read_routes_answer_owner_editor_viewer_and_no_one_else(
    http: requests.Session, servers: dict[str, str], people: dict[str, TestUser], shared_trip: dict[str, Any]
) -> None:
    expected = {"owner": 200, "editor": 200, "viewer": 200, "stranger": 404, "no token": 401, "bad token": 401}
    missing = f"{servers['trips']}/nosuchtrip000000000"
    for name, headers in callers(people).items():
        response = http.get(f"{servers['trips']}/{shared_trip['id']}", headers=headers, timeout=30)
        assert response.status_code == expected[name], (name, response.text)
        ics = http.get(f"{servers['trips']}/{shared_trip['id']}.ics", headers=headers, timeout=30)
        assert ics.status_code == expected[name], name
        listing = http.get(servers["trips"], headers=headers, timeout=30)
        assert listing.status_code == (401 if name.endswith("token") else 200)
        if expected[name] == 200:
            jsonschema.validate(response.json(), schema_for("Trip"))
            assert response.headers["ETag"] == f'"{response.json()["version"]}"'
        else:
            stranger_error = assert_envelope(response, expected[name])
            if name == "stranger":
                nothing = assert_envelope(http.get(missing, headers=headers, timeout=30), 404)
                assert (stranger_error["code"], stranger_error["message"], stranger_error["details"]) == (
                    nothing["code"],
                    nothing["message"],
                    nothing["details"],
                ), "a trip one may not see looks exactly like no trip"


def test_write_routes_follow_the_role_matrix_and_authorize_before_validating(
    http: requests.Session, servers: dict[str, str], people: dict[str, TestUser], shared_trip: dict[str, Any]
) -> None:
    trip_url = f"{servers['trips']}/{shared_trip['id']}"
    invalid = {"colour": "red"}
    cases: list[tuple[str, str, dict[str, int]]] = [
        ("PATCH", trip_url, {"owner": 400, "editor": 400, "viewer": 403, "stranger": 404}),
        ("POST", f"{trip_url}/share", {"owner": 400, "editor": 403, "viewer": 403, "stranger": 404}),
        ("POST", f"{trip_url}/days/1/replan", {"owner": 400, "editor": 400, "viewer": 403, "stranger": 404}),
        ("DELETE", f"{trip_url}/share/{people['viewer'].uid}", {"editor": 403, "viewer": 403, "stranger": 404}),
        ("DELETE", trip_url, {"editor": 403, "viewer": 403, "stranger": 404}),
    ]
    for method, url, expected in cases:
        for name, headers in callers(people).items():
            if name not in expected and not name.endswith("token"):
                continue
            response = http.request(method, url, json=invalid, headers=headers, timeout=30)
            assert_envelope(response, expected.get(name, 401))
    after = http.get(trip_url, headers=people["viewer"].headers, timeout=30)
    assert after.status_code == 200, "nothing above removed the viewer or the trip"

    version = version_of(http, servers, shared_trip["id"], people)
    for name, status in (("editor", 200), ("owner", 200)):
        response = http.patch(
            trip_url, json={"version": version, "title": f"by {name}"}, headers=people[name].headers, timeout=30
        )
        assert response.status_code == status, response.text
        assert response.json()["title"] == f"by {name}"
        version += 1


def test_sharing_is_kept_in_step_and_unsharing_hides_the_trip(
    http: requests.Session,
    servers: dict[str, str],
    people: dict[str, TestUser],
    firestore_client: firestore.Client,
    stack: dict[str, str],
) -> None:
    owner, friend = people["owner"], sign_up(stack)
    trip = plan(http, servers["plan"], owner, days=1)
    url = f"{servers['trips']}/{trip['id']}"
    for body, status in (
        ({"uid": friend.uid, "role": "viewer"}, 200),
        ({"uid": friend.uid, "role": "editor"}, 200),
        ({"uid": owner.uid, "role": "viewer"}, 400),
        ({"email": "nobody-here@example.com", "role": "viewer"}, 404),
        ({"uid": friend.uid, "email": friend.email, "role": "viewer"}, 400),
        ({"uid": friend.uid, "role": "admin"}, 400),
    ):
        response = http.post(f"{url}/share", json=body, headers=owner.headers, timeout=30)
        assert response.status_code == status, (body, response.text)
    document, _ = stored(firestore_client, trip["id"])
    assert document["shared_with"] == {friend.uid: "editor"}
    assert document["shared_with_uids"] == [friend.uid]
    assert http.get(url, headers=friend.headers, timeout=30).status_code == 200
    listed = http.get(servers["trips"], headers=friend.headers, timeout=30).json()["trips"]
    assert [(item["id"], item["role"]) for item in listed] == [(trip["id"], "editor")]
    response = http.delete(f"{url}/share/{friend.uid}", headers=owner.headers, timeout=30)
    assert response.status_code == 204
    document, _ = stored(firestore_client, trip["id"])
    assert (document["shared_with"], document["shared_with_uids"]) == ({}, [])
    assert_envelope(http.get(url, headers=friend.headers, timeout=30), 404, "not_found")
    assert http.get(servers["trips"], headers=friend.headers, timeout=30).json()["trips"] == []


def test_listing_pages_newest_first_with_ties_and_a_status_filter(
    http: requests.Session, servers: dict[str, str], firestore_client: firestore.Client, stack: dict[str, str]
) -> None:
    from common.services.trips.models import TripRequest

    user = sign_up(stack)
    same_time = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    request = TripRequest(destination="Rome", start_date=dt.date(2027, 1, 1), end_date=dt.date(2027, 1, 2))
    expected = []
    for index in range(5):
        trip_id = f"tie{index}" + store.new_trip_id()[:10]
        trip = store.planning_trip(
            trip_id, user.uid, request, same_time if index < 4 else same_time + dt.timedelta(hours=1)
        )
        store.create_trip(firestore_client, trip.model_copy(update={"status": "failed" if index == 2 else "ready"}))
        expected.append(trip_id)
    newest_first = [expected[4], *sorted(expected[:4], reverse=True)]
    seen, token = [], None
    for _ in range(6):
        params: dict[str, str] = {"page_size": "2"} | ({"page_token": token} if token else {})
        response = http.get(servers["trips"], params=params, headers=user.headers, timeout=30)
        assert response.status_code == 200, response.text
        jsonschema.validate(response.json(), schema_for("TripList"))
        seen += [item["id"] for item in response.json()["trips"]]
        token = response.json()["next_page_token"]
        if token is None:
            break
    assert seen == newest_first
    failed = http.get(servers["trips"], params={"status": "failed"}, headers=user.headers, timeout=30).json()
    assert [item["id"] for item in failed["trips"]] == [expected[2]]
    error = assert_envelope(
        http.get(servers["trips"], params={"page_size": "99", "page_token": "@@"}, headers=user.headers, timeout=30),
        400,
        "invalid_request",
    )
    assert {detail["field"] for detail in error["details"]} == {"page_size", "page_token"}


def test_stale_versions_get_409_and_lose_nothing(
    http: requests.Session, servers: dict[str, str], people: dict[str, TestUser], firestore_client: firestore.Client
) -> None:
    owner = people["owner"]
    trip = plan(http, servers["plan"], owner, days=1)
    url = f"{servers['trips']}/{trip['id']}"
    first = http.patch(url, json={"version": trip["version"], "notes": "first"}, headers=owner.headers, timeout=30)
    assert first.status_code == 200
    assert first.json()["version"] == trip["version"] + 1
    second = http.patch(url, json={"version": trip["version"], "notes": "second"}, headers=owner.headers, timeout=30)
    error = assert_envelope(second, 409, "conflict")
    assert error["details"] == [{"current_version": trip["version"] + 1}]
    document, _ = stored(firestore_client, trip["id"])
    assert (document["notes"], document["version"]) == ("first", trip["version"] + 1)
    by_header = http.patch(
        url, json={"title": "If-Match"}, headers=owner.headers | {"If-Match": f'"{trip["version"] + 1}"'}, timeout=30
    )
    assert by_header.status_code == 200
    missing = assert_envelope(http.patch(url, json={"title": "x"}, headers=owner.headers, timeout=30), 400)
    assert missing["details"] == [{"field": "version", "message": 'required (or send If-Match: "N")'}]


def test_an_edit_reaches_enrich_places_through_the_relay_and_comes_back_enriched_once(
    http: requests.Session, servers: dict[str, str], people: dict[str, TestUser], firestore_client: firestore.Client
) -> None:
    owner = people["owner"]
    trip = plan(http, servers["plan"], owner)
    first, second = trip["days"]
    kept = [
        {"place_id": stop["place_id"], "arrive": stop["arrive"], "depart": stop["depart"]} for stop in first["stops"]
    ]
    moved = second["stops"][0]
    body = {
        "version": trip["version"],
        "days": [
            {"date": first["date"], "stops": [*kept[:-1], {"place_id": moved["place_id"]}, {"name": "Nijo Castle"}]},
            {"date": second["date"], "stops": [{"place_id": s["place_id"]} for s in second["stops"][1:]]},
        ],
    }
    response = http.patch(f"{servers['trips']}/{trip['id']}", json=body, headers=owner.headers, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["enrichment"]["status"] == "pending"

    def enriched() -> dict[str, Any] | None:
        document, _ = stored(firestore_client, trip["id"])
        return document if (document.get("enrichment") or {}).get("status") == "enriched" else None

    document = wait_for(enriched, timeout_s=30)
    assert document, "enrich_places did not enrich the edit"
    _, update_time = stored(firestore_client, trip["id"])
    time.sleep(2.0)  # room for any further (echo) delivery
    document, later = stored(firestore_client, trip["id"])
    assert later == update_time, "enrichment's own write caused no further write"
    assert document["enrichment"]["runs"] == 1
    assert sorted(document["enrichment"]["changed_dates"]) == [first["date"], second["date"]]
    day1 = document["days"][0]["stops"]
    assert day1[-1]["place_id"] == "kyoto-nijo-castle"
    assert day1[-2]["place_id"] == moved["place_id"]
    assert all(stop["travel_from_previous"] for stop in day1 if stop["place_id"])
    assert day1[-1]["arrive"] >= day1[-2]["depart"], "automatic times follow the previous stop"
    api = http.get(f"{servers['trips']}/{trip['id']}", headers=owner.headers, timeout=30).json()
    assert api["enrichment"]["status"] == "enriched"
    assert api["version"] == trip["version"] + 1, "enrichment does not bump the version"


def test_ics_export_parses_back_in_local_time(
    http: requests.Session, servers: dict[str, str], people: dict[str, TestUser], shared_trip: dict[str, Any]
) -> None:
    response = http.get(f"{servers['trips']}/{shared_trip['id']}.ics", headers=people["viewer"].headers, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    events = list(calendar.walk("VEVENT"))
    trip = http.get(f"{servers['trips']}/{shared_trip['id']}", headers=people["owner"].headers, timeout=30).json()
    stops = [(day["date"], stop) for day in trip["days"] for stop in day["stops"]]
    assert len(events) == len(stops)
    for event, (date, stop) in zip(events, stops, strict=True):
        start = event.decoded("dtstart")
        assert event["dtstart"].params["TZID"] == "Asia/Tokyo"
        assert start.utcoffset() == dt.timedelta(hours=9)
        assert start.strftime("%Y-%m-%d %H:%M") == f"{date} {stop['arrive']}"
        assert event.decoded("dtend").strftime("%H:%M") == stop["depart"]
        assert str(event["summary"]) == stop["name"]
    assert len({str(event["uid"]) for event in events}) == len(events)


def test_paths_methods_and_ids_get_clear_answers(
    http: requests.Session, servers: dict[str, str], people: dict[str, TestUser]
) -> None:
    check_paths_methods_and_ids_get_clear_answers(http, servers, people)


def check_paths_methods_and_ids_get_clear_answers(
    http: requests.Session, servers: dict[str, str], people: dict[str, TestUser]
) -> None:
    """``servers``: "trips" (with the /trips segment) and "bare" URLs of the trips function; tests/integration/
    test_served_functions.py runs this through the function's server, whose raw request path (gunicorn's RAW_URI)
    differs from the test client's."""
    headers = people["owner"].headers
    assert_envelope(http.get(f"{servers['trips']}/a%2Fb", headers=headers, timeout=30), 400, "invalid_request")
    assert_envelope(http.get(f"{servers['trips']}/%2E%2E", headers=headers, timeout=30), 400, "invalid_request")
    long_id = "x" * 1501
    assert_envelope(http.get(f"{servers['trips']}/{long_id}", headers=headers, timeout=30), 400, "invalid_request")
    assert_envelope(http.get(f"{servers['trips']}/abc/nope", headers=headers, timeout=30), 404, "not_found")
    response = http.post(servers["trips"], json={}, headers=headers, timeout=30)
    assert_envelope(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET"
    bare = http.get(servers["bare"], headers=headers, timeout=30)
    assert bare.status_code == 200, "the leading /trips segment is optional"
    assert_envelope(http.get(f"{servers['trips']}/abc", headers=NO_TOKEN, timeout=30), 401, "unauthenticated")


def test_replan_changes_one_day_and_counts_against_the_quota(
    http: requests.Session, servers: dict[str, str], people: dict[str, TestUser], firestore_client: firestore.Client
) -> None:
    owner = people["owner"]
    trip = plan(http, servers["plan"], owner)
    url = f"{servers['trips']}/{trip['id']}/days/2/replan"
    response = http.post(url, json={"wishes": "gardens"}, headers=owner.headers, timeout=120)
    assert response.status_code == 200, response.text
    replanned = response.json()
    jsonschema.validate(replanned, schema_for("Trip"))
    assert replanned["days"][0] == trip["days"][0], "other days untouched"
    assert replanned["version"] == trip["version"] + 1
    sessions = [
        snapshot.to_dict() or {}
        for snapshot in firestore_client.collection("ai_sessions")
        .where(filter=FieldFilter("trip_id", "==", trip["id"]))
        .stream()
    ]
    assert sorted(session["kind"] for session in sessions) == ["plan", "replan"]
    assert_envelope(http.post(url.replace("/2/", "/9/"), headers=owner.headers, timeout=30), 404, "not_found")
    assert_envelope(
        http.post(url, json={"wishes": "x" * 301}, headers=owner.headers, timeout=30), 400, "invalid_request"
    )


def test_delete_removes_the_trip_and_its_sessions(
    http: requests.Session, servers: dict[str, str], people: dict[str, TestUser], firestore_client: firestore.Client
) -> None:
    owner = people["owner"]
    trip = plan(http, servers["plan"], owner, days=1)
    url = f"{servers['trips']}/{trip['id']}"
    assert http.delete(url, headers=owner.headers, timeout=30).status_code == 204
    assert_envelope(http.get(url, headers=owner.headers, timeout=30), 404, "not_found")
    assert not firestore_client.collection("trips").document(trip["id"]).get().exists
    sessions = list(
        firestore_client.collection("ai_sessions").where(filter=FieldFilter("trip_id", "==", trip["id"])).stream()
    )
    assert sessions == []
    assert_envelope(http.delete(url, headers=owner.headers, timeout=30), 404, "not_found")
