"""What a re-plan of one day must respect: where and when it starts (``from``), what it keeps, skips and must not
move (locked stops), and what it changed.

Policies (the issue left them open):
- Stops are named by ``place_id`` in ``keep`` and ``skip``; each must name a stop of the day, none both, a locked
  stop cannot be skipped (unlock it first) and, with ``from``, a stop already behind cannot be skipped (keeping
  one is accepted: it stays as it was). Every problem is listed in one 400.
- ``from.time`` must lie before the end of the day window of the trip's pace; ``from.location`` must lie within the
  search radius of the destination (``default_search_radius`` km).
- Behind the traveller at ``from.time``: every stop that departs by then, exactly as it was. A stop in progress at
  ``from.time`` stays too, its departure cut to ``from.time`` (the traveller says they are elsewhere now), unless it
  is locked: a locked stop is never cut, the rest of the day then starts when it ends. A ``from.time`` before the
  day window or the first stop leaves nothing behind: the whole day is planned from ``from.location``, starting at
  the later of ``from.time`` and the window's start.
- The rest is planned as a day of its own: it starts at ``from.location`` at that time (the first leg is a real leg
  from there), ends at the lodging by the window's end, holds the meals not had yet whose window still has at least
  ``REST_MEAL_OVERLAP`` minutes to go, and at most the pace's sights minus those behind. Its places come from the
  same planner and candidate pool as a new plan, minus the stops behind, the skipped ones and the other days'.
- ``keep`` stops are must-includes (planned at a time that fits, not necessarily theirs); locked stops ahead keep
  their place and times exactly (``common.domain.itinerary.locked``). A lock that cannot be kept is a 409 that says
  why; nothing is moved.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from common.domain.itinerary import DayAnchor, MealKind, Pace, TimeWindow, TripProblem, with_day_windows
from common.domain.itinerary.clusters import distance_km
from common.domain.itinerary.locked import apply_locks, lock_conflicts
from common.domain.itinerary.models import LockedVisit, Violation
from common.domain.maps import LatLng, Waypoint
from common.foundation.config import Settings
from common.foundation.errors import Conflict, InvalidRequest
from common.foundation.times import clock_minutes, clock_text
from common.services.planning.assemble import day_summary, warnings_about
from common.services.trips.models import Day, DayChanges, Money, ReplanOptions, ReplanStart, Stop, Trip
from common.services.trips.models import LatLng as StopLocation

HERE_NODE = "traveller-position"
LOCKS_NOT_KEPT = "locked stops cannot be kept at their times; unlock or move them first"
REST_MEAL_OVERLAP = 30  # minutes of a meal window still ahead for the rest of the day to need that meal


def day_window(trip: Trip, settings: Settings) -> TimeWindow:
    return with_day_windows(settings.day_windows())[Pace(trip.pace)].day_window


def option_problems(trip: Trip, day_index: int, options: ReplanOptions, settings: Settings) -> list[dict[str, str]]:
    """Every problem of ``options`` for re-planning day ``day_index`` (0-based) of ``trip`` (empty: fine)."""
    problems: list[dict[str, str]] = []
    day = trip.days[day_index]
    by_id = {stop.place_id: stop for stop in day.stops if stop.place_id}
    start = options.from_
    behind = {stop.place_id for stop in stops_behind(day, clock_minutes(start.time))[0]} if start else set()
    for where, ids in (("keep", options.keep), ("skip", options.skip)):
        for index, place_id in enumerate(ids):
            at = f"{where}.{index}"
            if place_id not in by_id:
                problems.append({"field": at, "message": f"{place_id} is not a stop of day {day.date.isoformat()}"})
            elif where == "keep" and place_id in options.skip:
                problems.append({"field": at, "message": f"{place_id} is in both keep and skip"})
            elif where == "skip" and by_id[place_id].locked:
                problems.append({"field": at, "message": f"{place_id} is locked: unlock it first (PATCH)"})
            elif where == "skip" and place_id in behind:
                problems.append({"field": at, "message": f"{place_id} is already behind at {start and start.time}"})
    if start is not None:
        window = day_window(trip, settings)
        if clock_minutes(start.time) >= window.end:
            problems.append({"field": "from.time", "message": f"the day ends at {clock_text(window.end)}"})
        elif day.transfer is not None and clock_minutes(start.time) < clock_minutes(day.transfer.arrive):
            # A travel day's rest is re-planned in the city reached: not while the traveller is still on the move.
            problems.append(
                {
                    "field": "from.time",
                    "message": f"must not be before the arrival in {day.transfer.to_name[:60]} at "
                    f"{day.transfer.arrive}",
                }
            )
        destination = trip.city_of(day_index)  # the day's city (a travel day: the city reached)
        if destination is not None:
            away = distance_km(
                (start.location.lat, start.location.lng), (destination.location.lat, destination.location.lng)
            )
            if away > settings.default_search_radius:
                problems.append(
                    {
                        "field": "from.location",
                        "message": f"{away:.0f} km from {destination.name}; "
                        f"at most {settings.default_search_radius:.0f}",
                    }
                )
    return problems


def check_options(trip: Trip, day_number: int, options: ReplanOptions, settings: Settings) -> None:
    """400 listing every problem of ``options`` for day ``day_number`` (1-based; the day must exist)."""
    problems = option_problems(trip, day_number - 1, options, settings)
    if problems:
        raise InvalidRequest("the re-plan request is not valid", details=problems)


def stops_behind(day: Day, minute: int) -> tuple[list[Stop], int]:
    """The stops behind the traveller at ``minute`` (see the module notes) and the minute the rest starts."""
    behind: list[Stop] = []
    start = minute
    for stop in day.stops:
        arrive, depart = clock_minutes(stop.arrive), clock_minutes(stop.depart)
        if depart <= minute:
            behind.append(stop)
        elif arrive < minute:
            if stop.locked:
                behind.append(stop)
                start = max(start, depart)
            else:
                cut = stop.model_copy(deep=True)
                cut.depart = clock_text(minute)
                cut.duration_min = minute - arrive
                behind.append(cut)
        else:
            break
    return behind, start


@dataclass
class DayConstraints:
    """What ``choose_and_schedule`` must respect when it plans (the rest of) one day."""

    date: dt.date
    required_ids: frozenset[str] = frozenset()  # keep and locked ahead: candidates and must-includes
    pool_ids: frozenset[str] = frozenset()  # the day's other stops ahead, not skipped: candidates again
    locks: list[LockedVisit] = field(default_factory=list)
    start: Waypoint | None = None  # where the rest starts (None: the lodging)
    window: TimeWindow | None = None  # the rest's window (None: the pace's)
    meals_had: frozenset[MealKind] = frozenset()
    sights_behind: int = 0

    def extra_nodes(self) -> list[Waypoint]:
        return [self.start] if self.start is not None else []

    def shape(self, problem: TripProblem) -> TripProblem:
        """``problem`` (one day, on estimates) for the rest of the day: its start, window, meals, sights, locks."""
        preferences = problem.preferences
        update: dict[str, object] = {
            "skip_meals": sorted(set(preferences.skip_meals) | self.meals_had),
            "must_include_ids": sorted(set(preferences.must_include_ids) | self.required_ids),
        }
        anchors = problem.anchors
        if self.start is not None:
            anchors = [DayAnchor(start_node_id=self.start.id, end_node_id=problem.anchors[0].end_node_id)]
            update["meal_required_overlap_minutes"] = REST_MEAL_OVERLAP
            update["fixed_start"] = True
        if self.window is not None:
            update["day_window"] = self.window
        if self.sights_behind:
            update["max_places_per_day"] = max(0, problem.max_stops_per_day - self.sights_behind)
        shaped = problem.model_copy(update={"anchors": anchors, "preferences": preferences.model_copy(update=update)})
        return apply_locks(shaped, self.locks)

    def check_locks(self, problem: TripProblem, names: dict[str, str]) -> None:
        """409 naming every lock of ``problem`` that cannot be kept."""
        conflicts = lock_conflicts(problem)
        if conflicts:
            details = [
                {"place_id": place_id, "name": names.get(place_id, place_id), "message": message}
                for place_id, message in conflicts.items()
            ]
            raise Conflict(LOCKS_NOT_KEPT, details=details)

    def check_kept(self, violations: list[Violation]) -> None:
        """409 when the plan on real legs could not keep a lock (the estimates allowed it, a real leg did not)."""
        lost = [{"message": violation.message} for violation in violations if violation.rule == "locked"]
        if lost:
            raise Conflict(LOCKS_NOT_KEPT + " (on real travel times)", details=lost)


def locked_visits(stops: list[Stop], date: dt.date) -> list[LockedVisit]:
    return [
        LockedVisit(
            place_id=stop.place_id,
            date=date,
            arrive_minute=clock_minutes(stop.arrive),
            depart_minute=clock_minutes(stop.depart),
        )
        for stop in stops
        if stop.locked and stop.place_id
    ]


def day_constraints(
    trip: Trip, day: Day, options: ReplanOptions, settings: Settings
) -> tuple[DayConstraints, list[Stop]]:
    """The constraints of re-planning ``day`` with ``options``, and the stops behind the traveller (as they are)."""
    start = options.from_
    if start is None:
        locks = locked_visits(day.stops, day.date)
        required = frozenset(options.keep) | {lock.place_id for lock in locks}
        pool = frozenset(str(stop.place_id) for stop in day.stops if stop.place_id) - set(options.skip)
        return DayConstraints(date=day.date, required_ids=required, pool_ids=pool, locks=locks), []
    window = day_window(trip, settings)
    behind, minute = stops_behind(day, clock_minutes(start.time))
    minute = max(minute, window.start)
    if minute >= window.end:
        raise InvalidRequest(
            "the re-plan request is not valid",
            details=[{"field": "from.time", "message": f"the day ends at {clock_text(window.end)}"}],
        )
    behind_ids = {stop.place_id for stop in behind}
    ahead = [stop for stop in day.stops if stop.place_id not in behind_ids]
    locks = locked_visits(ahead, day.date)
    meals: set[MealKind] = {MealKind(stop.meal) for stop in behind if stop.meal}
    constraints = DayConstraints(
        date=day.date,
        required_ids=frozenset(place_id for place_id in options.keep if place_id not in behind_ids)
        | {lock.place_id for lock in locks},
        pool_ids=frozenset(str(stop.place_id) for stop in ahead if stop.place_id) - set(options.skip),
        locks=locks,
        start=Waypoint(id=HERE_NODE, location=LatLng(latitude=start.location.lat, longitude=start.location.lng)),
        window=TimeWindow(start=minute, end=window.end),
        meals_had=frozenset(meals),
        sights_behind=sum(1 for stop in behind if not stop.meal),
    )
    return constraints, behind


def _stop_times(stop: Stop) -> tuple[str, str]:
    return stop.arrive, stop.depart


def day_changes(before: list[Stop], after: list[Stop]) -> DayChanges:
    """What changed from ``before`` to ``after``, by place (a stop without a place id by name)."""

    def key(stop: Stop) -> str:
        return stop.place_id or stop.name

    old = {key(stop): stop for stop in before}
    new = {key(stop): stop for stop in after}
    changes = DayChanges()
    for name, stop in new.items():
        if name not in old:
            changes.added.append(stop.name)
        elif _stop_times(old[name]) == _stop_times(stop):
            changes.kept.append(stop.name)
        else:
            changes.retimed.append(stop.name)
    changes.dropped = [stop.name for name, stop in old.items() if name not in new]
    return changes


def joined_day(
    old: Day, behind: list[Stop], rest: Day, options: ReplanOptions, minute: int, behind_costs: dict[str, float]
) -> Day:
    """The day after re-planning its rest: the stops behind as they were, then ``rest`` (planned from the point).

    ``behind_costs``: what the stops behind cost, the local transport of the legs already travelled included
    (``assemble.stops_costs``). The day keeps its transfer's cost (a travel day) and the warnings of ``old`` that still
    hold for the stops behind, or for a meal the day still lacks."""
    start = options.from_
    assert start is not None
    currency = rest.cost_estimate.currency
    travel = sum(stop.travel_from_previous.duration_min for stop in behind if stop.travel_from_previous)
    by_category = dict(rest.cost_by_category or {})
    parts = dict(behind_costs)
    if old.transfer is not None:
        parts["transfers"] = old.transfer.cost_estimate.amount
    for name, amount in parts.items():
        by_category[name] = round(by_category.get(name, 0.0) + amount, 2)
    cost = round(sum(parts.values()) + rest.cost_estimate.amount, 2)
    stops = [*behind, *rest.stops]
    behind_ids = {stop.place_id for stop in behind}
    replanned = [stop for stop in old.stops if stop.place_id not in behind_ids]
    meals = {stop.meal for stop in stops if stop.meal}
    still_missing = [
        warning
        for warning in old.warnings
        if any(f"no {meal.value} venue" in warning for meal in MealKind if meal.value not in meals)
    ]
    warnings = [*warnings_about(old.warnings, behind, replanned), *still_missing, *rest.warnings]
    return rest.model_copy(
        update={
            "theme": old.theme or rest.theme,
            "summary": day_summary(len(stops), travel + rest.travel_min, cost, currency),
            "stops": stops,
            "travel_min": travel + rest.travel_min,
            "cost_estimate": Money(amount=cost, currency=currency),
            "cost_by_category": by_category,
            "warnings": list(dict.fromkeys(warnings)),
            "replanned_from": ReplanStart(
                time=clock_text(minute),
                location=StopLocation(lat=start.location.lat, lng=start.location.lng),
                first_stop=len(behind),
            ),
        }
    )


def with_locks_marked(day: Day, locks: list[LockedVisit]) -> Day:
    """``day`` with its locked stops marked ``locked`` (and ``timing: fixed``) again."""
    locked = {lock.place_id for lock in locks}
    stops = [
        stop.model_copy(update={"locked": True, "timing": "fixed"}) if stop.place_id in locked else stop
        for stop in day.stops
    ]
    return day.model_copy(update={"stops": stops})
