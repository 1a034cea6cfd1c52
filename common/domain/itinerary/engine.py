"""Entry points: ``plan_trip`` builds a whole trip, ``replan_day`` rebuilds one day of an existing plan.

Policies where the brief left room:
- Candidates are filtered first: avoided ids/categories (``avoided``), ids missing from the matrix or without a
  route from a day's start or to its end (``unreachable``), no arrival window on any trip day (``closed``), a price
  alone above the budget (``over_budget``; must-includes are never filtered for budget).
- Budget is a post-pass: while the trip costs more than the limit, drop the non-must-include stop with the lowest
  value per unit of cost saved (value = priority; a meal counts ``MEAL_VALUE``) and re-time its day. If the
  must-includes alone exceed the budget they stay and a ``budget_exceeded`` warning says so.
- Unknown opening hours count as open all day; each planned stop with unknown hours gets an ``hours_unknown``
  warning.
- Meal venues: when the days need a meal more often than there are venues serving it, each of those venues may also
  serve that meal on a second day (``Visit.copy`` 1); the solver prefers a new venue.
- Times: the order's earliest timing, then ``PlanningContext.settle`` closes the waits (linger, then start the
  stops before a wait later); a wait still over ``max_idle_minutes`` gets an ``idle_gap`` warning saying why.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from common.domain.itinerary.daytime import DAY_TRAVEL_FACTOR, late_start, well_timed
from common.domain.itinerary.greedy import greedy_sequences
from common.domain.itinerary.models import (
    EVENING_CATEGORIES,
    CostBreakdown,
    DayPlan,
    DroppedPlace,
    DropReason,
    Itinerary,
    MealKind,
    Place,
    PlanWarning,
    Producer,
    Stop,
    TripProblem,
    WarningCode,
    format_clock,
)
from common.domain.itinerary.planning import DayContext, DaySchedule, PlanningContext, Visit, leg_cost
from common.domain.itinerary.solver import solve_routing
from common.domain.itinerary.weather import moved_warnings, with_previous_moves

MEAL_VALUE = 3.0
EVENING_TRAVEL_FACTOR = 1.05  # the route target: at most 5% more travel than the best order
EVENING_LATE_START_ALLOWANCE = 45  # minutes after the day window's start an evening stop may make the day leave


@dataclass(frozen=True)
class _DaysOutcome:
    schedules: dict[int, DaySchedule]
    drops: dict[str, DroppedPlace]
    produced_by: Producer
    hit_time_limit: bool = False
    natural_days: dict[str, int] = field(default_factory=dict)  # outdoor sight -> its day without the weather


def plan_trip(problem: TripProblem, *, force_greedy: bool = False) -> Itinerary:
    """Plan every day of the trip. ``force_greedy`` skips OR-Tools (tests, emergencies)."""
    started = time.monotonic()
    context = PlanningContext(problem)
    outcome = _plan_days(
        context,
        context.days,
        excluded_ids=set(),
        budget=problem.preferences.budget_limit,
        must_include_ids=set(problem.preferences.must_include_ids),
        force_greedy=force_greedy,
    )
    return _assemble(context, {}, outcome, time.monotonic() - started)


def replan_day(
    problem: TripProblem,
    previous: Itinerary,
    day_index: int,
    *,
    priority_overrides: dict[str, float] | None = None,
    force_greedy: bool = False,
) -> Itinerary:
    """Rebuild day ``day_index`` only; other days are kept as they are and their places are not reused."""
    started = time.monotonic()
    if not 0 <= day_index < problem.day_count:
        raise ValueError(f"day_index {day_index} is outside the trip")
    if priority_overrides:
        places = [
            place.model_copy(update={"priority": priority_overrides[place.id]})
            if place.id in priority_overrides
            else place
            for place in problem.places
        ]
        problem = problem.model_copy(update={"places": places})
    context = PlanningContext(problem)
    target_date = problem.date_of(day_index)
    fixed_days = {(day.date - problem.start_date).days: day for day in previous.days if day.date != target_date}
    used_elsewhere = {stop.place_id for day in fixed_days.values() for stop in day.stops}
    budget = problem.preferences.budget_limit
    if budget is not None:
        budget = max(0.0, budget - sum(day.cost for day in fixed_days.values()))
    outcome = _plan_days(
        context,
        [context.days[day_index]],
        excluded_ids=used_elsewhere,
        budget=budget,
        must_include_ids=set(problem.preferences.must_include_ids) - used_elsewhere,
        force_greedy=force_greedy,
    )
    return with_previous_moves(previous, _assemble(context, fixed_days, outcome, time.monotonic() - started))


def _candidate_visits(
    context: PlanningContext, days: list[DayContext], place: Place, budget: float | None, must_include: bool
) -> tuple[list[Visit], DroppedPlace | None]:
    """The solver's visits for ``place`` on ``days``, or why it cannot be planned at all."""
    preferences = context.problem.preferences
    if place.id in preferences.avoid_place_ids or place.category in preferences.avoid_categories:
        return [], DroppedPlace(place_id=place.id, reason=DropReason.AVOIDED)
    travel = context.travel
    if not travel.has_node(place.id):
        return [], DroppedPlace(place_id=place.id, reason=DropReason.UNREACHABLE, detail="not in the travel matrix")
    if not any(
        travel.leg(day.start_node, place.id) is not None and travel.leg(place.id, day.end_node) is not None
        for day in days
    ):
        return [], DroppedPlace(place_id=place.id, reason=DropReason.UNREACHABLE, detail="no route from lodging")
    if budget is not None and not must_include and context.visit_cost(Visit(place)) > budget + 1e-9:
        return [], DroppedPlace(place_id=place.id, reason=DropReason.OVER_BUDGET, detail="price alone exceeds budget")
    if place.is_meal_venue:
        needed = [meal for meal in place.meal_kinds if any(meal in day.required_meals for day in days)]
        if not needed:
            return [], DroppedPlace(place_id=place.id, reason=DropReason.MEAL_NOT_NEEDED)
        visits = [Visit(place, meal) for meal in needed]
        if must_include:
            visits.append(Visit(place))
    else:
        visits = [Visit(place)]
    open_visits = [
        visit
        for visit in visits
        if any(
            context.arrival_windows(visit, day)
            for day in days
            if visit.meal is None or visit.meal in day.required_meals
        )
    ]
    if not open_visits:
        return [], DroppedPlace(place_id=place.id, reason=DropReason.CLOSED, detail="no opening that fits a trip day")
    return open_visits, None


