"""Estimate, then verify: the solver plans on estimated travel, then only the legs the plan uses are fetched.

1. The engine plans on a matrix of straight-line estimates (``maps_engine.estimated_matrix``; no Maps call).
2. The legs each day uses (lodging -> first stop, stop -> stop, last stop -> lodging) are fetched from the Routes API
   through ``MapsService.route_legs`` (cached; fewest billable units). Transit legs carry their departure time.
3. Each day is re-timed on the real legs in the same order (``itinerary.retime``). A day that no longer fits is
   repaired on real legs where known and estimates elsewhere: one stop dropped (``trim_day``: one new leg), else the
   day re-planned (``replan_day``, greedy); its new legs are fetched and checked again, at most
   ``MAX_REPAIR_ROUNDS`` times; a day still failing after that is left empty (the engine's warnings then say which
   meals and must-includes are missing).
4. The problem handed back has matrices holding only the real legs the plan uses, so the validator judges real legs
   and nothing else (a leg that was not fetched reads as "no route").
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from common.domain.itinerary import Itinerary, TravelMatrix, TripProblem, replan_day, retime, trim_day
from common.domain.itinerary import plan_trip as schedule_trip
from common.domain.maps import MapsService, MapsUnavailable, MapsUsage, TravelMode, Waypoint
from common.domain.maps.legs import LegQuery
from common.domain.maps_engine import MAPS_MODES

MAX_REPAIR_ROUNDS = 4
# Routes API takes transit departure times at most about 100 days ahead: further dates are asked for the same
# weekday and hour a whole number of weeks earlier (the time band, which keys the cache, stays the same).
MAX_DEPARTURE_AHEAD = dt.timedelta(days=90)
REUSE_MINUTES = 60

Pair = tuple[str, str]


@dataclass
class VerifiedPlan:
    """The plan on real legs and what verifying it took."""

    problem: TripProblem
    itinerary: Itinerary
    rounds: int = 0
    repaired_days: set[int] = field(default_factory=set)
    emptied_days: list[int] = field(default_factory=list)
    legs_checked: int = 0


def _departure(date: dt.date, minute: int, zone: dt.tzinfo, now: dt.datetime) -> dt.datetime:
    when = dt.datetime.combine(date, dt.time(), tzinfo=zone) + dt.timedelta(minutes=minute)
    if when - now > MAX_DEPARTURE_AHEAD:
        weeks = (when - now - MAX_DEPARTURE_AHEAD).days // 7 + 1
        when -= dt.timedelta(weeks=weeks)
    return when


def used_legs(problem: TripProblem, itinerary: Itinerary) -> list[tuple[Pair, dt.date, int]]:
    """Every leg the plan travels: ``((origin, destination), date, departure minute)``, day by day in order."""
    legs: list[tuple[Pair, dt.date, int]] = []
    for day in itinerary.days:
        if not day.stops:
            continue
        anchor = problem.anchor_of((day.date - problem.start_date).days)
        position = anchor.start_node_id
        leave = day.start_minute if day.start_minute is not None else problem.day_window.start
        for stop in day.stops:
            legs.append(((position, stop.place_id), day.date, leave))
            position, leave = stop.place_id, stop.depart_minute
        legs.append(((position, anchor.end_node_id), day.date, leave))
    return legs


class _RealLegs:
    """Real legs fetched so far for one mode, by pair and departure (minutes since 0001-01-01, local)."""

    def __init__(self, maps: MapsService, mode: str, nodes: dict[str, Waypoint], zone: dt.tzinfo, usage: MapsUsage):
        self.maps, self.mode, self.nodes, self.zone, self.usage = maps, MAPS_MODES[mode], nodes, zone, usage
        self.known: dict[tuple[Pair, int], tuple[int | None, int | None]] = {}
        self.fetched: dict[Pair, list[int]] = {}
        self.current: dict[Pair, tuple[int | None, int | None]] = {}
        self.now = dt.datetime.now(dt.UTC)

    def query(self, pair: Pair, date: dt.date, minute: int) -> LegQuery:
        departure = _departure(date, minute, self.zone, self.now) if self.mode is TravelMode.TRANSIT else None
        return LegQuery(origin=self.nodes[pair[0]], destination=self.nodes[pair[1]], departure=departure)

    def ensure(self, legs: list[tuple[Pair, dt.date, int]]) -> bool:
        """Fetch what is missing; set ``current`` to the plan's legs. True when nothing new was fetched.

        A transit leg already fetched for a departure within ``REUSE_MINUTES`` of the one asked counts as known (a
        re-timed day moves its departures a little; the leg is not bought again for that)."""
        missing: list[tuple[Pair, int, LegQuery]] = []
        for pair, date, minute in legs:
            stamp = date.toordinal() * 1440 + minute
            near = [
                fetched
                for fetched in self.fetched.get(pair, [])
                if self.mode is not TravelMode.TRANSIT or abs(fetched - stamp) <= REUSE_MINUTES
            ]
            if near:
                self.current[pair] = self.known[(pair, min(near, key=lambda fetched: abs(fetched - stamp)))]
            else:
                missing.append((pair, stamp, self.query(pair, date, minute)))
        if missing:
            answers = self.maps.route_legs([query for _, _, query in missing], self.mode, usage=self.usage)
            for (pair, stamp, _), travel in zip(missing, answers, strict=True):
                if travel.status == "ERROR":  # not "no route": Maps could not tell; the plan cannot be verified
                    raise MapsUnavailable(f"Maps could not compute the leg {pair[0]} -> {pair[1]}")
                value = (travel.duration_s, travel.distance_m) if travel.reachable else (None, None)
                self.known[(pair, stamp)] = value
                self.fetched.setdefault(pair, []).append(stamp)
                self.current[pair] = value
        return not missing

    def overlay(self, matrix: TravelMatrix, *, only_real: bool = False) -> TravelMatrix:
        """``matrix`` with the current real legs written in (``only_real``: every other cell ``None``)."""
        size = len(matrix.node_ids)
        if only_real:
            seconds: list[list[int | None]] = [[0 if i == j else None for j in range(size)] for i in range(size)]
            metres: list[list[int | None]] = [[0 if i == j else None for j in range(size)] for i in range(size)]
        else:
            seconds = [list(row) for row in matrix.seconds]
            metres = [list(row) for row in matrix.metres]
        position = matrix.position()
        for (origin, destination), (duration, distance) in self.current.items():
            if origin in position and destination in position and origin != destination:
                seconds[position[origin]][position[destination]] = duration
                metres[position[origin]][position[destination]] = distance
        return matrix.model_copy(update={"seconds": seconds, "metres": metres})


def plan_on_real_legs(
    estimated: TripProblem,
    maps: MapsService,
    nodes: list[Waypoint],
    *,
    mode: str,
    fallback_mode: str | None,
    time_zone: str,
    usage: MapsUsage,
) -> VerifiedPlan:
    """Plan ``estimated`` (matrices of estimates over ``nodes``), then verify and repair it on real legs."""
    try:
        zone: dt.tzinfo = zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = dt.UTC
    by_id = {node.id: node for node in nodes}
    main = _RealLegs(maps, mode, by_id, zone, usage)
    fallback = _RealLegs(maps, fallback_mode, by_id, zone, usage) if fallback_mode else None
    verified = VerifiedPlan(problem=estimated, itinerary=schedule_trip(estimated))

    def on_real(only_real: bool = False) -> TripProblem:
        update: dict[str, TravelMatrix] = {"matrix": main.overlay(estimated.matrix, only_real=only_real)}
        if fallback is not None and estimated.fallback_matrix is not None:
            update["fallback_matrix"] = fallback.overlay(estimated.fallback_matrix, only_real=only_real)
        return estimated.model_copy(update=update)

    itinerary = verified.itinerary
    for round_index in range(MAX_REPAIR_ROUNDS + 1):
        verified.rounds = round_index + 1
        legs = used_legs(estimated, itinerary)
        stable = main.ensure(legs)
        if fallback is not None:
            stable = fallback.ensure(legs) and stable
        retimed, failed = retime(on_real(), itinerary)
        if not failed and stable:
            itinerary = retimed
            break
        if not failed:
            itinerary = retimed  # times moved: a transit leg may now leave in another band; check once more
            continue
        if round_index == MAX_REPAIR_ROUNDS:
            itinerary = retimed
            verified.emptied_days = failed
            break
        current = on_real()
        for day_index in failed:
            verified.repaired_days.add(day_index)
            trimmed = trim_day(current, itinerary, day_index)
            itinerary = trimmed or replan_day(current, itinerary, day_index, force_greedy=True)
    # The final plan's legs are all fetched; the validator sees them and nothing else.
    legs = used_legs(estimated, itinerary)
    main.ensure(legs)
    if fallback is not None:
        fallback.ensure(legs)
    final, failed = retime(on_real(only_real=True), itinerary)
    verified.emptied_days = sorted(set(verified.emptied_days) | set(failed))
    verified.problem = on_real(only_real=True)
    verified.itinerary = final
    verified.legs_checked = len(legs)
    return verified
