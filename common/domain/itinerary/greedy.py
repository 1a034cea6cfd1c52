"""Fallback planner: cheapest feasible insertion, then 2-opt and relocate within each day.

Order of insertion: must-includes (on a day of their area when one fits, ``PlanningContext.must_include_homes``,
else on any day), then one meal per required meal and day (highest priority venue among the
cheapest insertions; a venue's second use only on another day), then sights by priority (highest first, ties by
id). Every candidate sequence is checked with ``PlanningContext.schedule`` so the result always respects hours,
windows and the sight cap (meals are not counted).
"""

from __future__ import annotations

from common.domain.itinerary.planning import DayContext, DaySchedule, PlanningContext, Visit


class GreedyPlanner:
    def __init__(self, context: PlanningContext, days: list[DayContext]) -> None:
        self._context = context
        self._days = days
        self._sequences: dict[int, list[Visit]] = {day.index: [] for day in days}
        self._schedules: dict[int, DaySchedule] = {}
        for day in days:
            empty = context.schedule(day, [])
            assert empty is not None
            self._schedules[day.index] = empty
        self._used: set[tuple[str, int]] = set()
        self._area_cost: dict[tuple[str, int, int], int] = {}  # (place id, copy, day index)
        self._homes: dict[str, set[int]] = {}

    def plan(self, visits: list[Visit], must_include_ids: set[str]) -> dict[int, list[Visit]]:
        self._homes = self._context.home_days(self._days, visits, must_include_ids)
        areas = self._context.area_costs(self._days, visits)
        self._area_cost = {
            (visit.node_id, visit.copy, day_index): costs[position]
            for day_index, costs in areas.items()
            for position, visit in enumerate(visits)
        }
        by_place: dict[str, list[Visit]] = {}
        for visit in visits:
            by_place.setdefault(visit.node_id, []).append(visit)
        ordered_places = sorted(by_place, key=lambda place_id: (-by_place[place_id][0].place.priority, place_id))

        must_homes = self._context.must_include_homes(self._days, visits, must_include_ids)
        for place_id in ordered_places:
            if place_id in must_include_ids:
                home = [day for day in self._days if day.index in must_homes.get(place_id, {day.index})]
                if not self._insert_best(by_place[place_id], home):
                    self._insert_best(by_place[place_id], self._days)
        for day in self._days:
            for meal in day.required_meals:
                if any(visit.meal == meal for visit in self._sequences[day.index]):
                    continue
                meal_visits = [visit for visit in visits if visit.meal == meal and visit.key not in self._used]
                self._insert_best(meal_visits, [day])
        for place_id in ordered_places:
            sights = [visit for visit in by_place[place_id] if visit.meal is None]
            if sights and (place_id, 0) not in self._used:
                self._insert_best(sights, self._days)
        for day in self._days:
            self._improve(day)
        for place_id in ordered_places:
            sights = [visit for visit in by_place[place_id] if visit.meal is None]
            if sights and (place_id, 0) not in self._used:
                self._insert_best(sights, self._days)
        return {index: list(sequence) for index, sequence in self._sequences.items()}

    def _insert_best(self, options: list[Visit], days: list[DayContext]) -> bool:
        """Insert the option with the least added travel plus area cost (ties: higher priority) anywhere feasible."""
        best: tuple[tuple[int, float, str], Visit, DayContext, list[Visit], DaySchedule] | None = None
        for visit in options:
            if visit.key in self._used:
                continue
            for day in days:
                if visit.meal is not None and visit.meal not in day.required_meals:
                    continue
                if visit.meal is None and day.index not in self._homes.get(visit.node_id, {day.index}):
                    continue
                sequence = self._sequences[day.index]
                sights = sum(1 for other in sequence if other.meal is None)
                if (visit.meal is None and sights >= day.max_stops) or any(
                    (visit.meal is not None and other.meal == visit.meal) or other.node_id == visit.node_id
                    for other in sequence
                ):
                    continue
                if not self._context.arrival_windows(visit, day):
                    continue
                base_travel = self._schedules[day.index].travel_minutes
                for position in range(len(sequence) + 1):
                    candidate = [*sequence[:position], visit, *sequence[position:]]
                    schedule = self._context.schedule(day, candidate)
                    if schedule is None:
                        continue
                    added = (
                        schedule.travel_minutes
                        - base_travel
                        + self._area_cost.get((visit.node_id, visit.copy, day.index), 0)
                    )
                    key = (added, -visit.place.priority, visit.node_id)
                    if best is None or key < best[0]:
                        best = (key, visit, day, candidate, schedule)
        if best is None:
            return False
        _, visit, day, candidate, schedule = best
        self._sequences[day.index] = candidate
        self._schedules[day.index] = schedule
        self._used.add(visit.key)
        return True

    def _improve(self, day: DayContext) -> None:
        """First-improvement 2-opt and relocate until no move shortens the day's travel."""
        improved = True
        while improved:
            improved = False
            sequence = self._sequences[day.index]
            current = self._schedules[day.index].travel_minutes
            for candidate in _neighbours(sequence):
                schedule = self._context.schedule(day, candidate)
                if schedule is not None and schedule.travel_minutes < current:
                    self._sequences[day.index] = candidate
                    self._schedules[day.index] = schedule
                    improved = True
                    break


def _neighbours(sequence: list[Visit]) -> list[list[Visit]]:
    size = len(sequence)
    moves: list[list[Visit]] = []
    for first in range(size - 1):
        for last in range(first + 1, size):
            moves.append(sequence[:first] + sequence[first : last + 1][::-1] + sequence[last + 1 :])
    for source in range(size):
        rest = sequence[:source] + sequence[source + 1 :]
        for target in range(size):
            if target != source:
                moves.append([*rest[:target], sequence[source], *rest[target:]])
    return moves


def greedy_sequences(
    context: PlanningContext, days: list[DayContext], visits: list[Visit], must_include_ids: set[str]
) -> dict[int, list[Visit]]:
    return GreedyPlanner(context, days).plan(visits, must_include_ids)
