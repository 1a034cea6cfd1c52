"""Engine internals shared by the OR-Tools solver and the greedy fallback: days, visits, travel, timing, costs."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from common.domain.itinerary.clusters import Point, balanced_clusters, centre, distance_km
from common.domain.itinerary.hours import Interval, visit_start_windows
from common.domain.itinerary.models import (
    Leg,
    LockedVisit,
    MealKind,
    Place,
    TimeWindow,
    TransportCosts,
    TravelMatrix,
    TravelMode,
    TripProblem,
    travel_minutes,
)
from common.domain.itinerary.weather import WET_OUTDOOR_COST, wet_area_order

EXACT_ORDER_MAX_STOPS = 8
HOME_AREA_SLACK_KM = 1.0  # a sight may go on any day whose area centre is at most this much farther than its own
AREA_COST_PER_KM = 4  # minutes of travel per km between a stop and the centre of its day's area


@dataclass(frozen=True)
class Visit:
    """A place as the solver sees it: a sight, or a meal venue serving one given meal. ``copy`` 1 is a meal venue's
    second use in a trip (on another day), offered when the trip has more meals than venues."""

    place: Place
    meal: MealKind | None = None
    copy: int = 0

    @property
    def node_id(self) -> str:
        return self.place.id

    @property
    def key(self) -> tuple[str, int]:
        """One use of a place in the trip: at most one visit per key is planned."""
        return (self.place.id, self.copy)


@dataclass(frozen=True)
class DayContext:
    index: int
    date: dt.date
    start_node: str
    end_node: str
    window: TimeWindow
    max_stops: int
    required_meals: tuple[MealKind, ...]


@dataclass(frozen=True)
class TimedVisit:
    visit: Visit
    arrive_minute: int
    leg: Leg
    stay_minutes: int | None = None  # None: the place's usual visit time; more when the traveller lingers

    @property
    def stay(self) -> int:
        return self.visit.place.visit_minutes if self.stay_minutes is None else self.stay_minutes

    @property
    def depart_minute(self) -> int:
        return self.arrive_minute + self.stay


@dataclass(frozen=True)
class DaySchedule:
    day: DayContext
    visits: list[TimedVisit]
    leg_to_end: Leg | None
    end_minute: int

    @property
    def travel_minutes(self) -> int:
        legs = [timed.leg.minutes for timed in self.visits]
        return sum(legs) + (self.leg_to_end.minutes if self.leg_to_end else 0)


class TravelTable:
    """Legs between matrix nodes, applying the reduced-walking rule: a walk leg longer than ``max_walk_minutes``
    uses the fallback matrix's leg instead when that matrix has the pair."""

    def __init__(self, problem: TripProblem) -> None:
        self._matrix = problem.matrix
        self._positions = problem.matrix.position()
        self._fallback: TravelMatrix | None = None
        self._fallback_positions: dict[str, int] = {}
        preferences = problem.preferences
        if preferences.reduced_walking and problem.matrix.mode == TravelMode.WALK and problem.fallback_matrix:
            self._fallback = problem.fallback_matrix
            self._fallback_positions = problem.fallback_matrix.position()
        self._max_walk_minutes = preferences.max_walk_minutes
        self._cache: dict[tuple[str, str], Leg | None] = {}

    def has_node(self, node_id: str) -> bool:
        return node_id in self._positions

    def leg(self, origin: str, destination: str) -> Leg | None:
        key = (origin, destination)
        if key not in self._cache:
            self._cache[key] = self._compute_leg(origin, destination)
        return self._cache[key]

    def minutes(self, origin: str, destination: str) -> int | None:
        leg = self.leg(origin, destination)
        return None if leg is None else leg.minutes

    def _compute_leg(self, origin: str, destination: str) -> Leg | None:
        primary = _matrix_leg(self._matrix, self._positions, origin, destination)
        if primary is None or self._fallback is None or primary.minutes <= self._max_walk_minutes:
            return primary
        fallback = _matrix_leg(self._fallback, self._fallback_positions, origin, destination)
        return fallback or primary


