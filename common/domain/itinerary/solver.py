"""OR-Tools routing model: days are vehicles on one clock (day k occupies minutes [k*1440, (k+1)*1440)).

- Each visit's time dimension domain is the union over the days it may be visited on of its arrival windows
  (opening hours minus visit length, day window, meal window for meals); gaps are removed with ``RemoveInterval``
  and days without a window are excluded through the visit's vehicle variable (the Python binding of
  ``SetAllowedVehiclesForIndex`` rejects lists).
- Visits are optional (disjunctions): a sight costs ``SIGHT_BASE_PENALTY + priority * SIGHT_PRIORITY_PENALTY``
  minutes of travel when dropped, a must-include ``MUST_INCLUDE_PENALTY``. A meal venue's lunch and dinner visits
  share one disjunction per use (``Visit.key``), so a sight is used at most once in the trip, a meal venue at most
  once per use.
- A ``sights`` dimension caps the sights of a day (meals are not counted); ``lunch``/``dinner`` dimensions allow
  one of each a day and charge ``MEAL_MISSING_PENALTY`` (soft lower bound) on a day that requires the meal and has
  none. A meal venue's second use (``Visit.copy`` 1) may not fall on the day of its first.
- The arc cost is travel minutes, plus, per day, ``planning.AREA_COST_PER_KM`` for each km a stop lies from the
  centre of the day's area (a balanced geographic clustering of the sights, ``clusters.balanced_clusters``) so each
  day stays in one part of the city, plus ``REPEAT_VENUE_COST`` for a meal venue's second use. The extra cost of a
  stop does not depend on its predecessor, so it does not change the best order within a day. Each sight may only
  go on the days whose area it belongs to (``PlanningContext.home_days``: its nearest area centre among the days it
  is open, and any within ``HOME_AREA_SLACK_KM`` more); the cost alone left days spread. Must-includes too (left
  free, Fushimi Inari, far south, crossed town on a day in the north-west while a sight of lower priority kept its
  place in the south): only when one fits no day of its area is the model solved again with the must-includes
  free, so none is dropped for its area.
  Must-includes too (left free, Fushimi Inari, far south, crossed town on a day in the north-west while a sight of
  lower priority kept its place in the south): only when one fits no day of its area is the model solved again
  with the must-includes free, so none is dropped for its area.
- Search: greedy descent (stops at a local optimum, so deterministic whatever the machine speed) from parallel
  cheapest insertion and from the greedy plan; the time limit is a safety net. Guided local search was tried:
  bounded by a solution count it ran to the time limit on tiny problems.
- The budget is not modelled here (an even per-day share kept less value in trials); the engine's post-pass
  enforces it.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from common.domain.itinerary.hours import Interval
from common.domain.itinerary.models import MINUTES_PER_DAY, MealKind
from common.domain.itinerary.planning import DayContext, PlanningContext, Visit

SIGHT_BASE_PENALTY = 300
SIGHT_PRIORITY_PENALTY = 1_000
MEAL_VENUE_PRIORITY_PENALTY = 5
MUST_INCLUDE_PENALTY = 2_000_000
MEAL_MISSING_PENALTY = 100_000
UNEVEN_DAY_PENALTY = 60  # per sight below a day's even share, in minutes of travel
REPEAT_VENUE_COST = 45  # minutes of travel: a meal venue's second use is taken only when no new venue is near
LOCAL_SEARCH_SOLUTION_LIMIT = 100_000
HOME_AREAS = True  # off: the area cost alone (measured weaker, bench/REPORT.md)
SOLVE_FROM_INSERTION_TOO = True


@dataclass(frozen=True)
class RoutingOutcome:
    sequences: dict[int, list[Visit]]
    hit_time_limit: bool


def visit_penalty(visit: Visit, must_include: bool) -> int:
    if must_include:
        return MUST_INCLUDE_PENALTY
    if visit.meal is not None:
        return round(MEAL_VENUE_PRIORITY_PENALTY * visit.place.priority)
    return SIGHT_BASE_PENALTY + round(SIGHT_PRIORITY_PENALTY * visit.place.priority)


def solve_routing(
    context: PlanningContext,
    days: list[DayContext],
    visits: list[Visit],
    must_include_ids: set[str],
    time_limit_seconds: float,
    initial_sequences: dict[int, list[Visit]] | None = None,
    *,
    must_include_areas: bool = True,
) -> RoutingOutcome | None:
    """Best sequences per day index found by OR-Tools, or None when no solution was found in time.

    Two deterministic descents: one from parallel cheapest insertion, one from ``initial_sequences`` (the greedy
    plan) when given; the lower objective wins. Seeding matters on long trips, where insertion alone packs few
    days."""
    started = time.monotonic()
    day_count = len(days)
    domains: list[list[Interval]] = []
    allowed: list[list[int]] = []
    schedulable: list[Visit] = []
    for visit in visits:
        visit_domain: list[Interval] = []
        visit_vehicles: list[int] = []
        for vehicle, day in enumerate(days):
            if visit.meal is not None and visit.meal not in day.required_meals:
                continue
            windows = context.arrival_windows(visit, day)
            if windows:
                visit_vehicles.append(vehicle)
                offset = vehicle * MINUTES_PER_DAY
                visit_domain.extend((offset + low, offset + high) for low, high in windows)
        if visit_vehicles:
            schedulable.append(visit)
            domains.append(visit_domain)
            allowed.append(visit_vehicles)
    visits = schedulable
    # Each sight stays in (or next to) its day's part of the city: see ``PlanningContext.home_days``.
    free = set() if must_include_areas else must_include_ids
    homes = context.home_days(days, visits, free) if HOME_AREAS else {}
    for position, visit in enumerate(visits):
        home = homes.get(visit.node_id)
        if home is not None and visit.meal is None:
            near = [vehicle for vehicle in allowed[position] if days[vehicle].index in home]
            allowed[position] = near or allowed[position]
    node_ids = [node for day in days for node in (day.start_node, day.end_node)] + [v.node_id for v in visits]
    node_count = len(node_ids)
    first_visit_node = 2 * day_count
    horizon = day_count * MINUTES_PER_DAY
    unreachable = horizon + 1

    travel = [[0] * node_count for _ in range(node_count)]
    for origin in range(node_count):
        row = travel[origin]
        for destination in range(node_count):
            if origin != destination:
                minutes = context.travel.minutes(node_ids[origin], node_ids[destination])
                row[destination] = unreachable if minutes is None else minutes
    service = [0] * first_visit_node + [visit.place.visit_minutes for visit in visits]
    time_matrix = [[service[origin] + cell for cell in travel[origin]] for origin in range(node_count)]

    manager = pywrapcp.RoutingIndexManager(
        node_count, day_count, [2 * k for k in range(day_count)], [2 * k + 1 for k in range(day_count)]
    )
    routing = pywrapcp.RoutingModel(manager)
    for vehicle, extra in enumerate(_stop_costs(context, days, visits)):
        costs = [[cell + extra[destination] for destination, cell in enumerate(row)] for row in travel]
        routing.SetArcCostEvaluatorOfVehicle(routing.RegisterTransitMatrix(costs), vehicle)

    time_callback = routing.RegisterTransitMatrix(time_matrix)
    routing.AddDimension(time_callback, horizon, horizon, False, "time")
    time_dimension = routing.GetDimensionOrDie("time")

    # The pace caps the sights of a day; meals come on top.
    is_sight = [0] * first_visit_node + [1 if visit.meal is None else 0 for visit in visits]
    sight_caps = [day.max_stops for day in days]
    sights_callback = routing.RegisterUnaryTransitVector(is_sight)
    routing.AddDimensionWithVehicleCapacity(sights_callback, 0, sight_caps, True, "sights")
    # Spread the sights over the days: each sight a day has fewer than an even share costs a little.
    sight_count = sum(is_sight)
    if day_count > 1 and sight_count:
        sights_dimension = routing.GetDimensionOrDie("sights")
        for vehicle in range(day_count):
            even_share = min(sight_caps[vehicle], sight_count // day_count)
            if even_share > 0:
                sights_dimension.SetCumulVarSoftLowerBound(routing.End(vehicle), even_share, UNEVEN_DAY_PENALTY)

    for meal in MealKind:
        is_meal = [0] * first_visit_node + [1 if visit.meal == meal else 0 for visit in visits]
        if not any(is_meal):
            continue
        meal_callback = routing.RegisterUnaryTransitVector(is_meal)
        routing.AddDimension(meal_callback, 0, 1, True, meal.value)
        meal_dimension = routing.GetDimensionOrDie(meal.value)
        for vehicle, day in enumerate(days):
            if meal in day.required_meals:
                meal_dimension.SetCumulVarSoftLowerBound(routing.End(vehicle), 1, MEAL_MISSING_PENALTY)
                routing.SetVehicleUsedWhenEmpty(True, vehicle)  # else an empty day escapes the meal penalty

    for vehicle, day in enumerate(days):
        offset = vehicle * MINUTES_PER_DAY
        for index in (routing.Start(vehicle), routing.End(vehicle)):
            time_dimension.CumulVar(index).SetRange(offset + day.window.start, offset + day.window.end)

    disjunction_groups: dict[tuple[str, int], list[int]] = {}
    for position, visit in enumerate(visits):
        index = manager.NodeToIndex(first_visit_node + position)
        domain = domains[position]
        cumul = time_dimension.CumulVar(index)
        cumul.SetRange(domain[0][0], domain[-1][1])
        for (_, previous_high), (next_low, _) in itertools.pairwise(domain):
            if next_low > previous_high + 1:
                cumul.RemoveInterval(previous_high + 1, next_low - 1)
        if len(allowed[position]) < day_count:
            routing.VehicleVar(index).SetValues([-1, *allowed[position]])
        disjunction_groups.setdefault(visit.key, []).append(index)

    visit_by_key = {visit.key: visit for visit in visits}
    for key, indices in disjunction_groups.items():
        penalty = visit_penalty(visit_by_key[key], key[0] in must_include_ids)
        routing.AddDisjunction(indices, penalty, 1)
    # A meal venue's two uses fall on different days: for each pair, different vehicles or the first unused.
    solver = routing.solver()
    for (place_id, copy), second_uses in disjunction_groups.items():
        if copy == 0:
            continue
        for first in disjunction_groups.get((place_id, 0), []):
            for second in second_uses:
                first_day, second_day = routing.VehicleVar(first), routing.VehicleVar(second)
                solver.Add(solver.IsDifferentVar(first_day, second_day) + solver.IsEqualCstVar(first_day, -1) >= 1)

    for vehicle in range(day_count):
        routing.AddVariableMinimizedByFinalizer(time_dimension.CumulVar(routing.Start(vehicle)))
        routing.AddVariableMinimizedByFinalizer(time_dimension.CumulVar(routing.End(vehicle)))

    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    parameters.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    parameters.solution_limit = LOCAL_SEARCH_SOLUTION_LIMIT
    descents = 2 if initial_sequences is not None and SOLVE_FROM_INSERTION_TOO else 1
    parameters.time_limit.FromMilliseconds(max(1, round(time_limit_seconds * 1000 / descents)))
    routing.CloseModelWithParameters(parameters)
    solutions = []
    if initial_sequences is not None:
        node_of = {
            (visit.node_id, visit.meal, visit.copy): first_visit_node + position
            for position, visit in enumerate(visits)
        }
        routes = [
            [
                manager.NodeToIndex(node_of[(visit.node_id, visit.meal, visit.copy)])
                for visit in initial_sequences.get(day.index, [])
                if (visit.node_id, visit.meal, visit.copy) in node_of
            ]
            for day in days
        ]
        initial = routing.ReadAssignmentFromRoutes(routes, True)
        if initial is not None:
            solutions.append(routing.SolveFromAssignmentWithParameters(initial, parameters))
    if SOLVE_FROM_INSERTION_TOO or not solutions:
        solutions.append(routing.SolveWithParameters(parameters))
    found = [candidate for candidate in solutions if candidate is not None]
    if not found:
        return None
    solution = min(found, key=lambda candidate: candidate.ObjectiveValue())

    sequences: dict[int, list[Visit]] = {}
    for vehicle, day in enumerate(days):
        sequence: list[Visit] = []
        index = routing.NextVar(routing.Start(vehicle))
        index = solution.Value(index)
        while not routing.IsEnd(index):
            sequence.append(visits[manager.IndexToNode(index) - first_visit_node])
            index = solution.Value(routing.NextVar(index))
        sequences[day.index] = sequence
    planned = {visit.node_id for sequence in sequences.values() for visit in sequence}
    if must_include_areas and HOME_AREAS and any(visit.node_id in must_include_ids - planned for visit in visits):
        # A must-include that fits no day of its area goes on any day rather than out of the plan.
        remaining = max(0.001, time_limit_seconds - (time.monotonic() - started))
        return solve_routing(
            context, days, visits, must_include_ids, remaining, initial_sequences, must_include_areas=False
        )
    hit_time_limit = time.monotonic() - started >= 0.95 * time_limit_seconds
    return RoutingOutcome(sequences=sequences, hit_time_limit=hit_time_limit)


def _stop_costs(context: PlanningContext, days: list[DayContext], visits: list[Visit]) -> list[list[int]]:
    """Per day, the extra cost of arriving at each node (day start and end nodes first, as in the model)."""
    depots = [0] * (2 * len(days))
    areas = context.area_costs(days, visits)
    return [
        depots
        + [
            areas[day.index][position] + (REPEAT_VENUE_COST if visit.copy else 0)
            for position, visit in enumerate(visits)
        ]
        for day in days
    ]
