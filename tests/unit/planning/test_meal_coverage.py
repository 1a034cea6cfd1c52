"""Places to eat near every area of sights: seen places first (no Maps call), then one biased search per area."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from common.domain.maps import LatLng, MapsUsage, Place, PlaceSearch
from common.foundation.config import load_settings
from common.services.planning import meals
from common.services.planning.meals import cover_meal_areas
from common.services.planning.service import PlanningRun
from common.services.trips.models import parse_trip_request

KM_PER_DEGREE = 111.0


def at(place_id: str, east_km: float, north_km: float = 0.0, kind: str = "museum", **extra: Any) -> Place:
    return Place(
        id=place_id,
        name=place_id,
        location=LatLng(latitude=north_km / KM_PER_DEGREE, longitude=east_km / KM_PER_DEGREE),
        types=(kind,),
        primary_type=kind,
        **extra,
    )


@dataclass
class FakeMaps:
    answers: list[Place] = field(default_factory=list)
    searches: list[PlaceSearch] = field(default_factory=list)

    def search_places(self, search: PlaceSearch, *, usage: MapsUsage | None = None) -> tuple[Place, ...]:
        self.searches.append(search)
        return tuple(self.answers)


@dataclass
class FakeTools:
    maps: FakeMaps
    seen_places: list[Place] = field(default_factory=list)
    language: str = "en"

    @property
    def seen(self) -> dict[str, Place]:
        return {place.id: place for place in self.seen_places}

    def remember(self, places: Any) -> None:
        self.seen_places.extend(places)


def run(**request: Any) -> PlanningRun:
    today = dt.date(2027, 1, 1)
    body = {"destination": "Paris", "start_date": "2027-02-01", "end_date": "2027-02-02", **request}
    return PlanningRun(trip_id="t", request=parse_trip_request(body, load_settings(), today))


def test_a_seen_restaurant_near_an_uncovered_sight_is_added_without_a_search() -> None:
    sights = [at("west", -5), at("east", 5)]
    venues = [at("bistro", 5.3, kind="restaurant")]
    tools = FakeTools(FakeMaps(), seen_places=[at("far", 0, kind="restaurant"), at("near", -5.4, kind="restaurant")])
    result = cover_meal_areas(run(), tools, [*sights, *venues])  # type: ignore[arg-type]
    assert [place.id for place in result] == ["west", "east", "bistro", "near"]
    assert tools.maps.searches == []


def test_an_uncovered_area_gets_one_biased_search_and_a_lone_sight_none() -> None:
    area = [at("a1", -5), at("a2", -5.5)]
    lone = at("lone", 8)
    maps = FakeMaps(answers=[at("found", -5.2, kind="restaurant"), at("elsewhere", 3, kind="restaurant")])
    tools = FakeTools(maps)
    result = cover_meal_areas(run(), tools, [*area, lone, at("bistro", 0, kind="restaurant")])  # type: ignore[arg-type]
    assert [place.id for place in result][-1] == "found"
    assert len(result) == 5
    assert len(maps.searches) == 1
    search = maps.searches[0]
    assert search.near is not None
    assert abs(search.near.longitude * KM_PER_DEGREE - (-5.25)) < 0.01
    assert search.radius_m == meals.AREA_SEARCH_RADIUS_M


def test_stated_needs_are_respected_and_the_additions_are_bounded() -> None:
    sights = [at(f"s{index}", 3 * index) for index in range(1, 9)]
    seen = [at(f"r{index}", 3 * index + 0.2, kind="restaurant") for index in range(1, 9)]
    seen[0] = at("r1", 3.2, kind="restaurant", serves_vegetarian_food=False)
    tools = FakeTools(FakeMaps(), seen_places=seen)
    result = cover_meal_areas(run(dietary=["vegetarian"]), tools, sights)  # type: ignore[arg-type]
    added = [place.id for place in result[len(sights) :]]
    assert "r1" not in added
    assert len(added) == meals.MAX_ADDED_VENUES
