"""Re-timing a plan on other travel times (real legs after a plan built on estimates), keeping each day's order.

``retime`` times every day's stops, in their order, on ``problem``'s matrices with the engine's own scheduling rules
(earliest feasible times, opening hours, meal windows, day window) and rebuilds the itinerary's costs, drops and
warnings. A day whose order no longer fits is returned empty and listed, for the caller to repair (for instance with
``replan_day``) and verify again.
"""

from __future__ import annotations

from common.domain.itinerary.engine import _assemble, _DaysOutcome
from common.domain.itinerary.models import Itinerary, TripProblem, WarningCode
from common.domain.itinerary.planning import DaySchedule, PlanningContext, Visit
from common.domain.itinerary.weather import with_previous_moves


def retime(problem: TripProblem, itinerary: Itinerary) -> tuple[Itinerary, list[int]]:
    """``itinerary`` re-timed on ``problem``; and the trip-day indexes of the days that no longer fit (emptied)."""
    context = PlanningContext(problem)
    places = {place.id: place for place in problem.places}
    schedules: dict[int, DaySchedule] = {}
    failed: list[int] = []
    for day in itinerary.days:
        index = (day.date - problem.start_date).days
        day_context = context.days[index]
        visits = [Visit(places[stop.place_id], stop.meal) for stop in day.stops if stop.place_id in places]
        schedule = context.schedule(day_context, visits) if len(visits) == len(day.stops) else None
        if schedule is None:
            failed.append(index)
            schedule = context.schedule(day_context, [])
        assert schedule is not None  # an empty day always fits
        schedules[index] = schedule
    outcome = _DaysOutcome(
        schedules=schedules,
        drops={drop.place_id: drop for drop in itinerary.dropped},
        produced_by=itinerary.produced_by,
        hit_time_limit=any(warning.code == WarningCode.SOLVER_TIME_LIMIT for warning in itinerary.warnings),
    )
    return with_previous_moves(itinerary, _assemble(context, {}, outcome, itinerary.solve_seconds)), failed


def trim_day(problem: TripProblem, itinerary: Itinerary, day_index: int) -> Itinerary | None:
    """``itinerary`` with one stop removed from trip day ``day_index`` so that the day fits ``problem``'s matrices,
    or ``None`` when no single removal does. Must-includes stay; sights go before meals, lowest priority first.

    A cheap repair: the day keeps its other stops and order, so only the one leg that closes the gap is new.
    The times of the returned itinerary are not recomputed: ``retime`` it (with that leg known) next.
    """
    context = PlanningContext(problem)
    places = {place.id: place for place in problem.places}
    must = set(problem.preferences.must_include_ids)
    position = next(
        (index for index, day in enumerate(itinerary.days) if (day.date - problem.start_date).days == day_index), None
    )
    if position is None:
        return None
    day = itinerary.days[position]
    if any(stop.place_id not in places for stop in day.stops):
        return None
    visits = [Visit(places[stop.place_id], stop.meal) for stop in day.stops]
    candidates = sorted(
        (index for index, visit in enumerate(visits) if visit.place.id not in must),
        key=lambda index: (visits[index].meal is not None, visits[index].place.priority, -index),
    )
    for index in candidates:
        if context.schedule(context.days[day_index], visits[:index] + visits[index + 1 :]) is not None:
            days = list(itinerary.days)
            days[position] = day.model_copy(update={"stops": day.stops[:index] + day.stops[index + 1 :]})
            return itinerary.model_copy(update={"days": days})
    return None
