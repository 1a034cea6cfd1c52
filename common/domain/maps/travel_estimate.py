"""Travel-time estimates from straight-line distance, for the solver to work on before any Maps call.

An estimate is the great-circle distance times a detour factor per mode, at a speed per mode, plus a fixed overhead
(waiting and walking to the stop for transit, parking for driving). The defaults lean slow, so a plan built on
estimates rarely breaks once its real legs are known. ``calibrate`` scales them with real legs already cached for the
same city: the duration factor is a high quantile of real/estimated (cautious), the distance factor the median.

Calibration moves in steps (``CALIBRATION_TIERS``): it is fitted on the oldest N cached legs, N the largest tier the
cache holds. So the estimates of a city, and with them the plan the solver finds, stay the same while the cache
grows between two tiers: planning the same trip again finds every leg it uses cached and costs nothing.
Pure functions, no I/O.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from common.domain.maps.legs import CachedLeg
from common.domain.maps.models import TravelMode


@dataclass(frozen=True)
class ModeProfile:
    detour_factor: float
    speed_m_per_min: float
    overhead_min: float
    max_route_m: float


DEFAULT_PROFILES: dict[TravelMode, ModeProfile] = {
    TravelMode.WALK: ModeProfile(detour_factor=1.35, speed_m_per_min=75.0, overhead_min=0.0, max_route_m=25_000.0),
    TravelMode.TRANSIT: ModeProfile(detour_factor=1.45, speed_m_per_min=300.0, overhead_min=10.0, max_route_m=80_000.0),
    TravelMode.DRIVE: ModeProfile(detour_factor=1.5, speed_m_per_min=400.0, overhead_min=5.0, max_route_m=300_000.0),
}
CALIBRATION_TIERS = (100, 400, 1600)
MIN_SAMPLE_STRAIGHT_M = 150
DURATION_QUANTILE = 0.75
FACTOR_BOUNDS = (0.5, 3.0)


@dataclass(frozen=True)
class Calibration:
    """Multipliers on the default estimate, fitted on ``samples`` real legs (1.0 and 0 when there were too few)."""

    duration_factor: float = 1.0
    distance_factor: float = 1.0
    samples: int = 0


@dataclass(frozen=True)
class Estimate:
    seconds: int
    metres: int


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(min(1.0, math.sqrt(a)))


def _default(mode: TravelMode, straight_m: float) -> Estimate | None:
    profile = DEFAULT_PROFILES[mode]
    route_m = straight_m * profile.detour_factor
    if route_m > profile.max_route_m:
        return None
    if route_m < 1.0:
        return Estimate(seconds=0, metres=0)
    minutes = profile.overhead_min + route_m / profile.speed_m_per_min
    return Estimate(seconds=round(minutes * 60), metres=round(route_m))


def estimate(mode: TravelMode, straight_m: float, calibration: Calibration | None = None) -> Estimate | None:
    """Estimated travel over ``straight_m`` metres as the crow flies; ``None`` beyond the mode's reach."""
    found = _default(mode, straight_m)
    if found is None or calibration is None or found.metres == 0:
        return found
    return Estimate(
        seconds=math.ceil(found.seconds * calibration.duration_factor),
        metres=round(found.metres * calibration.distance_factor),
    )


def _quantile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * (len(ordered) - 1)))]


def calibrate(mode: TravelMode, samples: Iterable[CachedLeg]) -> Calibration:
    """Fit the multipliers on real legs of one city and mode: the oldest ``tier`` usable legs (those with a route
    and not too short), the largest tier there are enough of; none below the first tier."""
    usable = sorted(
        (leg for leg in samples if leg.seconds is not None and leg.straight_m >= MIN_SAMPLE_STRAIGHT_M),
        key=lambda leg: (leg.fetched_at, leg.straight_m, leg.seconds or 0),
    )
    tier = max((tier for tier in CALIBRATION_TIERS if tier <= len(usable)), default=0)
    if tier == 0:
        return Calibration()
    durations: list[float] = []
    distances: list[float] = []
    for leg in usable[:tier]:
        default = _default(mode, leg.straight_m)
        if default is None or default.seconds <= 0 or default.metres <= 0 or leg.seconds is None:
            continue
        durations.append(leg.seconds / default.seconds)
        distances.append((leg.metres or 0) / default.metres)
    if not durations:
        return Calibration()
    low, high = FACTOR_BOUNDS
    return Calibration(
        duration_factor=min(high, max(low, _quantile(durations, DURATION_QUANTILE))),
        distance_factor=min(high, max(low, statistics.median(distances))),
        samples=len(durations),
    )
