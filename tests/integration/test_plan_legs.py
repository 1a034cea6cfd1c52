"""Planning on estimates, verified on real legs: ``plan_new_trip`` in-process with the real Maps clients against the
stack's Maps stand-in (road variation on: real legs differ from any straight-line model) and the Firestore stand-in
(``common/services/planning/legs.py``, issue 13 items 3 and 5)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from google.cloud import firestore

from common.domain.ai import build_planner
from common.domain.maps import (
    MapsConfig,
    MapsService,
    TravelMode,
    Waypoint,
    build_places_client,
    build_routes_client,
)
from common.domain.maps.legs import LEG_DOC_PREFIX, LegQuery
from common.domain.maps.models import LatLng
from common.foundation.collection_names import ROUTE_CACHE
from common.foundation.config import Settings
from common.services.planning.service import PlanningDeps, plan_new_trip
from tests.integration.maps.support import planning_settings

START = dt.date.today() + dt.timedelta(days=40)


def _admin(stack: dict[str, str], path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{stack['MAPS_API_ENDPOINT']}/__admin/{path}", data=data, method="POST" if data is not None else "GET"
    )
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def road_variation(stack: dict[str, str]) -> Iterator[None]:
    _admin(stack, "reset", {})
    _admin(stack, "travel", {"road_variation": True})
    yield
    _admin(stack, "reset", {})


@pytest.fixture(scope="module")
def settings(stack: dict[str, str], firestore_project: str) -> Settings:
    return planning_settings(stack, firestore_project)


def _maps(settings: Settings, client: firestore.Client | None) -> MapsService:
    return MapsService(
        MapsConfig.from_settings(settings), build_places_client(settings), build_routes_client(settings), client
    )


def _deps(settings: Settings, client: firestore.Client) -> PlanningDeps:
    return PlanningDeps(
        settings=settings, firestore=client, maps=_maps(settings, client), planner=build_planner(settings)
    )


def _body(city: str, days: int, transport: str) -> dict[str, Any]:
    return {
        "destination": city,
        "start_date": START.isoformat(),
        "end_date": (START + dt.timedelta(days=days - 1)).isoformat(),
        "travelers": 2,
        "interests": ["museums", "food", "parks"],
        "transport": transport,
    }


def _calls(stack: dict[str, str]) -> dict[str, int]:
    answer = _admin(stack, "calls")
    return {**answer["calls"], "elements": answer["elements"]}


def test_a_week_costs_legs_not_a_matrix_and_a_warm_plan_costs_nothing(
    stack: dict[str, str], settings: Settings, firestore_client: firestore.Client
) -> None:
    before = _calls(stack)
    trip = plan_new_trip("legs-user-1", _body("Rome", 7, "transit"), _deps(settings, firestore_client))
    cold = {key: value - before.get(key, 0) for key, value in _calls(stack).items()}
    assert trip["status"] == "ready"
    legs = sum(len(day["stops"]) + 1 for day in trip["days"] if day["stops"])
    assert legs >= 7 * 3
    assert cold["compute_route_matrix"] == 0
    assert cold["elements"] == 0
    # Transit legs one request each; verification and repairs may buy a few more, never a matrix over candidates.
    assert legs <= cold["compute_routes"] <= 2 * legs
    docs = [doc for doc in firestore_client.collection(ROUTE_CACHE).stream() if doc.id.startswith(LEG_DOC_PREFIX)]
    assert 0 < len(docs) <= 16  # one per transit time band used (the 0.5 degree area of Rome is one cell)
    assert sum(len((doc.to_dict() or {})["legs"]) for doc in docs) >= legs

    before = _calls(stack)
    again = plan_new_trip("legs-user-2", _body("Rome", 7, "transit"), _deps(settings, firestore_client))
    assert _calls(stack) == before  # a new instance on the same cache: no Maps call at all
    assert [[stop["place_id"] for stop in day["stops"]] for day in again["days"]] == [
        [stop["place_id"] for stop in day["stops"]] for day in trip["days"]
    ]


def test_every_leg_of_the_plan_is_the_real_leg(
    stack: dict[str, str], settings: Settings, firestore_client: firestore.Client
) -> None:
    trip = plan_new_trip("legs-user-3", _body("Kyoto", 3, "walk"), _deps(settings, firestore_client))
    assert trip["status"] == "ready"
    centre = trip["destination"]
    anchor = Waypoint(
        id=centre["place_id"], location=LatLng(latitude=centre["location"]["lat"], longitude=centre["location"]["lng"])
    )
    fresh = _maps(settings, None)  # no cache: what the Routes API answers now
    for day in trip["days"]:
        if not day["stops"]:
            continue
        points = (
            [anchor]
            + [
                Waypoint(
                    id=stop["place_id"],
                    location=LatLng(latitude=stop["location"]["lat"], longitude=stop["location"]["lng"]),
                )
                for stop in day["stops"]
            ]
            + [anchor]
        )
        queries = [LegQuery(origin=a, destination=b) for a, b in itertools.pairwise(points)]
        real = fresh.route_legs(queries, TravelMode.WALK)
        minutes = [math.ceil((leg.duration_s or 0) / 60) for leg in real]
        assert [stop["travel_from_previous"]["duration_min"] for stop in day["stops"]] == minutes[:-1]
        assert day["travel_min"] == sum(minutes)
        for stop, leg in zip(day["stops"], real, strict=False):
            assert stop["travel_from_previous"]["distance_m"] == leg.distance_m