def _matrix_leg(matrix: TravelMatrix, positions: dict[str, int], origin: str, destination: str) -> Leg | None:
    if origin == destination:
        return Leg(mode=matrix.mode, minutes=0, metres=0)
    row, column = positions.get(origin), positions.get(destination)
    if row is None or column is None:
        return None
    seconds, metres = matrix.seconds[row][column], matrix.metres[row][column]
    if seconds is None:
        return None
    return Leg(mode=matrix.mode, minutes=travel_minutes(seconds), metres=metres or 0)


def leg_cost(leg: Leg, transport: TransportCosts, travellers: int) -> float:
    """Local transport estimate of one leg for the whole group."""
    if leg.mode == TravelMode.TRANSIT:
        return transport.transit_fare_per_person_per_leg * travellers
    if leg.mode == TravelMode.DRIVE:
        return transport.drive_cost_per_km * leg.metres / 1000
    return 0.0


def _locked_window(lock: LockedVisit | None, stay: int, windows: list[Interval]) -> list[Interval]:
    """A locked place arrives exactly at its locked minute and stays exactly its locked time, on its date only, and
    only where its hours (and meal window) allow that; otherwise it cannot be planned (the caller reports it)."""
    if lock is None or stay != lock.stay:
        return []
    minute = lock.arrive_minute
    return [(minute, minute)] if any(low <= minute <= high for low, high in windows) else []


def meal_required(day_window: TimeWindow, meal_window: TimeWindow, min_overlap: int) -> bool:
    overlap = min(day_window.end, meal_window.end) - max(day_window.start, meal_window.start)
    return overlap >= min_overlap


