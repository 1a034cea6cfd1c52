"""Straight-line travel estimates and their calibration on cached real legs (pure logic)."""

from __future__ import annotations

import pytest

from common.domain.maps import TravelMode
from common.domain.maps.legs import CachedLeg, time_band
from common.domain.maps.travel_estimate import CALIBRATION_TIERS, Calibration, calibrate, estimate


def _legs(count: int, factor: float, mode: TravelMode = TravelMode.WALK, start: float = 0.0) -> list[CachedLeg]:
    legs = []
    for index in range(count):
        straight = 500 + 10 * index
        base = estimate(mode, straight)
        assert base is not None
        legs.append(
            CachedLeg(
                seconds=round(base.seconds * factor),
                metres=base.metres,
                straight_m=straight,
                fetched_at=start + index,
            )
        )
    return legs


def test_estimates_grow_with_distance_and_stop_at_the_modes_reach() -> None:
    near, far = estimate(TravelMode.WALK, 500), estimate(TravelMode.WALK, 2_000)
    assert near is not None
    assert far is not None
    assert 0 < near.seconds < far.seconds
    assert near.metres > 500  # streets are longer than the straight line
    assert estimate(TravelMode.WALK, 100_000) is None
    transit = estimate(TravelMode.TRANSIT, 500)
    assert transit is not None
    assert transit.seconds >= 600
    assert estimate(TravelMode.DRIVE, 0) == estimate(TravelMode.WALK, 0)


def test_no_calibration_below_the_first_tier() -> None:
    assert calibrate(TravelMode.WALK, _legs(CALIBRATION_TIERS[0] - 1, 1.5)) == Calibration()


def test_calibration_is_cautious_and_moves_in_steps() -> None:
    # 100 legs: half as fast as the estimate for 60 of them, as estimated for 40: the 75th percentile is slow.
    legs = _legs(60, 1.5) + _legs(40, 1.0, start=1000)
    fitted = calibrate(TravelMode.WALK, legs)
    assert fitted.samples == 100
    assert fitted.duration_factor == pytest.approx(1.5, abs=0.01)
    slowed = estimate(TravelMode.WALK, 1_000, fitted)
    plain = estimate(TravelMode.WALK, 1_000)
    assert slowed is not None
    assert plain is not None
    assert slowed.seconds > plain.seconds
    # More legs below the next tier change nothing: the same trip planned again sees the same estimates.
    assert calibrate(TravelMode.WALK, [*legs, *_legs(200, 0.5, start=5000)]) == fitted


def test_legs_without_a_route_or_too_short_do_not_calibrate() -> None:
    useless = [CachedLeg(seconds=None, metres=None, straight_m=800, fetched_at=0)] * 200
    useless += [CachedLeg(seconds=30, metres=40, straight_m=20, fetched_at=1)] * 200
    assert calibrate(TravelMode.WALK, useless) == Calibration()


def test_time_bands() -> None:
    import datetime as dt

    wednesday_8 = dt.datetime(2027, 6, 9, 8, 30)
    saturday_20 = dt.datetime(2027, 6, 12, 20, 0)
    assert time_band(TravelMode.TRANSIT, wednesday_8) == "wd06"
    assert time_band(TravelMode.TRANSIT, saturday_20) == "we18"
    assert time_band(TravelMode.TRANSIT, None) == "now"
    assert time_band(TravelMode.WALK, wednesday_8) == "any"
