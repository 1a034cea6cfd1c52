"""Deterministic travel-time model of the Maps stand-in (dev and test only).

Route distance is the great-circle distance times a detour factor per mode; duration is that distance at a speed
per mode plus a fixed overhead (waiting and walking to the stop for transit, parking for driving). Pairs beyond a
mode's reach have no route.
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
    route_m = haversine_m(lat1, lng1, lat2, lng2) * profile.detour_factor
    if route_m > profile.max_route_m:
        return None
    if route_m < 1.0:
        return TravelEstimate(distance_m=0, duration_s=0)
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
    if travel is None or not variation or travel.distance_m == 0:
        return travel
    low, high = PAIR_FACTOR_RANGE[mode]
    factor = low + (high - low) * _pair_fraction(lat1, lng1, lat2, lng2)
    seconds = travel.duration_s * factor
    if mode == "transit" and local_hour is not None and local_hour in RUSH_HOURS:
        seconds *= RUSH_FACTOR
    return TravelEstimate(distance_m=round(travel.distance_m * min(factor, 1.3)), duration_s=round(seconds))