def _second_uses(days: list[DayContext], visits: list[Visit]) -> list[Visit]:
    """A second use of the venues of each meal the days need more often than there are venues for it (or of every
    venue, when the days need more meals in all than there are venues)."""
    if len(days) < 2:
        return []
    venues = {meal: {visit.node_id for visit in visits if visit.meal == meal} for meal in MealKind}
    needed = {meal: sum(1 for day in days if meal in day.required_meals) for meal in MealKind}
    servable = sum(min(needed[meal], len(venues[meal])) for meal in MealKind)  # meals some venue can serve
    too_few_in_all = len(set().union(*venues.values())) < servable
    short = {meal for meal in MealKind if venues[meal] and (len(venues[meal]) < needed[meal] or too_few_in_all)}
    as_sight = {visit.node_id for visit in visits if visit.meal is None}  # a must-include venue: used once
    return [
        Visit(visit.place, visit.meal, copy=1)
        for visit in visits
        if visit.meal in short and visit.node_id not in as_sight
    ]


def _plan_days(
    context: PlanningContext,
    days: list[DayContext],
    *,
    excluded_ids: set[str],
    budget: float | None,
    must_include_ids: set[str],
    force_greedy: bool,
) -> _DaysOutcome:
    drops: dict[str, DroppedPlace] = {}
    visits: list[Visit] = []
    for place in context.problem.places:
        if place.id in excluded_ids:
            continue
        place_visits, dropped = _candidate_visits(context, days, place, budget, place.id in must_include_ids)
        if dropped is not None:
            drops[place.id] = dropped
        visits.extend(place_visits)
    visits.extend(_second_uses(days, visits))

    produced_by = Producer.GREEDY
    hit_time_limit = False
    sequences = greedy_sequences(context, days, visits, must_include_ids)
    if not force_greedy:
        time_limit = context.problem.solver_time_limit_seconds
        routing = solve_routing(context, days, visits, must_include_ids, time_limit, initial_sequences=sequences)
        if routing is not None:
            sequences, produced_by = routing.sequences, Producer.SOLVER
        hit_time_limit = routing is None or routing.hit_time_limit

    schedules: dict[int, DaySchedule] = {}
    for day in days:
        schedule = context.schedule(day, sequences[day.index])
        if schedule is None:  # the solver's order is always timeable; this guards against a modelling slip
            schedule = context.schedule(day, [])
            produced_by = Producer.GREEDY
        assert schedule is not None
        schedules[day.index] = _shortest(context, schedule)
    used = {timed.visit.node_id for schedule in schedules.values() for timed in schedule.visits}
    for index, schedule in schedules.items():
        schedules[index] = _filled(context, schedule, visits, used)
    if budget is not None:
        _fit_budget(context, schedules, budget, must_include_ids, drops)
    return _DaysOutcome(
        schedules=schedules,
        drops=drops,
        produced_by=produced_by,
        hit_time_limit=hit_time_limit,
        natural_days=context.natural_days(days, visits) if len(days) > 1 else {},
    )


