"""Multi-city trips through HTTP on the local stack (Auth emulator, Firestore and Maps stand-ins, offline planner):
planning Tokyo+Kyoto, London+Paris and Rome+Paris, every transfer on its travel day and in the budget; bad cities in
one 400 with nothing stored; the .ics in each city's time zone; editing, enrichment, re-planning within a city and
sharing. plan_trip, trips and enrich_places run in the test process (tests/integration/in_process.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import icalendar
import jsonschema
import pytest
import requests
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from common.foundation import currency
from common.foundation.times import clock_minutes, clock_text
from common.services.planning.cities import transfer_overlaps
from common.services.trips.models import Day
from tests.integration.in_process import InProcessFunctions
from tests.integration.support import TestUser, sign_up
from tests.integration.trips.support import START, plan_edit_enrich_servers, post_event, schema_for, stored


@pytest.fixture(scope="module")
def servers(in_process: InProcessFunctions, stack: dict[str, str], firestore_project: str) -> dict[str, str]:
    return plan_edit_enrich_servers(in_process, stack, firestore_project)


@pytest.fixture(scope="module")
def owner(stack: dict[str, str]) -> TestUser:
    return sign_up(stack)


def request_body(*cities: tuple[str, int], **fields: Any) -> dict[str, Any]:
    nights = sum(count for _, count in cities)
    return {
        "destinations": [{"destination": name, "nights": count} for name, count in cities],
        "start_date": START.isoformat(),
        "end_date": (START + dt.timedelta(days=nights)).isoformat(),
        "travelers": 2,
        "budget": {"amount": 4000, "currency": "EUR"},
        "transport": "transit",
    } | fields


def plan(http: requests.Session, servers: dict[str, str], owner: TestUser, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post(servers["plan"], json=body, headers=owner.headers, timeout=300)
    assert response.status_code == 201, response.text
    trip = dict(response.json())
    jsonschema.validate(trip, schema_for("Trip"))
    return trip


@pytest.fixture(scope="module")
def tokyo_kyoto(http: requests.Session, servers: dict[str, str], owner: TestUser) -> dict[str, Any]:
    body = request_body(("Tokyo", 2), ("Kyoto", 2), must_include=["Fushimi Inari Taisha", "Senso-ji"])
    body["destinations"][1]["lodging"] = "Hotel Granvia Kyoto"
    return plan(http, servers, owner, body)


@pytest.fixture(scope="module")
def london_paris(http: requests.Session, servers: dict[str, str], owner: TestUser) -> dict[str, Any]:
    return plan(http, servers, owner, request_body(("London", 2), ("Paris", 1)))


def check_trip_reads_right(trip: dict[str, Any]) -> list[dict[str, Any]]:
    """The cities own their days, every travel day has its transfer clear of stops, lunch and dinner are planned
    (or a warning says why not), and the budget counts every transfer. Returns the transfers."""
    cities = trip["cities"]
    assert trip["destination"]["name"] == cities[0]["name"]
    transfers = []
    for index, day in enumerate(trip["days"]):
        city = cities[day["city"]]
        assert city["first_day"] <= index + 1 <= city["last_day"]
        typed = Day.model_validate(day)
        assert transfer_overlaps(typed) == []
        if day["transfer"] is not None:
            transfers.append(day["transfer"])
            assert day["city"] == day["transfer"]["to_city"] == day["transfer"]["from_city"] + 1
            assert index + 1 == city["first_day"], "the travel day is the first day of the city reached"
            assert day["cost_by_category"]["transfers"] == day["transfer"]["cost_estimate"]["amount"] > 0
        meals = {stop["meal"] for stop in day["stops"]}
        explained = " ".join(day["warnings"])
        for meal in ("lunch", "dinner"):
            assert meal in meals or meal in explained, f"day {index + 1} has no {meal}: {day}"
    assert len(transfers) == len(cities) - 1, "every move between cities is a transfer"
    budget = trip["budget"]
    assert budget["by_category"]["transfers"] == pytest.approx(
        sum(item["cost_estimate"]["amount"] for item in transfers)
    )
    assert budget["estimated_total"] == pytest.approx(sum(day["cost_estimate"]["amount"] for day in trip["days"]))
    return transfers


def test_tokyo_then_kyoto_by_shinkansen_with_must_includes_in_either_city(tokyo_kyoto: dict[str, Any]) -> None:
    trip = tokyo_kyoto
    assert [(c["name"], c["first_day"], c["last_day"], c["nights"]) for c in trip["cities"]] == [
        ("Tokyo", 1, 2, 2),
        ("Kyoto", 3, 5, 2),
    ]
    assert trip["cities"][1]["lodging"] == "Hotel Granvia Kyoto"
    assert not any("lodging" in warning for warning in trip["warnings"]), trip["warnings"]
    (transfer,) = check_trip_reads_right(trip)
    assert transfer["mode"] == "transit"
    assert not transfer["estimated"]
    assert transfer["source"] == "routes_api"
    assert 135 <= transfer["duration_min"] <= 160, "the Shinkansen's 2 h 15 min and getting on"
    assert transfer["depart"] == "09:00", "a short move leaves after breakfast"
    travel_day = trip["days"][2]
    assert travel_day["stops"]
    assert all(stop["arrive"] >= transfer["arrive"] for stop in travel_day["stops"])
    names_by_city = {
        trip["cities"][day["city"]]["name"]: [stop["name"] for stop in day["stops"]] for day in trip["days"]
    }
    assert names_by_city  # every city has days
    places = {stop["name"]: day["city"] for day in trip["days"] for stop in day["stops"]}
    assert places.get("Fushimi Inari Taisha") == 1, "a Kyoto must-include lands on a Kyoto day"
    assert places.get("Senso-ji") == 0, "a Tokyo must-include lands on a Tokyo day"
    assert not any("must-include" in warning for warning in trip["warnings"])
    for day in trip["days"]:
        for stop in day["stops"]:
            assert stop["place_id"].startswith(("tokyo-", "kyoto-"))
            assert stop["place_id"].startswith(trip["cities"][day["city"]]["name"].lower()), "sights in their city"


def test_a_one_city_list_plans_as_the_single_form(
    http: requests.Session, servers: dict[str, str], owner: TestUser
) -> None:
    listed = plan(
        http,
        servers,
        owner,
        request_body(("Kyoto", 1))
        | {"destinations": [{"destination": "Kyoto", "nights": 1, "lodging": "Hotel Granvia Kyoto"}]},
    )
    single = request_body(("Kyoto", 1), destination="Kyoto", lodging="Hotel Granvia Kyoto")
    del single["destinations"]
    single_trip = plan(http, servers, owner, single)
    assert [city["name"] for city in listed["cities"]] == [city["name"] for city in single_trip["cities"]] == ["Kyoto"]
    assert listed["cities"][0]["lodging"] == "Hotel Granvia Kyoto"
    assert not any("lodging" in warning for warning in listed["warnings"]), listed["warnings"]

    def timetable(trip: dict[str, Any]) -> list[list[tuple[str, str, str]]]:
        return [[(stop["name"], stop["arrive"], stop["depart"]) for stop in day["stops"]] for day in trip["days"]]

    assert timetable(listed) == timetable(single_trip), "the same lodging, the same days"
    assert all(day["transfer"] is None and day["city"] == 0 for day in listed["days"])


def test_london_then_paris_arrives_in_paris_time_and_the_ics_uses_both_zones(
    http: requests.Session, servers: dict[str, str], owner: TestUser, london_paris: dict[str, Any]
) -> None:
    trip = london_paris
    (transfer,) = check_trip_reads_right(trip)
    assert 140 <= transfer["duration_min"] <= 160, "Eurostar's 2 h 16 min and check-in"
    depart = dt.datetime.combine(START, dt.time.fromisoformat(transfer["depart"]))
    arrive = dt.datetime.combine(START, dt.time.fromisoformat(transfer["arrive"]))
    assert (arrive - depart).total_seconds() / 60 == transfer["duration_min"] + 60, "Paris is an hour ahead"

    response = http.get(f"{servers['trips']}/{trip['id']}.ics", headers=owner.headers, timeout=30)
    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.content)
    assert sorted(str(zone["tzid"]) for zone in calendar.walk("VTIMEZONE")) == ["Europe/London", "Europe/Paris"]
    events = list(calendar.walk("VEVENT"))
    moves = [event for event in events if "transfer" in str(event.get("uid"))]
    assert len(moves) == 1
    move = moves[0]
    assert move["dtstart"].params["TZID"] == "Europe/London"
    assert move["dtend"].params["TZID"] == "Europe/Paris"
    assert (move.decoded("dtend") - move.decoded("dtstart")).total_seconds() / 60 == transfer["duration_min"]
    zone_of = {event.decoded("dtstart").strftime("%Y-%m-%d %H:%M") + str(event["summary"]): event for event in events}
    for day in trip["days"]:
        expected = "Europe/Paris" if day["city"] == 1 else "Europe/London"
        for stop in day["stops"]:
            event = zone_of[f"{day['date']} {stop['arrive']}{stop['name']}"]
            assert event["dtstart"].params["TZID"] == expected
    assert len(events) == sum(len(day["stops"]) for day in trip["days"]) + 1


def test_rome_to_paris_has_no_train_so_the_flight_is_an_estimate_and_too_far_to_drive(
    http: requests.Session, servers: dict[str, str], owner: TestUser, firestore_client: firestore.Client
) -> None:
    trip = plan(http, servers, owner, request_body(("Rome", 2), ("Paris", 2)))
    (transfer,) = check_trip_reads_right(trip)
    assert transfer["mode"] == "flight"
    assert transfer["estimated"]
    assert transfer["source"] == "estimate"
    assert "estimate" in transfer["label"]
    assert transfer["depart"] == "14:00", "a morning in Rome, lunch, then the flight; dinner in Paris"
    travel_day = trip["days"][2]
    assert {stop["meal"] for stop in travel_day["stops"]} >= {"lunch", "dinner"}
    assert not any("over the budget" in warning for warning in trip["warnings"])
    url = f"{servers['trips']}/{trip['id']}/days/3/replan"
    response = http.post(url, json={"wishes": "food"}, headers=owner.headers, timeout=300)
    assert response.status_code == 200, response.text
    replanned = response.json()["days"][2]
    kept, new = Day.model_validate(replanned).stops_around_transfer()
    morning, _ = Day.model_validate(travel_day).stops_around_transfer()
    assert [stop.name for stop in kept] == [stop.name for stop in morning], "the morning in Rome is kept"
    assert new, "an evening re-planned"
    assert all(str(stop.place_id).startswith("paris-") for stop in new), "the evening re-planned in Paris"
    assert replanned["transfer"] == transfer
    assert sum(1 for stop in morning if stop.travel_from_previous and stop.travel_from_previous.mode == "transit") >= 2
    check_local_transport(replanned, response.json())  # the morning's fares are still counted
    tight = plan(
        http, servers, owner, request_body(("Rome", 1), ("Paris", 1), budget={"amount": 300, "currency": "EUR"})
    )
    assert tight["budget"]["estimated_total"] > 300
    assert any("over the budget of 300, transfers between cities" in warning for warning in tight["warnings"])

    before = len(trips_of(firestore_client, owner.uid))
    response = http.post(
        servers["plan"], json=request_body(("Rome", 2), ("Paris", 2), transport="drive"), headers=owner.headers
    )
    assert response.status_code == 400, response.text
    (problem,) = response.json()["error"]["details"]
    assert problem["field"] == "destinations.1"
    assert "too far apart for one travel day" in problem["message"]
    assert "by road" in problem["message"]
    assert len(trips_of(firestore_client, owner.uid)) == before, "nothing stored"


def trips_of(client: firestore.Client, uid: str) -> list[dict[str, Any]]:
    query = client.collection("trips").where(filter=FieldFilter("user_id", "==", uid))
    return [snapshot.to_dict() or {} for snapshot in query.stream()]


def test_every_bad_city_is_listed_in_one_400_and_nothing_is_stored(
    http: requests.Session, servers: dict[str, str], stack: dict[str, str], firestore_client: firestore.Client
) -> None:
    someone = sign_up(stack)
    unknown = request_body(("Atlantis", 1), ("Kyoto", 1), ("Zzyzx Lost City", 1), ("Sydney", 1))
    response = http.post(servers["plan"], json=unknown, headers=someone.headers, timeout=60)
    assert response.status_code == 400, response.text
    details = response.json()["error"]["details"]
    fields = [problem["field"] for problem in details]
    assert fields == ["destinations.0.destination", "destinations.2.destination"], details
    bad_nights = request_body(("Tokyo", 0), ("Kyoto", 9), ("Osaka", 1))
    bad_nights["end_date"] = (START + dt.timedelta(days=3)).isoformat()
    bad_nights["destinations"] += [{"destination": name, "nights": 1} for name in ("Nara", "Kobe", "Nagoya")]
    response = http.post(servers["plan"], json=bad_nights, headers=someone.headers, timeout=60)
    assert response.status_code == 400
    messages = " | ".join(problem["message"] for problem in response.json()["error"]["details"])
    assert "greater than or equal to 1" in messages
    assert "at most 5 cities" in messages
    assert "more than the trip's 3 nights" in messages
    sea = request_body(("Kyoto", 1), ("Sydney", 1))
    response = http.post(servers["plan"], json=sea, headers=someone.headers, timeout=60)
    assert response.status_code == 400, "Kyoto to Sydney: an estimated flight longer than a travel day"
    assert "too far apart" in response.json()["error"]["details"][0]["message"]
    assert trips_of(firestore_client, someone.uid) == []


def test_replanning_a_day_stays_in_its_city_and_a_travel_day_keeps_its_transfer(
    http: requests.Session, servers: dict[str, str], owner: TestUser, tokyo_kyoto: dict[str, Any]
) -> None:
    trip = tokyo_kyoto
    url = f"{servers['trips']}/{trip['id']}/days"
    response = http.post(f"{url}/4/replan", json={"wishes": "gardens"}, headers=owner.headers, timeout=300)
    assert response.status_code == 200, response.text
    replanned = response.json()
    day = replanned["days"][3]
    assert day["city"] == 1
    assert day["stops"]
    assert all(stop["place_id"].startswith("kyoto-") for stop in day["stops"]), "re-planned within Kyoto"
    assert replanned["days"][:3] == trip["days"][:3]

    response = http.post(f"{url}/3/replan", json={}, headers=owner.headers, timeout=300)
    assert response.status_code == 200, response.text
    after = response.json()
    travel_day = after["days"][2]
    assert travel_day["transfer"] == trip["days"][2]["transfer"], "the transfer is kept"
    assert all(stop["place_id"].startswith("kyoto-") for stop in travel_day["stops"])
    assert transfer_overlaps(Day.model_validate(travel_day)) == []
    assert after["budget"]["by_category"]["transfers"] == trip["budget"]["by_category"]["transfers"]
    check_local_transport(travel_day, after)


def check_local_transport(day: dict[str, Any], trip: dict[str, Any]) -> None:
    """``day`` by transit for two counts a fare for every leg to a stop, plus at most the way back to the lodging (a
    travel day's morning among them), and the trip's budget adds the days up."""
    fare = currency.convert(2.5, "USD", trip["budget"]["currency"]) * 2
    legs = sum(1 for stop in day["stops"] if (stop["travel_from_previous"] or {}).get("mode") == "transit")
    local = day["cost_by_category"]["local_transport"]
    assert round(legs * fare, 2) <= local <= round((legs + 1) * fare, 2), (local, legs, fare)
    assert day["cost_estimate"]["amount"] == round(sum(day["cost_by_category"].values()), 2)
    assert trip["budget"]["estimated_total"] == round(sum(each["cost_estimate"]["amount"] for each in trip["days"]), 2)
    for name, amount in trip["budget"]["by_category"].items():
        assert amount == round(sum((each["cost_by_category"] or {}).get(name, 0.0) for each in trip["days"]), 2)


def test_an_edit_is_enriched_in_the_days_city_and_a_viewer_sees_the_cities(
    http: requests.Session,
    servers: dict[str, str],
    owner: TestUser,
    stack: dict[str, str],
    london_paris: dict[str, Any],
    firestore_client: firestore.Client,
    firestore_project: str,
) -> None:
    current = http.get(f"{servers['trips']}/{london_paris['id']}", headers=owner.headers, timeout=30).json()
    paris_day, travel_day = current["days"][3], current["days"][2]
    kept = [{"place_id": stop["place_id"]} for stop in paris_day["stops"][:2]]
    body = {
        "version": current["version"],
        "days": [
            {"date": paris_day["date"], "stops": [*kept, {"name": "Louvre Museum"}]},
            {"date": travel_day["date"], "stops": [{"place_id": s["place_id"]} for s in travel_day["stops"][:3]]},
        ],
    }
    before = stored(firestore_client, current["id"])
    response = http.patch(f"{servers['trips']}/{current['id']}", json=body, headers=owner.headers, timeout=30)
    assert response.status_code == 200, response.text
    edited = stored(firestore_client, current["id"])
    response = post_event(http, servers["enrich"], firestore_project, current["id"], before, edited)
    assert response.status_code == 200, response.text
    document, _ = stored(firestore_client, current["id"])
    assert document["enrichment"]["status"] == "enriched", document["enrichment"]
    enriched = document["days"][3]["stops"]
    assert enriched[-1]["place_id"] == "paris-louvre", "a name is looked up near the day's city"
    assert enriched[-1]["travel_from_previous"] is not None
    assert enriched[0]["travel_from_previous"]["duration_min"] < 60, "the day starts from Paris, not London"
    moved = document["days"][2]
    assert moved["transfer"] == travel_day["transfer"], "enrichment keeps the transfer"
    assert all(stop["arrive"] >= moved["transfer"]["arrive"] for stop in moved["stops"])
    assert moved["cost_estimate"]["amount"] >= moved["transfer"]["cost_estimate"]["amount"]

    viewer = sign_up(stack)
    share = http.post(
        f"{servers['trips']}/{current['id']}/share",
        json={"uid": viewer.uid, "role": "viewer"},
        headers=owner.headers,
        timeout=30,
    )
    assert share.status_code == 200, share.text
    seen = http.get(f"{servers['trips']}/{current['id']}", headers=viewer.headers, timeout=30).json()
    assert [city["name"] for city in seen["cities"]] == ["London", "Paris"]
    listing = http.get(servers["trips"], headers=viewer.headers, timeout=30).json()["trips"]
    assert [(item["destination"], item["cities"]) for item in listing] == [("London", ["London", "Paris"])]
    assert seen["days"][2]["transfer"]["to_name"] == "Paris"


def test_the_rest_of_a_travel_day_is_replanned_from_the_city_reached_and_never_before_the_arrival(
    http: requests.Session, servers: dict[str, str], owner: TestUser, london_paris: dict[str, Any]
) -> None:
    current = http.get(f"{servers['trips']}/{london_paris['id']}", headers=owner.headers, timeout=30)
    assert current.status_code == 200, current.text
    trip = current.json()  # as earlier tests of the module left it
    url = f"{servers['trips']}/{trip['id']}/days/3/replan"
    travel_day = trip["days"][2]
    transfer = travel_day["transfer"]
    arrival = clock_minutes(transfer["arrive"])
    point = {"lat": 48.8606, "lng": 2.3376}  # by the Louvre

    early: dict[str, Any] = {"from": {"time": clock_text(arrival - 30), "location": point}}
    response = http.post(url, json=early, headers=owner.headers, timeout=300)
    assert response.status_code == 400, response.text
    assert [problem["field"] for problem in response.json()["error"]["details"]] == ["from.time"]

    start = clock_text(arrival + 120)
    response = http.post(url, json={"from": {"time": start, "location": point}}, headers=owner.headers, timeout=300)
    assert response.status_code == 200, response.text
    after = response.json()["days"][2]
    assert after["transfer"] == transfer, "the transfer is kept"
    assert after["city"] == travel_day["city"]
    behind = [stop for stop in travel_day["stops"] if clock_minutes(stop["depart"]) <= arrival + 120]
    assert after["stops"][: len(behind)] == behind, "what is behind stays as it was"
    assert after["replanned_from"]["time"] == start
    rest = after["stops"][after["replanned_from"]["first_stop"] :]
    assert rest, "the rest of the day is planned"
    assert all(clock_minutes(stop["arrive"]) >= arrival + 120 for stop in rest)
    assert all(stop["place_id"].startswith("paris-") for stop in rest)
    assert transfer_overlaps(Day.model_validate(after)) == []
    assert after["cost_by_category"]["transfers"] == transfer["cost_estimate"]["amount"], "the transfer is paid"
    replanned = response.json()
    assert replanned["budget"]["by_category"]["transfers"] == trip["budget"]["by_category"]["transfers"]
    check_local_transport(after, replanned)
