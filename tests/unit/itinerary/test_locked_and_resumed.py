"""Locked stops, a day planned from where the traveller is (fixed start), waits filled with sights, and the validator
on resumed days and locks."""

from __future__ import annotations

import pytest

from common.domain.itinerary import (
    DayAnchor,
    DayPlan,
    Itinerary,
    LatLng,
    Preferences,
    Stop,
    TimeWindow,
    WarningCode,
    plan_trip,
    validate,
)
from common.domain.itinerary.locked import apply_locks, lock_conflicts
from common.domain.itinerary.models import LockedVisit, ResumePoint
from tests.unit.itinerary.factories import HOTEL, MONDAY, daily_periods, place, problem, walking_matrix

NO_MEALS = Preferences(lunch_window=None, dinner_window=None)


def _lock(place_id: str, arrive: int, depart: int) -> LockedVisit:
    return LockedVisit(place_id=place_id, date=MONDAY, arrive_minute=arrive, depart_minute=depart)


def _line(count: int, spacing: float = 800.0) -> list:  # type: ignore[type-arg]
    return [place(f"p{index}", spacing * (index + 1), priority=1.0 + index / 10) for index in range(count)]


@pytest.mark.parametrize("force_greedy", [False, True])
def test_a_locked_stop_keeps_its_place_and_times_and_the_others_fit_around_it(force_greedy: bool) -> None:
    places = _line(5)
    locked = apply_locks(problem(places, preferences=NO_MEALS), [_lock("p0", 14 * 60, 15 * 60 + 30)])
    assert lock_conflicts(locked) == {}
    itinerary = plan_trip(locked, force_greedy=force_greedy)
    stops = itinerary.days[0].stops
    assert [(stop.arrive_minute, stop.depart_minute) for stop in stops if stop.place_id == "p0"] == [(840, 930)]
    assert len(stops) > 1, "the other stops are planned around it"
    assert validate(locked, itinerary) == []


def test_a_lock_that_cannot_be_kept_is_named_with_the_reason() -> None:
    closed_mornings = place("museum", 400, periods=daily_periods("13:00", "18:00"))
    far = place("far", 40_000)
    places = [closed_mornings, far, place("a", 300), place("b", 500)]
    locks = [
        _lock("museum", 10 * 60, 11 * 60),  # closed then
        _lock("far", 9 * 60 + 10, 10 * 60),  # 500 minutes' walk from the hotel
        _lock("a", 7 * 60, 8 * 60),  # before the day starts
        _lock("b", 16 * 60, 17 * 60),
    ]
    conflicts = lock_conflicts(apply_locks(problem(places, preferences=NO_MEALS), locks))
    assert set(conflicts) == {"museum", "far", "a"}
    assert "closed" in conflicts["museum"]
    assert "cannot be there before" in conflicts["far"]
    assert "outside the day" in conflicts["a"]


def test_a_lock_on_an_avoided_kind_of_place_is_reported() -> None:
    bar = place("bar", 300, category="bar")
    preferences = NO_MEALS.model_copy(update={"avoid_categories": ["bar"], "avoid_place_ids": ["bar"]})
    locked = apply_locks(problem([bar], preferences=preferences), [_lock("bar", 20 * 60, 21 * 60)])
    assert locked.preferences.avoid_place_ids == [], "a lock overrides avoiding that one place"
    assert "avoids" in lock_conflicts(locked)["bar"]


def test_two_locks_overlapping_are_reported() -> None:
    places = [place("a", 300), place("b", 500)]
    locks = [_lock("a", 10 * 60, 11 * 60), _lock("b", 10 * 60 + 30, 11 * 60 + 30)]
    conflicts = lock_conflicts(apply_locks(problem(places, preferences=NO_MEALS), locks))
    assert list(conflicts) == ["b"]
    assert "overlapping" in conflicts["b"]


