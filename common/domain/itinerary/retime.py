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
    return _assemble(context, {}, outcome, itinerary.solve_seconds), failed
