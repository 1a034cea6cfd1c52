"""Deterministic travel-time model of the Maps stand-in (dev and test only).

Route distance is the great-circle distance times a detour factor per mode; duration is that distance at a speed
per mode plus a fixed overhead (waiting and walking to the stop for transit, parking for driving). Pairs beyond a
mode's reach in town have no route, unless both ends lie in one region connected by land (``GROUND_REGIONS``): then
the pair is a trip between cities, by long-distance train (transit) or motorway (drive), up to that mode's
inter-city reach (``INTERCITY_PROFILES``). Across open sea (Tokyo-Sydney, London-New York) or beyond the reach
(Rome-Paris by train: the stand-in's Routes, unlike Google's, has no 1,400 km rail journeys) there is no route.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_000.0


@dataclass(frozen=True)
class ModeProfile:
    detour_factor: float
    speed_m_per_min: float
    overhead_min: float
    max_route_m: float


PROFILES: dict[str, ModeProfile] = {
    "walk": ModeProfile(detour_factor=1.3, speed_m_per_min=80.0, overhead_min=0.0, max_route_m=25_000.0),
    "transit": ModeProfile(detour_factor=1.4, speed_m_per_min=333.0, overhead_min=8.0, max_route_m=80_000.0),
    "drive": ModeProfile(detour_factor=1.5, speed_m_per_min=450.0, overhead_min=4.0, max_route_m=300_000.0),
}


# Inter-city travel. Train: high-speed rail at about 230 km/h on 1.25 times the straight line, plus 30 minutes to
# reach the station and board (Tokyo-Kyoto: 2 h 30 min, the Nozomi's 2 h 15 min plus getting on; London-Paris:
# 2 h 23 min, Eurostar's 2 h 16 min plus check-in). Road: 90 km/h on average on 1.3 times the straight line, plus
# 15 minutes (Tokyo-Kyoto about 5 h 30 min; London-Paris about 5 h 15 min with the Channel Tunnel's shuttle).
INTERCITY_PROFILES: dict[str, ModeProfile] = {
    "transit": ModeProfile(detour_factor=1.25, speed_m_per_min=3_800.0, overhead_min=30.0, max_route_m=1_000_000.0),
    "drive": ModeProfile(detour_factor=1.3, speed_m_per_min=1_500.0, overhead_min=15.0, max_route_m=2_500_000.0),
}
# Land masses a train or a car can cross (latitude and longitude boxes, coarse but right for the catalogue):
# Honshu (Tokyo, Kyoto); Europe with Great Britain through the Channel Tunnel and Istanbul across the Bosphorus
# bridges; North America (New York, San Francisco, Mexico City). Bangkok and Sydney are in none: nothing long-distance.
GROUND_REGIONS: dict[str, tuple[float, float, float, float]] = {
    "honshu": (33.4, 41.6, 130.8, 142.2),
    "europe": (36.0, 71.5, -10.0, 40.0),
    "north_america": (14.0, 72.0, -170.0, -52.0),
}


def ground_region(lat: float, lng: float) -> str | None:
    """The land mass of ``GROUND_REGIONS`` a point lies on, or ``None``."""
    for name, (lat_min, lat_max, lng_min, lng_max) in GROUND_REGIONS.items():
        if lat_min <= lat <= lat_max and lng_min <= lng <= lng_max:
            return name
    return None


@dataclass(frozen=True)
class TravelEstimate:
    distance_m: int
    duration_s: int


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def estimate(mode: str, lat1: float, lng1: float, lat2: float, lng2: float) -> TravelEstimate | None:
    """Travel between two points by ``mode`` (walk, transit, drive); ``None`` when no route exists."""
    profile = PROFILES[mode]
    straight_m = haversine_m(lat1, lng1, lat2, lng2)
    route_m = straight_m * profile.detour_factor
    if route_m > profile.max_route_m:
        return _intercity(mode, straight_m, ground_region(lat1, lng1), ground_region(lat2, lng2))
    if route_m < 1.0:
        return TravelEstimate(distance_m=0, duration_s=0)
    minutes = profile.overhead_min + route_m / profile.speed_m_per_min
    return TravelEstimate(distance_m=round(route_m), duration_s=round(minutes * 60))


def _intercity(mode: str, straight_m: float, region_from: str | None, region_to: str | None) -> TravelEstimate | None:
    """Travel between two cities of one land mass by long-distance train or road; ``None`` otherwise."""
    profile = INTERCITY_PROFILES.get(mode)
    if profile is None or region_from is None or region_from != region_to:
        return None
    route_m = straight_m * profile.detour_factor
    if route_m > profile.max_route_m:
        return None
    minutes = profile.overhead_min + route_m / profile.speed_m_per_min
    return TravelEstimate(distance_m=round(route_m), duration_s=round(minutes * 60))


# Real streets are not a constant factor of the straight line: with ``variation`` on, each ordered pair gets a
# deterministic factor (from its coordinates) on distance and duration, and transit is slower in the rush hours.
# Off by default (answers equal ``estimate``); benches turn it on so that estimates can be checked against it.
PAIR_FACTOR_RANGE = {"walk": (0.95, 1.25), "transit": (0.85, 1.45), "drive": (0.9, 1.4)}
RUSH_HOURS = frozenset({7, 8, 9, 17, 18, 19})
RUSH_FACTOR = 1.2


def _pair_fraction(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    text = f"{lat1:.5f},{lng1:.5f}>{lat2:.5f},{lng2:.5f}"
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def road_travel(
    mode: str,
    lat1: float,
    lng1: float,
    lat2: float,
    lng2: float,
    *,
    variation: bool = False,
    local_hour: int | None = None,
) -> TravelEstimate | None:
    """``estimate`` as the stand-in answers it: with ``variation``, a per-pair factor and the transit rush hours."""
    travel = estimate(mode, lat1, lng1, lat2, lng2)
    if travel is None or not variation or travel.distance_m == 0 or travel.distance_m > PROFILES[mode].max_route_m:
        return travel  # timetabled trains and motorways between cities: no per-pair or rush-hour variation
    low, high = PAIR_FACTOR_RANGE[mode]
    factor = low + (high - low) * _pair_fraction(lat1, lng1, lat2, lng2)
    seconds = travel.duration_s * factor
    if mode == "transit" and local_hour is not None and local_hour in RUSH_HOURS:
        seconds *= RUSH_FACTOR
    return TravelEstimate(distance_m=round(travel.distance_m * min(factor, 1.3)), duration_s=round(seconds))