def _shortest(context: PlanningContext, schedule: DaySchedule) -> DaySchedule:
    """The same stops in the order with the least travel when the day is small enough for an exact search, then the
    order within 5% of that travel that wastes the least of the day (``daytime.well_timed``: out near the start of
    the day window, no long waits), then an evening stop where one fits (``_evening``)."""
    reordered = context.best_order(schedule.day, [timed.visit for timed in schedule.visits])
    if reordered is not None and reordered.travel_minutes < schedule.travel_minutes:
        schedule = reordered
    shaped = _evening(context, well_timed(context, schedule), schedule.travel_minutes)
    if _ends_after_dinner(shaped):
        return shaped
    # well_timed may have used the travel allowance or left the least-travel order's stop after dinner: that order
    # (with an evening stop moved there if one fits), if it does not start the day later than the well-timed order
    # would (beyond the allowance).
    evening = _evening(context, schedule, schedule.travel_minutes)
    later = max(late_start(context, shaped), EVENING_LATE_START_ALLOWANCE)
    if _ends_after_dinner(evening) and late_start(context, evening) <= later:
        return evening
    return shaped


def _ends_after_dinner(schedule: DaySchedule) -> bool:
    visits = schedule.visits
    return len(visits) >= 2 and visits[-1].visit.meal is None and visits[-2].visit.meal == MealKind.DINNER


def _long_waits(context: PlanningContext, schedule: DaySchedule) -> list[tuple[int, int]]:
    """(stop index, idle minutes) of the waits still over ``max_idle_minutes`` once ``schedule`` is settled."""
    limit = context.problem.preferences.max_idle_minutes
    return [(index, idle) for index, idle in context.waits(context.settle(schedule)) if idle > limit]


