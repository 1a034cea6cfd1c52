"""Locked stops: places the traveller fixed in place and time, which the engine plans the other stops around.

A locked visit (``LockedVisit``) is a must-include whose only arrival time is its locked minute and whose stay is
exactly its locked length (``PlanningContext.stay_windows``), on its date only; the solver, the greedy fallback,
settling, re-timing on real legs and repairs therefore never move it. ``apply_locks`` turns locks into that problem;
``lock_conflicts`` says, before planning, which locks cannot be kept (an avoided kind of place, closed then, outside
the day, overlapping another lock, out of reach of the day's start, its end or the lock before it), so that the
caller reports them instead of letting a lock be dropped or moved.
"""

from __future__ import annotations

from common.domain.itinerary.models import LockedVisit, TripProblem, format_clock
from common.domain.itinerary.planning import PlanningContext, Visit


def apply_locks(problem: TripProblem, locks: list[LockedVisit]) -> TripProblem:
    """``problem`` with ``locks`` in its preferences, each locked place a must-include lasting its locked time."""
    if not locks:
        return problem
    stays = {lock.place_id: lock.stay for lock in locks}
    places = [
        place.model_copy(update={"visit_minutes": stays[place.id]}) if place.id in stays else place
        for place in problem.places
    ]
    preferences = problem.preferences.model_copy(
        update={
            "locked": list(locks),
            "must_include_ids": sorted(set(problem.preferences.must_include_ids) | set(stays)),
            "avoid_place_ids": [place_id for place_id in problem.preferences.avoid_place_ids if place_id not in stays],
        }
    )
    return problem.model_copy(update={"places": places, "preferences": preferences})


def lock_conflicts(problem: TripProblem) -> dict[str, str]:
    """Per locked place id, why its lock cannot be kept on ``problem`` (an ``apply_locks`` problem); empty when every
    lock can be. Travel is the problem's matrices (estimates before real legs are known)."""
    context = PlanningContext(problem)
    places = {place.id: place for place in problem.places}
    conflicts: dict[str, str] = {}
    for day in context.days:
        locks = sorted(
            (lock for lock in problem.preferences.locked if lock.date == day.date), key=lambda lock: lock.arrive_minute
        )
        position, free_from = day.start_node, day.window.start
        for lock in locks:
            when = f"{format_clock(lock.arrive_minute)}-{format_clock(lock.depart_minute)}"
            place = places.get(lock.place_id)
            if place is None or not context.travel.has_node(lock.place_id):
                conflicts[lock.place_id] = "not a place this plan can use"
                continue
            if place.category in problem.preferences.avoid_categories:
                conflicts[lock.place_id] = f"a {place.category}, a kind of place the trip avoids"
            elif lock.arrive_minute < day.window.start or lock.depart_minute > day.window.end:
                conflicts[lock.place_id] = (
                    f"locked at {when}, outside the day ({format_clock(day.window.start)}-"
                    f"{format_clock(day.window.end)})"
                )
            elif not context.stay_windows(Visit(place), day, lock.stay):
                conflicts[lock.place_id] = f"locked at {when}, when it is closed"
            elif lock.arrive_minute < free_from and position != day.start_node:
                conflicts[lock.place_id] = f"locked at {when}, overlapping the locked stop before it"
            else:
                leg = context.travel.minutes(position, lock.place_id)
                if leg is None or free_from + leg > lock.arrive_minute:
                    reach = "no route" if leg is None else f"cannot be there before {format_clock(free_from + leg)}"
                    conflicts[lock.place_id] = f"locked at {when}: {reach}"
            position, free_from = lock.place_id, max(free_from, lock.depart_minute)
        if locks and position != day.start_node and locks[-1].place_id not in conflicts:
            back = context.travel.minutes(position, day.end_node)
            if back is None or free_from + back > day.window.end:
                conflicts[position] = f"locked until {format_clock(free_from)}: cannot end the day in time"
    return conflicts
