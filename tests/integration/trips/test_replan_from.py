"""Re-planning the rest of a day from where the traveller is, and locked stops, through the trips API on the local
stack (Auth emulator tokens, Firestore and Maps stand-ins, offline planner). plan_trip, trips and enrich_places run
in the test process (tests/integration/in_process.py); enrich_places is fed CloudEvents by hand (no relay)."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import requests
from google.cloud import firestore

from common.foundation import currency
from common.foundation.times import clock_minutes
from tests.integration.in_process import InProcessFunctions
from tests.integration.support import TestUser, sign_up
from tests.integration.trips.replan_support import print_day, stored_day_violations
from tests.integration.trips.support import plan, plan_edit_enrich_servers, post_event, schema_for, stored

FROM = "14:30"


@pytest.fixture(scope="module")
def servers(in_process: InProcessFunctions, stack: dict[str, str], firestore_project: str) -> dict[str, str]:
    return plan_edit_enrich_servers(in_process, stack, firestore_project)


@pytest.fixture(scope="module")
def owner(stack: dict[str, str]) -> TestUser:
    return sign_up(stack)


def _replan(
    http: requests.Session, servers: dict[str, str], owner: TestUser, trip_id: str, day: int, body: dict[str, Any]
) -> requests.Response:
    url = f"{servers['trips']}/{trip_id}/days/{day}/replan"
    return http.post(url, json=body, headers=owner.headers, timeout=120)


def _patch_day(
    http: requests.Session, servers: dict[str, str], owner: TestUser, trip: dict[str, Any], day_index: int, stops: Any
) -> requests.Response:
    day = trip["days"][day_index]
    body = {"version": trip["version"], "days": [{"date": day["date"], "stops": stops}]}
    return http.patch(f"{servers['trips']}/{trip['id']}", json=body, headers=owner.headers, timeout=30)


def _as_edit(stop: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"place_id": stop["place_id"], "arrive": stop["arrive"], "depart": stop["depart"], **extra}


def _uses_of(day: dict[str, Any], place_id: str) -> list[tuple[str, str, bool]]:
    """(arrive, depart, locked) of each stop of ``day`` at ``place_id``."""
    return [(stop["arrive"], stop["depart"], stop["locked"]) for stop in day["stops"] if stop["place_id"] == place_id]


def _ahead(day: dict[str, Any]) -> list[dict[str, Any]]:
    return [stop for stop in day["stops"] if clock_minutes(stop["arrive"]) >= clock_minutes(FROM)]


def test_the_rest_of_the_day_starts_where_the_traveller_is_keeps_keep_and_drops_skip(
    http: requests.Session,
    servers: dict[str, str],
    owner: TestUser,
    firestore_client: firestore.Client,
    stack: dict[str, str],
) -> None:
    trip = plan(http, servers["plan"], owner, days=2)
    before = trip["days"][1]
    print_day("planned", before)
    ahead = [stop for stop in _ahead(before) if not stop["meal"]]
    assert len(ahead) >= 2, "the planned day has sights after 14:30 to keep and skip"
    keep, skip = ahead[0]["place_id"], ahead[1]["place_id"]
    now = clock_minutes(FROM)
    behind = [stop for stop in before["stops"] if clock_minutes(stop["depart"]) <= now]
    in_progress = [
        stop for stop in before["stops"] if clock_minutes(stop["arrive"]) < now < clock_minutes(stop["depart"])
    ]
    had_dinner = any(stop["meal"] == "dinner" for stop in before["stops"])
    # A point about 700 m north of the stop to keep: the rest of the day starts with a real leg, and the stop to keep
    # is reached before it closes whatever the planned day is (from across town a museum closing at 17:00 may not
    # fit two hours after 14:30, and is then dropped, as `changes` says).
    kept_stop = next(stop for stop in ahead if stop["place_id"] == keep)
    point = {"lat": round(kept_stop["location"]["lat"] + 0.0063, 4), "lng": kept_stop["location"]["lng"]}

    response = _replan(
        http, servers, owner, trip["id"], 2, {"from": {"time": FROM, "location": point}, "keep": [keep], "skip": [skip]}
    )
    assert response.status_code == 200, response.text
    replanned = response.json()
    jsonschema.validate(replanned, schema_for("Trip"))
    after = replanned["days"][1]
    print_day("re-planned from 14:30", after)
    assert replanned["version"] == trip["version"] + 1
    assert replanned["days"][0] == trip["days"][0], "the other day is untouched"
    assert after["stops"][: len(behind)] == behind, "the stops behind 14:30 stay exactly as they were"
    for stop, cut in zip(in_progress, after["stops"][len(behind) :], strict=False):
        # The stop the traveller was at when they asked: they have left it at 14:30.
        assert (cut["place_id"], cut["arrive"], cut["depart"]) == (stop["place_id"], stop["arrive"], FROM)
        assert cut["name"] in after["changes"]["retimed"]
    first_stop = len(behind) + len(in_progress)
    assert after["replanned_from"] == {"time": FROM, "location": point, "first_stop": first_stop}
    rest = after["stops"][first_stop:]
    assert rest, "the rest of the day is planned"
    first = rest[0]
    assert clock_minutes(first["arrive"]) >= clock_minutes(FROM) + first["travel_from_previous"]["duration_min"]
    assert first["travel_from_previous"]["duration_min"] > 0, "the first leg starts at the point, not at a stop"
    ids = [stop["place_id"] for stop in after["stops"]]
    assert keep in ids, "keep is kept"
    assert skip not in ids, "skip is gone and not planned again"
    assert len(ids) == len(set(ids))
    if had_dinner:
        assert any(stop["meal"] == "dinner" for stop in rest), "dinner was ahead and is still there"
    changes = after["changes"]
    skipped_name = next(stop["name"] for stop in before["stops"] if stop["place_id"] == skip)
    assert skipped_name in changes["dropped"]
    assert all(stop["name"] in changes["kept"] for stop in behind)
    assert stored_day_violations(firestore_client, stack, replanned["id"], 1) == []


def test_a_locked_stop_survives_a_whole_day_replan_and_a_replan_from_here(
    http: requests.Session,
    servers: dict[str, str],
    owner: TestUser,
    firestore_client: firestore.Client,
    stack: dict[str, str],
) -> None:
    trip = plan(http, servers["plan"], owner, days=2)
    day = trip["days"][0]
    sight = next(stop for stop in _ahead(day) if not stop["meal"])
    edits = [_as_edit(stop, locked=True) if stop is sight else _as_edit(stop) for stop in day["stops"]]
    response = _patch_day(http, servers, owner, trip, 0, edits)
    assert response.status_code == 200, response.text
    edited = response.json()
    locked = next(stop for stop in edited["days"][0]["stops"] if stop["place_id"] == sight["place_id"])
    assert locked["locked"] is True
    assert locked["warnings"] == []
    times = (sight["arrive"], sight["depart"])

    response = _replan(http, servers, owner, trip["id"], 1, {"wishes": "temples"})
    assert response.status_code == 200, response.text
    whole = response.json()
    print_day("whole day re-planned around a lock", whole["days"][0])
    assert _uses_of(whole["days"][0], sight["place_id"]) == [(*times, True)]
    assert stored_day_violations(firestore_client, stack, trip["id"], 0) == []

    point = {"lat": 35.0116, "lng": 135.7681}
    start = "12:00" if clock_minutes(times[0]) > clock_minutes("12:15") else "09:30"
    response = _replan(http, servers, owner, trip["id"], 1, {"from": {"time": start, "location": point}})
    assert response.status_code == 200, response.text
    rest = response.json()["days"][0]
    print_day(f"re-planned from {start} around a lock", rest)
    assert _uses_of(rest, sight["place_id"]) == [(*times, True)]
    assert stored_day_violations(firestore_client, stack, trip["id"], 0) == []


def test_an_edit_that_makes_a_locked_stop_infeasible_is_reported_not_moved(
    http: requests.Session,
    servers: dict[str, str],
    owner: TestUser,
    firestore_client: firestore.Client,
    firestore_project: str,
) -> None:
    trip = plan(http, servers["plan"], owner, days=1)
    day = trip["days"][0]
    first, second = day["stops"][0], day["stops"][1]
    # The second stop locked at the first stop's own times: the first one now ends after it starts.
    edits = [_as_edit(first), _as_edit(second, arrive=first["arrive"], depart=first["depart"], locked=True)]
    edits += [_as_edit(stop) for stop in day["stops"][2:]]
    old = stored(firestore_client, trip["id"])
    response = _patch_day(http, servers, owner, trip, 0, edits)
    assert response.status_code == 200, response.text
    locked = response.json()["days"][0]["stops"][1]
    assert (locked["arrive"], locked["depart"], locked["locked"]) == (first["arrive"], first["depart"], True)
    assert any("locked" in warning and first["name"] in warning for warning in locked["warnings"])

    # Enrichment after the edit re-times the legs, keeps the lock where it is and says why it cannot be kept.
    response = post_event(
        http, servers["enrich"], firestore_project, trip["id"], old, stored(firestore_client, trip["id"])
    )
    assert response.status_code == 200, response.text
    enriched = http.get(f"{servers['trips']}/{trip['id']}", headers=owner.headers, timeout=30).json()
    assert enriched["enrichment"]["status"] == "enriched"
    locked = enriched["days"][0]["stops"][1]
    assert (locked["arrive"], locked["depart"]) == (first["arrive"], first["depart"])
    assert any(warning.startswith("locked, not moved") for warning in locked["warnings"]), locked["warnings"]

    # A lock no plan can keep (before the day starts): the re-plan answers 409 naming it, and changes nothing.
    day = enriched["days"][0]
    edits = [
        _as_edit(stop, arrive="07:00", depart="07:30") if stop["place_id"] == second["place_id"] else _as_edit(stop)
        for stop in day["stops"]
    ]
    response = _patch_day(http, servers, owner, enriched, 0, edits)
    assert response.status_code == 200, response.text
    version = response.json()["version"]
    response = _replan(http, servers, owner, trip["id"], 1, {})
    assert response.status_code == 409, response.text
    details = response.json()["error"]["details"]
    assert [(item["place_id"], "outside the day" in item["message"]) for item in details] == [
        (second["place_id"], True)
    ]
    after = http.get(f"{servers['trips']}/{trip['id']}", headers=owner.headers, timeout=30).json()
    assert after["version"] == version


def test_bad_bodies_get_one_400_listing_every_problem(
    http: requests.Session, servers: dict[str, str], owner: TestUser
) -> None:
    trip = plan(http, servers["plan"], owner, days=1)
    stop = trip["days"][0]["stops"][0]["place_id"]
    body = {
        "from": {"time": "25:00", "location": {"lat": 95, "lng": 135.7}},
        "keep": [stop, "nosuchplace"],
        "skip": [stop],
        "extra": 1,
    }
    response = _replan(http, servers, owner, trip["id"], 1, body)
    assert response.status_code == 400, response.text
    fields = sorted(problem["field"] for problem in response.json()["error"]["details"])
    assert fields == ["extra", "from.location.lat", "from.time"], fields
    body = {
        "from": {"time": "23:30", "location": {"lat": 48.85, "lng": 2.35}},
        "keep": [stop, "nosuchplace"],
        "skip": [stop],
    }
    response = _replan(http, servers, owner, trip["id"], 1, body)
    assert response.status_code == 400, response.text
    fields = sorted(problem["field"] for problem in response.json()["error"]["details"])
    assert fields == ["from.location", "from.time", "keep.0", "keep.1", "skip.0"], response.text


def test_the_part_behind_keeps_its_local_transport_cost_and_its_warnings(
    http: requests.Session, servers: dict[str, str], owner: TestUser, firestore_client: firestore.Client
) -> None:
    trip = plan(http, servers["plan"], owner, days=2)  # by transit, two travellers
    day = trip["days"][1]
    now = clock_minutes(FROM)
    behind = [stop for stop in day["stops"] if clock_minutes(stop["depart"]) <= now]
    ahead = _ahead(day)
    behind_legs = [stop for stop in behind if (stop["travel_from_previous"] or {}).get("mode") == "transit"]
    assert len(behind_legs) >= 2, "the planned day has legs by transit behind 14:30"
    assert ahead, "and stops after it"
    # Day-level warnings as planning words them: one about a stop behind, one about a stop that will be re-planned.
    about_behind = f"opening hours of {behind[0]['name']} are unknown; check before going"
    about_ahead = f"a 45-minute wait before {ahead[-1]['name']}: free time before it"
    document = firestore_client.collection("trips").document(trip["id"])
    days = (document.get().to_dict() or {})["days"]
    days[1]["warnings"] = [about_behind, about_ahead]
    document.update({"days": days})

    point = {"lat": 35.0254, "lng": 135.7621}
    response = _replan(http, servers, owner, trip["id"], 2, {"from": {"time": FROM, "location": point}})
    assert response.status_code == 200, response.text
    replanned = response.json()
    after = replanned["days"][1]
    print_day("re-planned from 14:30 (costs)", after)
    fare = currency.convert(2.5, "USD", trip["budget"]["currency"]) * 2  # a transit leg for the group
    transit_legs = sum(1 for stop in after["stops"] if (stop["travel_from_previous"] or {}).get("mode") == "transit")
    local = after["cost_by_category"]["local_transport"]
    # Every leg to a stop, those behind included, plus at most the way back to the lodging.
    assert round(transit_legs * fare, 2) <= local <= round((transit_legs + 1) * fare, 2), (local, transit_legs, fare)
    assert after["cost_estimate"]["amount"] == round(sum(after["cost_by_category"].values()), 2)
    by_category = replanned["budget"]["by_category"]
    assert by_category["local_transport"] == round(
        sum(day["cost_by_category"]["local_transport"] for day in replanned["days"]), 2
    )
    assert replanned["budget"]["estimated_total"] == round(
        sum(day["cost_estimate"]["amount"] for day in replanned["days"]), 2
    )
    assert about_behind in after["warnings"], "a warning about a stop behind still holds"
    assert about_ahead not in after["warnings"], "a warning about a re-planned stop does not"