@dataclass
class PlanningContext:
    problem: TripProblem
    travel: TravelTable = field(init=False)
    days: list[DayContext] = field(init=False)
    _windows: dict[tuple[str, MealKind | None, int], list[Interval]] = field(init=False, default_factory=dict)
    _locks: dict[tuple[str, dt.date], LockedVisit] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.travel = TravelTable(self.problem)
        problem = self.problem
        self._locks = {(lock.place_id, lock.date): lock for lock in problem.preferences.locked}
        window = problem.day_window
        meals = problem.required_meals()
        self.days = [
            DayContext(
                index=index,
                date=problem.date_of(index),
                start_node=problem.anchor_of(index).start_node_id,
                end_node=problem.anchor_of(index).end_node_id,
                window=window,
                max_stops=problem.max_stops_per_day,
                required_meals=meals,
            )
            for index in range(problem.day_count)
        ]

    def arrival_windows(self, visit: Visit, day: DayContext) -> list[Interval]:
        """Inclusive arrival ranges on ``day``: the visit fits opening hours and the day, meals start in the window."""
        key = (visit.place.id, visit.meal, day.index)
        if key not in self._windows:
            self._windows[key] = self.stay_windows(visit, day, visit.place.visit_minutes)
        return self._windows[key]

    def stay_windows(self, visit: Visit, day: DayContext, stay: int) -> list[Interval]:
        """Inclusive arrival ranges on ``day`` for a stay of ``stay`` minutes (see ``arrival_windows``)."""
        windows = visit_start_windows(visit.place.opening_periods, day.date, stay, day.window)
        if visit.meal is not None:
            meal_window = self.problem.meal_windows()[visit.meal]
            windows = [
                (max(low, meal_window.start), min(high, meal_window.end))
                for low, high in windows
                if max(low, meal_window.start) <= min(high, meal_window.end)
            ]
        if self._locks and any(place_id == visit.place.id for place_id, _ in self._locks):
            return _locked_window(self._locks.get((visit.place.id, day.date)), stay, windows)
        dinner = self.problem.preferences.dinner_window
        if visit.meal is None and visit.place.daylight_only and dinner is not None:
            # A park or a garden is left before the evening: never after dinner, in the dark.
            latest = dinner.start - stay
            windows = [(low, min(high, latest)) for low, high in windows if low <= min(high, latest)]
        return windows

    def locked_at(self, visit: Visit, day: DayContext) -> int | None:
        """The minute ``visit`` is locked at on ``day``, or None."""
        lock = self._locks.get((visit.place.id, day.date))
        return lock.arrive_minute if lock is not None else None

    def settle(self, schedule: DaySchedule) -> DaySchedule:
        """The same stops in the same order with the waits between them closed where the places allow it.

        Earliest timing leaves the traveller waiting where a stop cannot start yet (a meal window, an opening
        time). First the previous stop is stretched (linger up to the pace's ``linger_factor`` more, while it is
        open), then the stops before a remaining wait move later (the day starts later). The last stop keeps its
        time, so the day's end and travel do not change."""
        visits = list(schedule.visits)
        if len(visits) < 2:
            return schedule
        day, factor = schedule.day, self.problem.linger_factor
        arrive = [timed.arrive_minute for timed in visits]
        stay = [timed.stay for timed in visits]
        for index in range(1, len(visits)):
            wait = arrive[index] - (arrive[index - 1] + stay[index - 1] + visits[index].leg.minutes)
            previous = visits[index - 1].visit
            cap = math.floor(previous.place.visit_minutes * (1 + factor))
            extra = min(wait, cap - stay[index - 1])
            while extra > 0:  # the longest stretch the place's hours allow
                longer = stay[index - 1] + extra
                if any(low <= arrive[index - 1] <= high for low, high in self.stay_windows(previous, day, longer)):
                    stay[index - 1] = longer
                    break
                extra -= 5 if extra > 5 else extra
        self._linger_earlier(day, visits, arrive, stay)
        # With a fixed start the traveller is already out: moving the stops later would only move the wait first.
        for index in range(-1 if self.problem.preferences.fixed_start else len(visits) - 2, -1, -1):
            bound = arrive[index + 1] - visits[index + 1].leg.minutes - stay[index]
            if bound <= arrive[index]:
                continue
            windows = self.stay_windows(visits[index].visit, day, stay[index])
            latest = max((min(high, bound) for low, high in windows if low <= bound), default=arrive[index])
            arrive[index] = max(arrive[index], latest)
        settled = [
            TimedVisit(
                visit=timed.visit,
                arrive_minute=arrive[index],
                leg=timed.leg,
                stay_minutes=None if stay[index] == timed.visit.place.visit_minutes else stay[index],
            )
            for index, timed in enumerate(visits)
        ]
        return DaySchedule(day=day, visits=settled, leg_to_end=schedule.leg_to_end, end_minute=schedule.end_minute)

    def _linger_earlier(self, day: DayContext, visits: list[TimedVisit], arrive: list[int], stay: list[int]) -> None:
        """Close what is left of each wait by lingering at the sights before the stop just before it (nearest
        first, each up to its pace's cap and while its hours allow), pushing the stops between later; in place.

        Without this the whole wait before a late meal or opening went to the start of the day: a day of few
        sights began two hours after its window (``settle`` moves the stops before a wait later)."""
        factor = self.problem.linger_factor
        for index in range(2, len(visits)):
            wait = arrive[index] - (arrive[index - 1] + stay[index - 1] + visits[index].leg.minutes)
            for earlier in range(index - 2, -1, -1):
                if wait <= 0:
                    break
                visit = visits[earlier].visit
                if visit.meal is not None:
                    continue
                extra = min(wait, math.floor(visit.place.visit_minutes * (1 + factor)) - stay[earlier])
                while extra > 0 and not self._fits_longer(day, visits, arrive, stay, earlier, index, extra):
                    extra -= 5 if extra > 5 else extra
                if extra > 0:
                    stay[earlier] += extra
                    for moved in range(earlier + 1, index):
                        arrive[moved] += extra
                    wait -= extra

    def _fits_longer(
        self,
        day: DayContext,
        visits: list[TimedVisit],
        arrive: list[int],
        stay: list[int],
        earlier: int,
        index: int,
        extra: int,
    ) -> bool:
        """Whether stop ``earlier`` may stay ``extra`` minutes longer with the stops up to ``index`` (excluded)
        starting ``extra`` minutes later, all within their hours (and meal windows, locks)."""

        def fits(position: int, start: int, length: int) -> bool:
            windows = self.stay_windows(visits[position].visit, day, length)
            return any(low <= start <= high for low, high in windows)

        if not fits(earlier, arrive[earlier], stay[earlier] + extra):
            return False
        return all(fits(moved, arrive[moved] + extra, stay[moved]) for moved in range(earlier + 1, index))

    def waits(self, schedule: DaySchedule) -> list[tuple[int, int]]:
        """(stop index, idle minutes) before every stop the traveller reaches before it can start (the first stop
        too when the start is fixed)."""
        found = []
        if self.problem.preferences.fixed_start and schedule.visits:
            first = schedule.visits[0]
            idle = first.arrive_minute - first.leg.minutes - schedule.day.window.start
            if idle > 0:
                found.append((0, idle))
        for index in range(1, len(schedule.visits)):
            previous, timed = schedule.visits[index - 1], schedule.visits[index]
            idle = timed.arrive_minute - previous.depart_minute - timed.leg.minutes
            if idle > 0:
                found.append((index, idle))
        return found

    @property
    def wet_days(self) -> set[int]:
        """Indices of the days planned as wet (``TripProblem.wet_dates``; see ``itinerary.weather``)."""
        wet = set(self.problem.wet_dates)
        return {day.index for day in self.days if day.date in wet}

    def area_costs(self, days: list[DayContext], visits: list[Visit], weather: bool = True) -> dict[int, list[int]]:
        """Per day index, the cost (minutes of travel) of each visit lying away from the centre of the day's area.

        Areas: the sights split by a balanced geographic clustering, one cluster per day, cluster k for the k-th day
        of ``days``; a stop costs ``AREA_COST_PER_KM`` per km from its day's centre. All zero for one day or fewer
        sights than days. Pulls each day into one part of the city without forbidding anything. With ``weather``,
        a wet day takes the area with the fewest outdoor sights and an outdoor sight costs ``WET_OUTDOOR_COST``
        more on it (``itinerary.weather``)."""
        wet = self.wet_days if weather else set()
        sights: dict[str, Point] = {}
        outdoor: dict[str, bool] = {}
        for visit in visits:
            if visit.meal is None:
                sights.setdefault(visit.node_id, (visit.place.location.lat, visit.place.location.lng))
                outdoor.setdefault(visit.node_id, visit.place.outdoor)
        costs: dict[int, list[int]] = {day.index: [0] * len(visits) for day in days}
        if len(days) >= 2 and len(sights) >= len(days):
            points = list(sights.values())
            labels = balanced_clusters(points, len(days))
            outdoor_per_group = [0] * len(days)
            for label, is_outdoor in zip(labels, outdoor.values(), strict=True):
                outdoor_per_group[label] += int(is_outdoor)
            group_of_day = wet_area_order(
                outdoor_per_group, [day.start_node for day in days], [day.index in wet for day in days]
            )
            for position, day in enumerate(days):
                group = group_of_day[position]
                middle = centre([point for point, label in zip(points, labels, strict=True) if label == group])
                costs[day.index] = [
                    round(AREA_COST_PER_KM * distance_km((visit.place.location.lat, visit.place.location.lng), middle))
                    for visit in visits
                ]
        for day in days:
            if day.index in wet:
                costs[day.index] = [
                    cost + (WET_OUTDOOR_COST if visit.meal is None and visit.place.outdoor else 0)
                    for cost, visit in zip(costs[day.index], visits, strict=True)
                ]
        return costs

    def home_days(self, days: list[DayContext], visits: list[Visit], keep: set[str]) -> dict[str, set[int]]:
        """Per sight (not in ``keep``), the day indices it may go on: the days whose area centre lies within
        ``HOME_AREA_SLACK_KM`` of its nearest one among the days it is open, and, for an indoor sight, every wet day
        it is open on. Sights open on no such day, meals and ``keep`` (must-includes) are free (absent from the
        answer)."""
        areas = self.area_costs(days, visits)
        wet = self.wet_days
        homes: dict[str, set[int]] = {}
        for position, visit in enumerate(visits):
            if visit.meal is not None or visit.node_id in keep or visit.node_id in homes:
                continue
            open_days = [day.index for day in days if self.arrival_windows(visit, day)]
            if not open_days:
                continue
            nearest = min(areas[index][position] for index in open_days)
            homes[visit.node_id] = {
                index
                for index in open_days
                if areas[index][position] <= nearest + AREA_COST_PER_KM * HOME_AREA_SLACK_KM
                or (index in wet and not visit.place.outdoor)
            }
        return homes

    def must_include_homes(self, days: list[DayContext], visits: list[Visit], must: set[str]) -> dict[str, set[int]]:
        """Per must-include sight, the days ``home_days`` would allow it on were it not required: the solver and the
        greedy planner put it there when they can, elsewhere only when that is the only way to keep it."""
        if not must or len(days) < 2:
            return {}
        homes = self.home_days(days, visits, set())
        return {place_id: homes[place_id] for place_id in must if place_id in homes}

    def natural_days(self, days: list[DayContext], visits: list[Visit]) -> dict[str, int]:
        """Per outdoor sight, the day its area gives it without the weather: the nearest area among the days it is
        open (what ``itinerary.weather.moved_warnings`` compares the plan with)."""
        if not self.wet_days:
            return {}
        areas = self.area_costs(days, visits, weather=False)
        natural: dict[str, int] = {}
        for position, visit in enumerate(visits):
            if visit.meal is not None or not visit.place.outdoor or visit.node_id in natural:
                continue
            open_days = [day.index for day in days if self.arrival_windows(visit, day)]
            if open_days:
                natural[visit.node_id] = min(open_days, key=lambda index: (areas[index][position], index))
        return natural

    def visit_cost(self, visit: Visit) -> float:
        return visit.place.cost_per_person * self.problem.preferences.travellers

    def schedule(self, day: DayContext, visits: list[Visit]) -> DaySchedule | None:
        """Earliest feasible timing of ``visits`` in this order, or None when the order cannot be timed."""
        clock = day.window.start
        position = day.start_node
        timed: list[TimedVisit] = []
        for visit in visits:
            leg = self.travel.leg(position, visit.node_id)
            if leg is None:
                return None
            ready = clock + leg.minutes
            arrive = next((max(low, ready) for low, high in self.arrival_windows(visit, day) if high >= ready), None)
            if arrive is None:
                return None
            timed.append(TimedVisit(visit=visit, arrive_minute=arrive, leg=leg))
            clock = arrive + visit.place.visit_minutes
            position = visit.node_id
        if not timed:
            return DaySchedule(day=day, visits=[], leg_to_end=None, end_minute=day.window.start)
        leg_to_end = self.travel.leg(position, day.end_node)
        if leg_to_end is None or clock + leg_to_end.minutes > day.window.end:
            return None
        return DaySchedule(day=day, visits=timed, leg_to_end=leg_to_end, end_minute=clock + leg_to_end.minutes)

    def best_order(
        self, day: DayContext, visits: list[Visit], max_stops: int = EXACT_ORDER_MAX_STOPS
    ) -> DaySchedule | None:
        """The timeable order of ``visits`` with the least travel, by bounded depth-first search; None when there
        are more than ``max_stops`` visits or no order can be timed."""
        if len(visits) > max_stops:
            return None
        windows = [self.arrival_windows(visit, day) for visit in visits]
        best_travel: int | None = None
        best_sequence: list[int] = []

        def explore(position: str, clock: int, spent: int, chosen: list[int]) -> None:
            nonlocal best_travel, best_sequence
            if best_travel is not None and spent >= best_travel:
                return
            if len(chosen) == len(visits):
                back = self.travel.minutes(position, day.end_node)
                fits = back is not None and clock + back <= day.window.end
                if fits and back is not None and (best_travel is None or spent + back < best_travel):
                    best_travel, best_sequence = spent + back, list(chosen)
                return
            for candidate, visit in enumerate(visits):
                if candidate in chosen:
                    continue
                minutes = self.travel.minutes(position, visit.node_id)
                if minutes is None:
                    continue
                ready = clock + minutes
                arrive = next((max(low, ready) for low, high in windows[candidate] if high >= ready), None)
                if arrive is None:
                    continue
                chosen.append(candidate)
                explore(visit.node_id, arrive + visit.place.visit_minutes, spent + minutes, chosen)
                chosen.pop()

        explore(day.start_node, day.window.start, 0, [])
        if best_travel is None:
            return None
        return self.schedule(day, [visits[index] for index in best_sequence])

    def schedule_cost(self, schedule: DaySchedule) -> float:
        preferences, transport = self.problem.preferences, self.problem.transport_costs
        legs = [timed.leg for timed in schedule.visits] + ([schedule.leg_to_end] if schedule.leg_to_end else [])
        visits_cost = sum(self.visit_cost(timed.visit) for timed in schedule.visits)
        return visits_cost + sum(leg_cost(leg, transport, preferences.travellers) for leg in legs)