def _fill_waits(context: PlanningContext, schedule: DaySchedule, visits: list[Visit], used: set[str]) -> DaySchedule:
    """Fill the long waits settling leaves (before a locked stop, a meal window or an opening time; after a fixed
    start). Each round takes, of the sights that could go just before a waiting stop (an unused one while the day
    has room for another sight, or one of the day's later sights moved forward, but not an evening sight after
    dinner), the one leaving the least idle plus travel time (then the highest priority), if that is less than now.
    ``used`` (places planned on any day) gains what is inserted."""
    sequence = [timed.visit for timed in schedule.visits]
    while True:
        waits = _long_waits(context, schedule)
        if not waits:
            return schedule
        lost_now = sum(idle for _, idle in waits) + schedule.travel_minutes
        room = sum(1 for visit in sequence if visit.meal is None) < schedule.day.max_stops
        trials: list[tuple[Visit, list[Visit]]] = []
        for position, _ in waits:
            if room:
                trials += [
                    (visit, [*sequence[:position], visit, *sequence[position:]])
                    for visit in visits
                    if visit.meal is None and not visit.copy and visit.node_id not in used
                ]
            for later in range(position + 1, len(sequence)):
                visit = sequence[later]
                evening = visit.place.category in EVENING_CATEGORIES and any(
                    earlier.meal == MealKind.DINNER for earlier in sequence[:later]
                )  # kept for the evening (``_evening``)
                if visit.meal is None and not evening and context.locked_at(visit, schedule.day) is None:
                    rest = sequence[:later] + sequence[later + 1 :]
                    trials.append((visit, [*rest[:position], visit, *rest[position:]]))
        best: tuple[tuple[int, float], list[Visit], DaySchedule] | None = None
        for visit, trial in trials:
            timed = context.schedule(schedule.day, trial)
            if timed is None:
                continue
            lost = sum(idle for _, idle in _long_waits(context, timed)) + timed.travel_minutes
            key = (lost, -visit.place.priority)
            if lost < lost_now and (best is None or key < best[0]):
                best = (key, trial, timed)
        if best is None:
            return schedule
        _, sequence, schedule = best
        used.update(visit.node_id for visit in sequence)


def _filled(context: PlanningContext, schedule: DaySchedule, visits: list[Visit], used: set[str]) -> DaySchedule:
    """``schedule`` with its long waits filled (``_fill_waits``), re-ordered (``_shortest``); ``schedule`` itself when
    the filling only moved the day's own sights and that costs more than ``DAY_TRAVEL_FACTOR`` times its travel: the
    traveller sees those sights anyway, and crossing town to fill a wait made days up to a third longer on the road
    than their best order (engine_bench)."""
    filled = _fill_waits(context, schedule, visits, used)
    if filled is schedule:
        return schedule
    filled = _shortest(context, filled)
    same_stops = sorted(timed.visit.key for timed in filled.visits) == sorted(t.visit.key for t in schedule.visits)
    if same_stops and filled.travel_minutes > math.floor(schedule.travel_minutes * DAY_TRAVEL_FACTOR):
        return schedule
    return filled


def _evening(context: PlanningContext, schedule: DaySchedule, best_travel: int | None = None) -> DaySchedule:
    """When dinner ends the day and the day has a sight that suits the evening (a viewpoint, a neighbourhood, a
    market, a bar) and is open then, move it after dinner if that costs at most ``EVENING_TRAVEL_FACTOR`` more
    travel (than ``best_travel``, the day's least-travel order, when given) and the day still leaves at most
    ``EVENING_LATE_START_ALLOWANCE`` minutes after its window starts (or no later than before): a sight taken from
    the morning must not leave it empty (a free hour before dinner is fine). The evening is the time for a view at
    sunset or a night market, not the hotel room."""
    sequence = [timed.visit for timed in schedule.visits]
    if len(sequence) < 2 or sequence[-1].meal != MealKind.DINNER:
        return schedule
    allowed = math.floor((schedule.travel_minutes if best_travel is None else best_travel) * EVENING_TRAVEL_FACTOR)
    late = max(late_start(context, schedule), EVENING_LATE_START_ALLOWANCE)
    best: DaySchedule | None = None
    for position, visit in enumerate(sequence[:-1]):
        if visit.meal is not None or visit.place.category not in EVENING_CATEGORIES:
            continue
        moved = context.schedule(schedule.day, [*sequence[:position], *sequence[position + 1 :], visit])
        fits = moved is not None and moved.travel_minutes <= allowed and late_start(context, moved) <= late
        if fits and moved is not None and (best is None or moved.travel_minutes < best.travel_minutes):
            best = moved
    return best or schedule


