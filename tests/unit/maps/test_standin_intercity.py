"""The Maps stand-in's travel between cities: realistic train and road times within a land mass, no route across
open sea or beyond long-distance rail (as Google's Routes API has none across the sea)."""

from __future__ import annotations

import pytest

from scripts.maps_standin.loader import load_catalogue
from scripts.maps_standin.travel_model import estimate, road_travel

CITIES = {city.name: (city.center.lat, city.center.lng) for city in load_catalogue().cities.values()}


def minutes(mode: str, origin: str, destination: str) -> float | None:
    travel = estimate(mode, *CITIES[origin], *CITIES[destination])
    return None if travel is None else travel.duration_s / 60


@pytest.mark.parametrize(
    ("origin", "destination", "low", "high"),
    [("Tokyo", "Kyoto", 135, 160), ("Kyoto", "Tokyo", 135, 160), ("London", "Paris", 140, 160)],
)
def test_high_speed_trains_take_their_timetabled_time_plus_boarding(
    origin: str, destination: str, low: int, high: int
) -> None:
    found = minutes("transit", origin, destination)
    assert found is not None
    assert low <= found <= high


def test_roads_between_cities_take_hours_and_cross_the_channel_tunnel() -> None:
    tokyo_kyoto, london_paris = minutes("drive", "Tokyo", "Kyoto"), minutes("drive", "London", "Paris")
    assert tokyo_kyoto is not None
    assert 5 * 60 <= tokyo_kyoto <= 6 * 60
    assert london_paris is not None
    assert 4.5 * 60 <= london_paris <= 5.5 * 60


@pytest.mark.parametrize(
    ("origin", "destination"),
    [("Tokyo", "Sydney"), ("London", "New York"), ("Bangkok", "Tokyo"), ("Istanbul", "New York")],
)
def test_no_train_or_road_across_open_sea(origin: str, destination: str) -> None:
    assert minutes("transit", origin, destination) is None
    assert minutes("drive", origin, destination) is None


def test_no_rail_journey_as_long_as_rome_to_paris_but_a_long_drive() -> None:
    assert minutes("transit", "Rome", "Paris") is None
    drive = minutes("drive", "Rome", "Paris")
    assert drive is not None
    assert drive > 14 * 60


def test_road_variation_leaves_inter_city_times_alone() -> None:
    plain = estimate("transit", *CITIES["Tokyo"], *CITIES["Kyoto"])
    varied = road_travel("transit", *CITIES["Tokyo"], *CITIES["Kyoto"], variation=True, local_hour=8)
    assert varied == plain
