"""Independent checker of an itinerary against its problem.

Deliberately shares nothing with the engine but the data models: opening hours are re-derived from the raw
periods with datetimes, travel and costs straight from the matrices, so a bug on one side shows up on the other.
Accepts any itinerary (engine output or user-edited); the rules are listed in ``RULES``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterator

from common.domain.itinerary.models import (
    DayPlan,
    Itinerary,
    MealKind,
    OpeningPeriod,
    Place,
    Stop,
    TravelMatrix,
    TravelMode,
    TripProblem,
    Violation,
    WarningCode,
)

RULES = (
    "date_outside_trip",
    "duplicate_date",
    "unknown_place",
    "closed",
    "overlap",
    "travel_too_short",
    "day_window",
    "too_many_stops",
    "meal_missing",
    "must_include_missing",
    "avoided",
    "place_repeated",
    "budget_exceeded",
    "idle_gap",
    "locked",
)

_Span = tuple[dt.datetime, dt.datetime]


def validate(problem: TripProblem, plan: Itinerary) -> list[Violation]:
    return list(_Checker(problem, plan).run())


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _opening_spans(periods: list[OpeningPeriod], around: dt.date) -> list[_Span] | None:
    """Merged open spans covering the week before and after ``around``; None means open around the clock."""
    last_sunday = around - dt.timedelta(days=around.isoweekday() % 7)
    spans: list[_Span] = []
    for week in (-7, 0, 7):
        sunday = dt.datetime.combine(last_sunday + dt.timedelta(days=week), dt.time())
        for period in periods:
            opens = sunday + dt.timedelta(days=period.open.day, hours=period.open.hour, minutes=period.open.minute)
            if period.close is None:
                if (period.open.day, period.open.hour, period.open.minute) == (0, 0, 0):
                    return None
                closes = dt.datetime.combine(opens.date() + dt.timedelta(days=1), dt.time())
            else:
                closes = sunday + dt.timedelta(
                    days=period.close.day, hours=period.close.hour, minutes=period.close.minute
                )
                if closes <= opens:
                    closes += dt.timedelta(days=7)
            spans.append((opens, closes))
    spans.sort()
    merged: list[_Span] = []
    for opens, closes in spans:
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return merged


def _is_open_throughout(place: Place, date: dt.date, arrive: int, depart: int) -> bool:
    if not place.opening_periods:
        return True
    spans = _opening_spans(place.opening_periods, date)
    if spans is None:
        return True
    midnight = dt.datetime.combine(date, dt.time())
    begin, end = midnight + dt.timedelta(minutes=arrive), midnight + dt.timedelta(minutes=depart)
    return any(opens <= begin and end <= closes for opens, closes in spans)


class _Checker:
    def __init__(self, problem: TripProblem, plan: Itinerary) -> None:
        self.problem = problem
        self.plan = plan
        self.preferences = problem.preferences
        self.places = {place.id: place for place in problem.places}
        pace_policy = problem.pace_policies[self.preferences.pace]
        self.window = self.preferences.day_window or pace_policy.day_window
        self.stop_cap = pace_policy.max_stops_per_day
        if self.preferences.max_places_per_day is not None:
            self.stop_cap = min(self.stop_cap, self.preferences.max_places_per_day)

    # ------------------------------------------------------------------------------------------- travel

    @staticmethod
    def _cell(matrix: TravelMatrix, origin: str, destination: str) -> tuple[int, int] | None:
        if origin == destination:
            return 0, 0
        if origin not in matrix.node_ids or destination not in matrix.node_ids:
            return None
        row, column = matrix.node_ids.index(origin), matrix.node_ids.index(destination)
        seconds = matrix.seconds[row][column]
        return None if seconds is None else (seconds, matrix.metres[row][column] or 0)

    def required_travel(self, origin: str, destination: str) -> tuple[TravelMode, int, int] | None:
        """(mode, whole minutes, metres) the rules demand between two nodes; None when there is no route."""
        matrix = self.problem.matrix
        cell = self._cell(matrix, origin, destination)
        if cell is None:
            return None
        mode, (seconds, metres) = matrix.mode, cell
        fallback = self.problem.fallback_matrix
        long_walk = matrix.mode == TravelMode.WALK and math.ceil(seconds / 60) > self.preferences.max_walk_minutes
        if self.preferences.reduced_walking and fallback is not None and long_walk:
            alternative = self._cell(fallback, origin, destination)
            if alternative is not None:
                mode, (seconds, metres) = fallback.mode, alternative
        return mode, math.ceil(seconds / 60), metres

    def leg_cost(self, origin: str, destination: str) -> float:
        travel = self.required_travel(origin, destination)
        if travel is None or origin == destination:
            return 0.0
        mode, _, metres = travel
        costs = self.problem.transport_costs
        if mode == TravelMode.TRANSIT:
            return costs.transit_fare_per_person_per_leg * self.preferences.travellers
        if mode == TravelMode.DRIVE:
            return costs.drive_cost_per_km * metres / 1000
        return 0.0

    # -------------------------------------------------------------------------------------------- rules

    def run(self) -> Iterator[Violation]:
        seen_dates: set[dt.date] = set()
        seen_places: dict[str, int] = {}
        seen_uses: dict[str, list[tuple[int, bool]]] = {}
        for day_index, day in enumerate(self.plan.days):
            trip_day = (day.date - self.problem.start_date).days
            if not self.problem.start_date <= day.date <= self.problem.end_date:
                yield Violation(
                    rule="date_outside_trip",
                    day_index=day_index,
                    stop_index=None,
                    message=f"{day.date} is outside {self.problem.start_date}..{self.problem.end_date}",
                )
                continue
            if day.date in seen_dates:
                yield Violation(
                    rule="duplicate_date", day_index=day_index, stop_index=None, message=f"{day.date} twice"
                )
            seen_dates.add(day.date)
            today: set[str] = set()
            for stop_index, stop in enumerate(day.stops):
                # A meal venue may serve a meal on a second, different day; nothing else comes back.
                earlier = seen_uses.get(stop.place_id, [])
                second_meal = self.is_meal(stop) and len(earlier) == 1 and earlier[0][1] and stop.place_id not in today
                if (earlier and not second_meal) or stop.place_id in today:
                    yield Violation(
                        rule="place_repeated",
                        day_index=day_index,
                        stop_index=stop_index,
                        message=f"{stop.place_id} already planned on day {seen_places[stop.place_id]}",
                    )
                seen_places.setdefault(stop.place_id, day_index)
                seen_uses.setdefault(stop.place_id, []).append((day_index, self.is_meal(stop)))
                today.add(stop.place_id)
            yield from self.check_day(day_index, trip_day, day)
        yield from self.check_trip(seen_places)

    def is_meal(self, stop: Stop) -> bool:
        """A stop counts as a meal when its venue serves the meal it is marked with (any meal it serves when the stop
        is unmarked, as in user-edited days) and it starts inside that meal's window."""
        place = self.places.get(stop.place_id)
        if place is None:
            return False
        windows = {MealKind.LUNCH: self.preferences.lunch_window, MealKind.DINNER: self.preferences.dinner_window}
        kinds = [stop.meal] if stop.meal is not None else list(place.meal_kinds)
        return any(
            kind in place.meal_kinds
            and (window := windows[kind]) is not None
            and window.start <= stop.arrive_minute <= window.end
            for kind in kinds
        )

    def check_day(self, day_index: int, trip_day: int, day: DayPlan) -> Iterator[Violation]:
        anchor = self.problem.anchors[0] if len(self.problem.anchors) == 1 else self.problem.anchors[trip_day]
        sights = sum(1 for stop in day.stops if not self.is_meal(stop))
        if sights > self.stop_cap:
            yield Violation(
                rule="too_many_stops",
                day_index=day_index,
                stop_index=None,
                message=f"{sights} sights, the pace allows {self.stop_cap} (meals not counted)",
            )
        idle_excused = any(
            warning.code == WarningCode.IDLE_GAP and warning.day_index == day_index for warning in self.plan.warnings
        )
        position, free_from = anchor.start_node_id, None
        resume = day.resume
        for stop_index, stop in enumerate(day.stops):
            if resume is not None and stop_index == resume.before_stop:
                # The rest of the day was re-planned from where the traveller was: travel counts from there.
                position, free_from = resume.node_id, max(resume.minute, free_from or 0)
            place = self.places.get(stop.place_id)
            if place is None:
                yield Violation(rule="unknown_place", day_index=day_index, stop_index=stop_index, message=stop.place_id)
                continue
            if stop.depart_minute < stop.arrive_minute:
                yield Violation(
                    rule="overlap", day_index=day_index, stop_index=stop_index, message="departs before arriving"
                )
            if place.id in self.preferences.avoid_place_ids or place.category in self.preferences.avoid_categories:
                yield Violation(
                    rule="avoided", day_index=day_index, stop_index=stop_index, message=f"{place.id} is avoided"
                )
            if not _is_open_throughout(place, day.date, stop.arrive_minute, stop.depart_minute):
                yield Violation(
                    rule="closed",
                    day_index=day_index,
                    stop_index=stop_index,
                    message=f"{place.id} is not open {_clock(stop.arrive_minute)}-{_clock(stop.depart_minute)}"
                    f" on {day.date:%A %Y-%m-%d}",
                )
            travel = self.required_travel(position, place.id)
            earliest = (free_from if free_from is not None else self.window.start) + (travel[1] if travel else 0)
            if free_from is not None and stop.arrive_minute < free_from:
                yield Violation(
                    rule="overlap",
                    day_index=day_index,
                    stop_index=stop_index,
                    message=f"starts {_clock(stop.arrive_minute)} before the previous stop ends {_clock(free_from)}",
                )
            elif travel is None:
                yield Violation(
                    rule="travel_too_short",
                    day_index=day_index,
                    stop_index=stop_index,
                    message=f"no route from {position} to {place.id}",
                )
            elif stop.arrive_minute < earliest:
                rule = "day_window" if free_from is None else "travel_too_short"
                yield Violation(
                    rule=rule,
                    day_index=day_index,
                    stop_index=stop_index,
                    message=f"arrives {_clock(stop.arrive_minute)}, cannot be there before {_clock(earliest)}",
                )
            elif free_from is not None and not idle_excused:
                idle = stop.arrive_minute - earliest
                if idle > self.preferences.max_idle_minutes:
                    yield Violation(
                        rule="idle_gap",
                        day_index=day_index,
                        stop_index=stop_index,
                        message=f"{idle} idle minutes before {place.id} at {_clock(stop.arrive_minute)}"
                        " and no warning says why",
                    )
            if stop.arrive_minute < self.window.start or stop.depart_minute > self.window.end:
                yield Violation(
                    rule="day_window", day_index=day_index, stop_index=stop_index, message="outside the day window"
                )
            position, free_from = place.id, stop.depart_minute
        if day.stops and free_from is not None:
            back = self.required_travel(position, anchor.end_node_id)
            if back is None or free_from + back[1] > self.window.end:
                yield Violation(
                    rule="day_window",
                    day_index=day_index,
                    stop_index=None,
                    message=f"cannot be back at {anchor.end_node_id} by {_clock(self.window.end)}",
                )
        yield from self.check_meals(day_index, day)

    def check_meals(self, day_index: int, day: DayPlan) -> Iterator[Violation]:
        windows = {MealKind.LUNCH: self.preferences.lunch_window, MealKind.DINNER: self.preferences.dinner_window}
        for meal, meal_window in windows.items():
            if meal_window is None:
                continue
            overlap = min(self.window.end, meal_window.end) - max(self.window.start, meal_window.start)
            if overlap < self.preferences.meal_required_overlap_minutes or meal in self.preferences.skip_meals:
                continue
            has_meal = any(
                stop.place_id in self.places
                and meal in self.places[stop.place_id].meal_kinds
                and meal_window.start <= stop.arrive_minute <= meal_window.end
                for stop in day.stops
            )
            excused = any(
                warning.code == WarningCode.MEAL_MISSING
                and warning.day_index == day_index
                and warning.meal in (meal, None)
                for warning in self.plan.warnings
            )
            if not has_meal and not excused:
                yield Violation(
                    rule="meal_missing",
                    day_index=day_index,
                    stop_index=None,
                    message=f"no {meal.value} between {_clock(meal_window.start)} and {_clock(meal_window.end)}",
                )

    def check_locks(self) -> Iterator[Violation]:
        """Every locked visit on a day of the plan is there, at exactly its locked times."""
        days = {day.date: (index, day) for index, day in enumerate(self.plan.days)}
        for lock in self.preferences.locked:
            if lock.date not in days:
                continue
            day_index, day = days[lock.date]
            kept = any(
                stop.place_id == lock.place_id
                and (stop.arrive_minute, stop.depart_minute) == (lock.arrive_minute, lock.depart_minute)
                for stop in day.stops
            )
            if not kept:
                yield Violation(
                    rule="locked",
                    day_index=day_index,
                    stop_index=None,
                    message=f"{lock.place_id} is locked at {_clock(lock.arrive_minute)}-{_clock(lock.depart_minute)}"
                    " and is not planned then",
                )

    def check_trip(self, visited: dict[str, int]) -> Iterator[Violation]:
        yield from self.check_locks()
        warnings = self.plan.warnings
        warned = {warning.place_id for warning in warnings if warning.code == WarningCode.MUST_INCLUDE_DROPPED}
        for place_id in self.preferences.must_include_ids:
            if place_id not in visited and place_id not in warned:
                yield Violation(
                    rule="must_include_missing",
                    day_index=None,
                    stop_index=None,
                    message=f"{place_id} is missing and no warning says why",
                )
        budget = self.preferences.budget_limit
        if budget is None:
            return
        total = 0.0
        for day in self.plan.days:
            if not self.problem.start_date <= day.date <= self.problem.end_date or not day.stops:
                continue
            trip_day = (day.date - self.problem.start_date).days
            anchor = self.problem.anchors[0] if len(self.problem.anchors) == 1 else self.problem.anchors[trip_day]
            nodes = [anchor.start_node_id] + [stop.place_id for stop in day.stops] + [anchor.end_node_id]
            total += sum(self.leg_cost(origin, destination) for origin, destination in itertools.pairwise(nodes))
            for stop in day.stops:
                place = self.places.get(stop.place_id)
                if place is not None:
                    total += place.cost_per_person * self.preferences.travellers
        over = total > budget + 0.01
        if over and not any(warning.code == WarningCode.BUDGET_EXCEEDED for warning in self.plan.warnings):
            yield Violation(
                rule="budget_exceeded",
                day_index=None,
                stop_index=None,
                message=f"costs {total:.2f}, over the budget of {budget:.2f}, with no warning",
            )