def _fit_budget(
    context: PlanningContext,
    schedules: dict[int, DaySchedule],
    budget: float,
    must_include_ids: set[str],
    drops: dict[str, DroppedPlace],
) -> None:
    """Drop the lowest value-per-cost stops until the planned days fit ``budget``."""
    while sum(context.schedule_cost(schedule) for schedule in schedules.values()) > budget + 1e-9:
        best: tuple[float, str, int, DaySchedule] | None = None
        for day_index, schedule in schedules.items():
            current_cost = context.schedule_cost(schedule)
            sequence = [timed.visit for timed in schedule.visits]
            for position, visit in enumerate(sequence):
                if visit.node_id in must_include_ids:
                    continue
                shorter = context.schedule(schedule.day, sequence[:position] + sequence[position + 1 :])
                if shorter is None:
                    continue
                saved = current_cost - context.schedule_cost(shorter)
                if saved <= 0:
                    continue
                value = MEAL_VALUE if visit.meal is not None else visit.place.priority
                key = (value / saved, visit.node_id)
                if best is None or key < (best[0], best[1]):
                    best = (key[0], visit.node_id, day_index, shorter)
        if best is None:
            return
        _, place_id, day_index, shorter = best
        schedules[day_index] = _shortest(context, shorter)
        drops[place_id] = DroppedPlace(place_id=place_id, reason=DropReason.OVER_BUDGET, detail="budget post-pass")


def _day_plan(context: PlanningContext, schedule: DaySchedule) -> DayPlan:
    stops = [
        Stop(
            place_id=timed.visit.place.id,
            name=timed.visit.place.name,
            arrive_minute=timed.arrive_minute,
            depart_minute=timed.depart_minute,
            meal=timed.visit.meal,
            leg_from_previous=timed.leg,
            cost=round(context.visit_cost(timed.visit), 2),
        )
        for timed in schedule.visits
    ]
    start_minute = stops[0].arrive_minute - schedule.visits[0].leg.minutes if stops else None
    return DayPlan(
        date=schedule.day.date,
        stops=stops,
        start_minute=start_minute,
        end_minute=schedule.end_minute if stops else None,
        leg_to_end=schedule.leg_to_end,
        travel_minutes=schedule.travel_minutes,
        cost=round(context.schedule_cost(schedule), 2),
    )