def test_a_wait_before_a_lock_is_filled_with_an_unused_sight() -> None:
    """A morning sight, a lock at 18:00 and, far away, a low-priority sight the solver leaves out for its travel: the
    traveller would wait seven hours; the engine fills the wait with it."""
    early = place("early", 300, priority=5.0, periods=daily_periods("09:00", "11:00"))
    far = place("far", 15_000, priority=0.0)
    near = place("near", 600, priority=5.0)
    locked = apply_locks(problem([early, far, near], preferences=NO_MEALS), [_lock("near", 18 * 60, 19 * 60)])
    itinerary = plan_trip(locked)
    assert [stop.place_id for stop in itinerary.days[0].stops] == ["early", "far", "near"]
    waits = [warning for warning in itinerary.warnings if warning.code == WarningCode.IDLE_GAP]
    assert all(int(warning.message.split("-minute")[0].split()[-1]) < 300 for warning in waits), waits
    assert validate(locked, itinerary) == []


def test_a_fixed_start_does_not_move_the_day_later_and_warns_of_a_wait() -> None:
    """From where the traveller is at 14:00, with one sight opening at 16:00 and nothing else: the wait is theirs
    (with a warning), not hidden by a later start."""
    here = LatLng(lat=0, lng=500 / 111_000)
    late = place("late", 700, periods=daily_periods("16:00", "20:00"))
    matrix = walking_matrix([late], extra_nodes={"here": here})
    preferences = NO_MEALS.model_copy(update={"fixed_start": True, "day_window": TimeWindow(start=840, end=1320)})
    rest = problem(
        [late], preferences=preferences, matrix=matrix, anchor=DayAnchor(start_node_id="here", end_node_id=HOTEL)
    )
    itinerary = plan_trip(rest)
    (stop,) = itinerary.days[0].stops
    assert stop.arrive_minute == 16 * 60
    waits = [warning for warning in itinerary.warnings if warning.code == WarningCode.IDLE_GAP]
    assert len(waits) == 1
    assert "opens at 16:00" in waits[0].message
    free = Preferences(lunch_window=None, dinner_window=None, day_window=TimeWindow(start=840, end=1320))
    flexible = plan_trip(rest.model_copy(update={"preferences": free}))
    assert not [warning for warning in flexible.warnings if warning.code == WarningCode.IDLE_GAP], (
        "without a fixed start, the day would simply start later"
    )


def test_the_validator_measures_a_resumed_day_from_the_point() -> None:
    a, b = place("a", 800), place("b", 1600)
    here = LatLng(lat=0, lng=1500 / 111_000)  # 100 m from b: 2 minutes' walk
    checked = problem([a, b], preferences=NO_MEALS, matrix=walking_matrix([a, b], extra_nodes={"here": here}))
    stops = [
        Stop(place_id="a", arrive_minute=9 * 60 + 10, depart_minute=10 * 60),
        # b is 10 minutes' walk from a, but the traveller is 2 minutes from it at 14:30.
        Stop(place_id="b", arrive_minute=14 * 60 + 32, depart_minute=15 * 60),
    ]
    resumed = Itinerary(
        days=[DayPlan(date=MONDAY, stops=stops, resume=ResumePoint(node_id="here", minute=870, before_stop=1))]
    )
    assert validate(checked, resumed) == [], "no idle gap: the traveller was elsewhere until 14:30"
    too_soon = [*stops[:1], stops[1].model_copy(update={"arrive_minute": 14 * 60 + 31})]
    late = Itinerary(days=[resumed.days[0].model_copy(update={"stops": too_soon})])
    assert [violation.rule for violation in validate(checked, late)] == ["travel_too_short"]
    plain = Itinerary(days=[DayPlan(date=MONDAY, stops=stops)])
    assert [violation.rule for violation in validate(checked, plain)] == ["idle_gap"]


def test_the_validator_flags_a_locked_stop_moved_or_missing() -> None:
    places = [place("a", 800), place("b", 1600)]
    locked = apply_locks(problem(places, preferences=NO_MEALS), [_lock("a", 10 * 60, 11 * 60)])
    moved = Itinerary(days=[DayPlan(date=MONDAY, stops=[Stop(place_id="a", arrive_minute=630, depart_minute=690)])])
    missing = Itinerary(days=[DayPlan(date=MONDAY, stops=[Stop(place_id="b", arrive_minute=600, depart_minute=660)])])
    kept = Itinerary(days=[DayPlan(date=MONDAY, stops=[Stop(place_id="a", arrive_minute=600, depart_minute=660)])])
    assert [violation.rule for violation in validate(locked, moved)] == ["locked"]
    assert "locked" in [violation.rule for violation in validate(locked, missing)]
    assert validate(locked, kept) == []
