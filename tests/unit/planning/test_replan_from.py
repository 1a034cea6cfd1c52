"""The rules of a re-plan request (from, keep, skip), the stops behind the traveller, what a re-plan changed, and
locks set by PATCH (pure: no stack)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from common.foundation.config import load_settings
from common.foundation.errors import InvalidRequest
from common.services.planning.replan_from import (
    check_options,
    day_changes,
    day_constraints,
    stops_behind,
)
from common.services.trips import day_inputs, editing, store
from common.services.trips.models import ReplanOptions, Trip
from tests.unit.trips.factories import T0, trip_from

SETTINGS = load_settings(max_places_per_day=5)
DAY = "2026-06-01"
KYOTO = {"name": "Kyoto", "location": {"lat": 35.0116, "lng": 135.7681}, "time_zone": "Asia/Tokyo"}


def _stop(place_id: str, arrive: str, depart: str, **extra: Any) -> dict[str, Any]:
    return {"place_id": place_id, "name": place_id.title(), "arrive": arrive, "depart": depart} | extra


def _trip() -> Trip:
    stops = [
        _stop("temple", "09:30", "11:00"),
        _stop("noodles", "11:45", "13:00", meal="lunch", category="restaurant"),
        _stop("museum", "13:30", "15:30"),
        _stop("garden", "16:00", "17:00", locked=True, timing="fixed"),
        _stop("market", "17:15", "18:00"),
        _stop("izakaya", "19:00", "20:30", meal="dinner", category="restaurant"),
    ]
    return trip_from({"destination": KYOTO, "days": [{"date": DAY, "stops": stops}], "version": 3})


def _options(body: dict[str, Any]) -> ReplanOptions:
    return ReplanOptions.model_validate(body)


def _problems(body: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(InvalidRequest) as raised:
        check_options(_trip(), 1, _options(body), SETTINGS)
    return [(problem["field"], problem["message"]) for problem in raised.value.details]


def test_every_problem_of_keep_skip_and_from_is_listed_at_once() -> None:
    problems = _problems(
        {
            "from": {"time": "22:30", "location": {"lat": 48.85, "lng": 2.35}},
            "keep": ["museum", "eiffel", "market"],
            "skip": ["market", "garden", "temple"],
        }
    )
    fields = [field for field, _ in problems]
    assert fields == ["keep.1", "keep.2", "skip.0", "skip.1", "skip.2", "from.time", "from.location"]
    messages = dict(problems)
    assert "not a stop" in messages["keep.1"]
    assert "both keep and skip" in messages["keep.2"]
    assert "behind at 22:30" in messages["skip.0"]
    assert "locked" in messages["skip.1"]
    assert "behind" in messages["skip.2"]
    assert "22:00" in messages["from.time"]


def test_a_good_request_passes_and_shapes_are_checked_by_the_model() -> None:
    check_options(_trip(), 1, _options({"from": {"time": "14:30", "location": KYOTO["location"]}}), SETTINGS)
    check_options(_trip(), 1, _options({"keep": ["museum"], "skip": ["market"]}), SETTINGS)
    with pytest.raises(ValidationError) as raised:
        _options({"from": {"time": "7:5", "location": {"lat": 91, "lng": 0}}, "keep": ["bad id!"], "x": 1})
    assert {".".join(str(part) for part in error["loc"]) for error in raised.value.errors()} == {
        "from.time",
        "from.location.lat",
        "keep.0",
        "x",
    }


def test_stops_behind_keep_what_is_done_and_cut_the_stop_in_progress() -> None:
    day = _trip().days[0]
    behind, start = stops_behind(day, 14 * 60 + 30)
    assert [(stop.place_id, stop.arrive, stop.depart) for stop in behind] == [
        ("temple", "09:30", "11:00"),
        ("noodles", "11:45", "13:00"),
        ("museum", "13:30", "14:30"),
    ]
    assert behind[2].duration_min == 60
    assert start == 14 * 60 + 30
    locked_in_progress, start = stops_behind(day, 16 * 60 + 30)
    assert (locked_in_progress[-1].place_id, locked_in_progress[-1].depart) == ("garden", "17:00"), "never cut"
    assert start == 17 * 60, "the rest starts when the locked stop ends"
    assert stops_behind(day, 8 * 60) == ([], 8 * 60)


def test_constraints_of_the_rest_of_the_day() -> None:
    trip = _trip()
    body = {"from": {"time": "14:30", "location": KYOTO["location"]}, "keep": ["market", "temple"], "skip": []}
    constraints, behind = day_constraints(trip, trip.days[0], _options(body), SETTINGS)
    assert [stop.place_id for stop in behind] == ["temple", "noodles", "museum"]
    assert constraints.required_ids == {"market", "garden"}, "keep ahead and the lock; temple is behind already"
    assert [(lock.place_id, lock.arrive_minute, lock.depart_minute) for lock in constraints.locks] == [
        ("garden", 960, 1020)
    ]
    assert constraints.window is not None
    assert constraints.window.start == 870
    assert constraints.meals_had == {"lunch"}
    assert constraints.sights_behind == 2
    assert constraints.pool_ids == {"garden", "market", "izakaya"}
    whole, none_behind = day_constraints(trip, trip.days[0], _options({"skip": ["market"]}), SETTINGS)
    assert none_behind == []
    assert whole.start is None
    assert whole.window is None
    assert "market" not in whole.pool_ids
    assert whole.required_ids == {"garden"}


def test_changes_name_what_stayed_moved_left_and_came() -> None:
    before = _trip().days[0].stops
    after = [before[0], before[1].model_copy(update={"arrive": "12:00"}), before[3]]
    extra = before[4].model_copy(update={"place_id": "tower", "name": "Tower"})
    changes = day_changes(before, [*after, extra])
    assert changes.kept == ["Temple", "Garden"]
    assert changes.retimed == ["Noodles"]
    assert changes.dropped == ["Museum", "Market", "Izakaya"]
    assert changes.added == ["Tower"]


def _patch(trip: Trip, stops: list[dict[str, Any]]) -> Trip:
    patch, version = editing.parse_patch({"version": 3, "days": [{"date": DAY, "stops": stops}]}, trip, SETTINGS, None)
    edited, _ = editing.patch_fields(trip, patch, version, T0)
    return edited


def test_patch_locks_a_stop_at_its_times_and_keeps_the_lock_on_later_edits() -> None:
    trip = _patch(_trip(), [{"place_id": "temple", "locked": True}, {"place_id": "museum"}])
    temple, museum = trip.days[0].stops
    assert (temple.arrive, temple.depart, temple.locked, temple.timing) == ("09:30", "11:00", True, "fixed")
    assert not museum.locked
    assert museum.timing == "auto"
    assert trip.days[0].changes is None
    assert trip.days[0].replanned_from is None
    again = _patch(trip.model_copy(update={"version": 3}), [{"place_id": "museum"}, {"place_id": "temple"}])
    assert [(stop.place_id, stop.locked, stop.arrive) for stop in again.days[0].stops] == [
        ("museum", False, "09:00"),
        ("temple", True, "09:30"),
    ]
    # The museum (provisionally 09:00-11:00) ends after the locked temple starts: warned, not moved.
    assert any("locked at 09:30-11:00, not moved" in warning for warning in again.days[0].stops[1].warnings)
    unlocked = _patch(again.model_copy(update={"version": 3}), [{"place_id": "temple", "locked": False}])
    assert not unlocked.days[0].stops[0].locked


def test_a_new_stop_cannot_be_locked_without_times_and_a_lock_changes_the_day_hash() -> None:
    with pytest.raises(InvalidRequest) as raised:
        _patch(_trip(), [{"name": "Somewhere New", "locked": True}])
    assert [problem["field"] for problem in raised.value.details] == ["days.0.stops.0.locked"]
    day = _trip().days[0]
    unlocked = day.model_copy(update={"stops": [stop.model_copy(update={"locked": False}) for stop in day.stops]})
    assert day_inputs.day_hash(day) != day_inputs.day_hash(unlocked)
    assert "locked" not in str(day_inputs.day_inputs(unlocked)), "days without locks hash as before"
    assert store.document_of(day)["stops"][3]["locked"] is True