def _assemble(
    context: PlanningContext, fixed_days: dict[int, DayPlan], outcome: _DaysOutcome, solve_seconds: float
) -> Itinerary:
    problem = context.problem
    preferences = problem.preferences
    settled = {index: context.settle(schedule) for index, schedule in outcome.schedules.items()}
    planned = {index: _day_plan(context, schedule) for index, schedule in settled.items()}
    days_by_index = {**fixed_days, **planned}
    days = [days_by_index[index] for index in sorted(days_by_index)]
    places = {place.id: place for place in problem.places}

    activities = food = transport = 0.0
    for day in days:
        for stop in day.stops:
            place = places.get(stop.place_id)
            if place is not None and place.is_meal_venue:
                food += stop.cost
            else:
                activities += stop.cost
        legs = [stop.leg_from_previous for stop in day.stops] + [day.leg_to_end]
        transport += sum(leg_cost(leg, problem.transport_costs, preferences.travellers) for leg in legs if leg)
    costs = CostBreakdown(
        activities=round(activities, 2),
        food=round(food, 2),
        local_transport=round(transport, 2),
        budget_limit=preferences.budget_limit,
    )

    visited = {stop.place_id for day in days for stop in day.stops}
    dropped: list[DroppedPlace] = []
    for place in problem.places:
        if place.id in visited:
            continue
        known = outcome.drops.get(place.id)
        if known is None:
            reason = DropReason.MEAL_NOT_NEEDED if place.is_meal_venue else DropReason.NO_TIME
            known = DroppedPlace(place_id=place.id, reason=reason)
        dropped.append(known)
    drop_by_id = {drop.place_id: drop for drop in dropped}

    warnings: list[PlanWarning] = []
    for place_id in preferences.must_include_ids:
        if place_id in visited:
            continue
        if place_id not in places:
            warnings.append(
                PlanWarning(
                    code=WarningCode.MUST_INCLUDE_DROPPED, message=f"{place_id} is not a known place", place_id=place_id
                )
            )
            continue
        drop = drop_by_id[place_id]
        warnings.append(
            PlanWarning(
                code=WarningCode.MUST_INCLUDE_DROPPED,
                message=f"{places[place_id].name} could not be planned: {drop.reason.value} {drop.detail}".strip(),
                place_id=place_id,
            )
        )
    for index, day in enumerate(days):
        day_index = (day.date - problem.start_date).days
        for meal in context.days[day_index].required_meals:
            if not any(stop.meal == meal for stop in day.stops):
                warnings.append(
                    PlanWarning(
                        code=WarningCode.MEAL_MISSING,
                        message=f"no {meal.value} venue fits {day.date.isoformat()}",
                        day_index=index,
                        meal=meal,
                    )
                )
        for stop in day.stops:
            place = places.get(stop.place_id)
            if place is not None and not place.hours_known:
                warnings.append(
                    PlanWarning(
                        code=WarningCode.HOURS_UNKNOWN,
                        message=f"opening hours of {place.name} are unknown; check before going",
                        day_index=index,
                        place_id=place.id,
                    )
                )
    position_of = {trip_day: position for position, trip_day in enumerate(sorted(days_by_index))}
    for trip_day, schedule in sorted(settled.items()):
        warnings.extend(_wait_warnings(context, position_of[trip_day], schedule))
    if outcome.natural_days:
        planned_on = {
            timed.visit.node_id: trip_day
            for trip_day, schedule in settled.items()
            for timed in schedule.visits
            if timed.visit.node_id in outcome.natural_days and timed.visit.meal is None
        }
        moved = moved_warnings(
            planned_on,
            outcome.natural_days,
            {place_id: places[place_id].name for place_id in planned_on},
            {trip_day: context.days[trip_day].date for trip_day in days_by_index},
            context.wet_days,
        )
        warnings.extend(
            warning.model_copy(update={"day_index": position_of.get(warning.day_index or 0)}) for warning in moved
        )
    if outcome.hit_time_limit:
        warnings.append(
            PlanWarning(
                code=WarningCode.SOLVER_TIME_LIMIT,
                message="the search stopped at its time limit; a faster machine may find a different plan",
            )
        )
    if not costs.within_budget:
        warnings.append(
            PlanWarning(
                code=WarningCode.BUDGET_EXCEEDED,
                message=f"the plan costs {costs.total:.2f}, over the budget of {preferences.budget_limit:.2f}",
            )
        )
    return Itinerary(
        days=days,
        costs=costs,
        dropped=dropped,
        warnings=warnings,
        produced_by=outcome.produced_by,
        solve_seconds=round(solve_seconds, 3),
    )


def _wait_warnings(context: PlanningContext, day_index: int, schedule: DaySchedule) -> list[PlanWarning]:
    """An ``idle_gap`` warning for each wait over ``max_idle_minutes`` left after settling, saying why."""
    warnings = []
    limit = context.problem.preferences.max_idle_minutes
    for index, idle in context.waits(schedule):
        if idle <= limit:
            continue
        timed, previous = schedule.visits[index], (schedule.visits[index - 1] if index else None)
        visit = timed.visit
        starts_when_possible = any(
            low == timed.arrive_minute for low, _ in context.arrival_windows(visit, schedule.day)
        )
        if context.locked_at(visit, schedule.day) is not None:
            reason = f"it is locked at {format_clock(timed.arrive_minute)}; free time"
        elif starts_when_possible and visit.meal is not None:
            reason = f"{visit.meal.value} is served from {format_clock(timed.arrive_minute)}"
        elif starts_when_possible:
            reason = f"it opens at {format_clock(timed.arrive_minute)}"
        elif previous is None:
            reason = "free time before it"
        else:
            reason = f"{previous.visit.place.name} cannot start later or stay longer (opening hours); free time"
        warnings.append(
            PlanWarning(
                code=WarningCode.IDLE_GAP,
                message=f"a {idle}-minute wait before {visit.place.name}: {reason}",
                day_index=day_index,
                place_id=visit.place.id,
            )
        )
    return warnings
