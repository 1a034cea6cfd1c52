"""enrich_places under functions-framework, fed CloudEvents by hand (no relay in this module): replays, echoes,
JSON bodies, deletes and events too old are acknowledged with at most one write. The functions run in the test
process (tests/integration/in_process.py); the relay's delivery to enrich_places' own server is tested in
tests/integration/trips/test_trips_api.py and tests/integration/test_relay.py."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
import requests
from google.cloud import firestore

from tests.integration.in_process import InProcessFunctions
from tests.integration.support import TestUser, module_env, sign_up
from tests.integration.trips.support import plan, post_event, stored


@pytest.fixture(scope="module")
def servers(in_process: InProcessFunctions, stack: dict[str, str], firestore_project: str) -> dict[str, str]:
    env = module_env(stack, firestore_project) | {"PLAN_RATE_PER_MINUTE": "30", "ENRICH_MAX_EVENT_AGE_SECONDS": "600"}
    return {
        "plan": in_process.serve("plan_trip", env),
        "trips": in_process.serve("trips", env),
        "enrich": in_process.serve("enrich_places", env, signature="cloudevent"),
    }


@pytest.fixture(scope="module")
def owner(stack: dict[str, str]) -> TestUser:
    return sign_up(stack)


def _edit(http: requests.Session, servers: dict[str, str], owner: TestUser, trip: dict[str, Any]) -> None:
    day = trip["days"][0]
    stops = [
        {"place_id": stop["place_id"], "arrive": stop["arrive"], "depart": stop["depart"]} for stop in day["stops"]
    ]
    stops.append({"name": "Nijo Castle"})
    response = http.patch(
        f"{servers['trips']}/trips/{trip['id']}",
        json={"version": trip["version"], "days": [{"date": day["date"], "stops": stops}]},
        headers=owner.headers,
        timeout=30,
    )
    assert response.status_code == 200, response.text


def test_the_same_event_three_times_and_its_echo_make_one_write(
    http: requests.Session,
    servers: dict[str, str],
    owner: TestUser,
    firestore_client: firestore.Client,
    firestore_project: str,
) -> None:
    trip = plan(http, servers["plan"], owner)
    before = stored(firestore_client, trip["id"])
    _edit(http, servers, owner, trip)
    edited = stored(firestore_client, trip["id"])
    assert edited[0]["enrichment"]["status"] == "pending"
    for attempt in range(3):
        response = post_event(
            http, servers["enrich"], firestore_project, trip["id"], before, edited, event_id="replayed-1"
        )
        assert response.status_code == 200, response.text
        if attempt == 0:
            enriched = stored(firestore_client, trip["id"])
    assert enriched[1] > edited[1], "the first delivery wrote"
    assert enriched[0]["enrichment"]["status"] == "enriched"
    assert enriched[0]["enrichment"]["runs"] == 1
    added = enriched[0]["days"][0]["stops"][-1]
    assert added["place_id"] == "kyoto-nijo-castle"
    assert added["travel_from_previous"]["mode"] == "transit"
    assert stored(firestore_client, trip["id"])[1] == enriched[1], "replays wrote nothing"

    # The same content delivered again under new ids, then the echo of enrichment's own write.
    for _ in range(2):
        assert post_event(http, servers["enrich"], firestore_project, trip["id"], before, edited).status_code == 200
    assert post_event(http, servers["enrich"], firestore_project, trip["id"], edited, enriched).status_code == 200
    assert stored(firestore_client, trip["id"])[1] == enriched[1], "no write for duplicates or the echo"
    assert stored(firestore_client, trip["id"])[0]["enrichment"]["runs"] == 1


def test_json_bodies_are_decoded_and_deletes_and_old_events_are_acknowledged(
    http: requests.Session,
    servers: dict[str, str],
    owner: TestUser,
    firestore_client: firestore.Client,
    firestore_project: str,
) -> None:
    trip = plan(http, servers["plan"], owner)
    before = stored(firestore_client, trip["id"])
    _edit(http, servers, owner, trip)
    edited = stored(firestore_client, trip["id"])
    two_hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    response = post_event(
        http, servers["enrich"], firestore_project, trip["id"], before, edited, event_time=two_hours_ago
    )
    assert response.status_code == 200
    assert stored(firestore_client, trip["id"])[1] == edited[1], "an event past the maximum age is dropped"
    response = post_event(http, servers["enrich"], firestore_project, trip["id"], edited, None)
    assert response.status_code == 200, "a delete is acknowledged"
    response = post_event(http, servers["enrich"], firestore_project, trip["id"], before, edited, as_json=True)
    assert response.status_code == 200, response.text
    enriched = stored(firestore_client, trip["id"])
    assert enriched[0]["enrichment"]["status"] == "enriched"
    assert enriched[0]["days"][0]["stops"][-1]["place_id"] == "kyoto-nijo-castle"


def test_an_event_older_than_the_stored_trip_is_skipped(
    http: requests.Session,
    servers: dict[str, str],
    owner: TestUser,
    firestore_client: firestore.Client,
    firestore_project: str,
) -> None:
    trip = plan(http, servers["plan"], owner)
    before = stored(firestore_client, trip["id"])
    _edit(http, servers, owner, trip)
    first_edit = stored(firestore_client, trip["id"])
    time.sleep(0.01)
    current = http.get(f"{servers['trips']}/trips/{trip['id']}", headers=owner.headers, timeout=30).json()
    day = current["days"][0]
    response = http.patch(
        f"{servers['trips']}/trips/{trip['id']}",
        json={"version": current["version"], "days": [{"date": day["date"], "stops": [{"name": "Kinkaku-ji"}]}]},
        headers=owner.headers,
        timeout=30,
    )
    assert response.status_code == 200
    second_edit = stored(firestore_client, trip["id"])
    assert post_event(http, servers["enrich"], firestore_project, trip["id"], before, first_edit).status_code == 200
    assert stored(firestore_client, trip["id"])[1] == second_edit[1], "the older edit's event wrote nothing"
    assert (
        post_event(http, servers["enrich"], firestore_project, trip["id"], first_edit, second_edit).status_code == 200
    )
    enriched = stored(firestore_client, trip["id"])[0]
    assert [stop["place_id"] for stop in enriched["days"][0]["stops"]] == ["kyoto-kinkakuji"]
    assert enriched["enrichment"]["runs"] == 1


def test_a_trip_that_is_not_ready_is_not_enriched(
    http: requests.Session,
    servers: dict[str, str],
    owner: TestUser,
    firestore_client: firestore.Client,
    firestore_project: str,
) -> None:
    trip = plan(http, servers["plan"], owner)
    ref = firestore_client.collection("trips").document(trip["id"])
    ref.update({"status": "planning", "days": [{"date": trip["days"][0]["date"], "stops": [{"name": "Nijo Castle"}]}]})
    current = stored(firestore_client, trip["id"])
    assert post_event(http, servers["enrich"], firestore_project, trip["id"], None, current).status_code == 200
    assert stored(firestore_client, trip["id"])[1] == current[1]
