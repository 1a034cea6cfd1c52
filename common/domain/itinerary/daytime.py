"""A day's order as a traveller lives it: out near the start of the day window, no dead hours, little travel.

The least-travel order of a day's stops often leaves its slack where the traveller feels it: a meal first (lunch
cannot start before its window) or a late opening makes ``PlanningContext.settle`` start the whole day later, so
the morning is lost. ``well_timed`` looks at the orders of the same stops whose travel is within
``DAY_TRAVEL_FACTOR`` of the given one and keeps the one with the fewest dead minutes (``dead_minutes``: the late
start plus the waits still over ``max_idle_minutes`` once settled), then the least travel.
"""

from __future__ import annotations

import math

from common.domain.itinerary.planning import EXACT_ORDER_MAX_STOPS, DaySchedule, PlanningContext, Visit

DAY_TRAVEL_FACTOR = 1.05  # the route target: at most 5% more travel than the best order
MAX_ORDERS = 120  # orders compared per day (depth-first, cheapest legs first); bounds the work on long days


def late_start(context: PlanningContext, schedule: DaySchedule) -> int:
    """How many minutes after the day window's start the traveller leaves, once ``schedule`` is settled."""
    settled = context.settle(schedule)
    if not settled.visits:
        return 0
    first = settled.visits[0]
    return max(0, first.arrive_minute - first.leg.minutes - settled.day.window.start)


def dead_minutes(context: PlanningContext, schedule: DaySchedule) -> int:
    """Minutes of ``schedule`` (settled) a traveller spends neither at a stop nor on the way: how much later than the
    day window's start the day begins, plus every wait longer than ``max_idle_minutes``."""
    settled = context.settle(schedule)
    if not settled.visits:
        return 0
    late = late_start(context, settled)
    limit = context.problem.preferences.max_idle_minutes
    waits = context.waits(settled)
    if context.problem.preferences.fixed_start:  # the first wait is the late start, already counted
        waits = [(index, idle) for index, idle in waits if index > 0]
    return late + sum(idle for _, idle in waits if idle > limit)


def timeable_orders(
    context: PlanningContext, schedule: DaySchedule, travel_bound: int, limit: int = MAX_ORDERS
) -> list[list[Visit]]:
    """Up to ``limit`` orders of ``schedule``'s visits that can be timed with at most ``travel_bound`` minutes of
    travel (depth-first, nearer next stops first); none when the day has more than ``EXACT_ORDER_MAX_STOPS``."""
    day, visits = schedule.day, [timed.visit for timed in schedule.visits]
    if len(visits) > EXACT_ORDER_MAX_STOPS:
        return []
    windows = [context.arrival_windows(visit, day) for visit in visits]
    found: list[list[Visit]] = []

    def explore(position: str, clock: int, spent: int, chosen: list[int]) -> None:
        if len(found) >= limit or spent > travel_bound:
            return
        if len(chosen) == len(visits):
            back = context.travel.minutes(position, day.end_node)
            if back is not None and clock + back <= day.window.end and spent + back <= travel_bound:
                found.append([visits[index] for index in chosen])
            return
        steps = []
        for candidate, visit in enumerate(visits):
            minutes = None if candidate in chosen else context.travel.minutes(position, visit.node_id)
            if minutes is not None:
                steps.append((minutes, candidate))
        for minutes, candidate in sorted(steps):
            ready = clock + minutes
            arrive = next((max(low, ready) for low, high in windows[candidate] if high >= ready), None)
            if arrive is None:
                continue
            chosen.append(candidate)
            explore(visits[candidate].node_id, arrive + visits[candidate].place.visit_minutes, spent + minutes, chosen)
            chosen.pop()

    explore(day.start_node, day.window.start, 0, [])
    return found


def well_timed(context: PlanningContext, schedule: DaySchedule) -> DaySchedule:
    """``schedule``'s stops in the order with the fewest ``dead_minutes`` among those with at most
    ``DAY_TRAVEL_FACTOR`` times its travel (ties: less travel); ``schedule`` itself when none is better."""
    if len(schedule.visits) < 2:
        return schedule
    best, best_key = schedule, (dead_minutes(context, schedule), schedule.travel_minutes)
    if best_key[0] == 0:
        return schedule
    bound = math.floor(schedule.travel_minutes * DAY_TRAVEL_FACTOR)
    for order in timeable_orders(context, schedule, bound):
        timed = context.schedule(schedule.day, order)
        if timed is None:
            continue
        key = (dead_minutes(context, timed), timed.travel_minutes)
        if key < best_key:
            best, best_key = timed, key
    return best
