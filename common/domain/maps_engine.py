"""Maps data as the itinerary engine's input: the one adapter planning and enrichment share.

The engine (``common.domain.itinerary``) knows nothing of Google Maps; this module turns a Maps ``Place`` into the
engine's candidate and a Maps travel matrix into the engine's square matrix, and says how a place is described when
nothing better is known.
"""

from __future__ import annotations

import itertools

from common.domain.itinerary import LatLng as EngineLatLng
from common.domain.itinerary import MealKind
from common.domain.itinerary import OpeningPeriod as EngineOpeningPeriod
from common.domain.itinerary import OpeningTime as EngineOpeningTime
from common.domain.itinerary import Place as EnginePlace
from common.domain.itinerary import TravelMatrix as EngineMatrix
from common.domain.itinerary import TravelMode as EngineMode
from common.domain.maps import MapsService, MapsUsage, Place, TravelMode, Waypoint
from common.domain.maps.legs import LegQuery
from common.domain.maps.travel_estimate import Calibration, calibrate, estimate, haversine_m
from common.foundation import currency

MAX_DESCRIPTION = 400
MEAL_CATEGORIES = {"restaurant": [MealKind.LUNCH, MealKind.DINNER], "cafe": [MealKind.LUNCH]}
ENGINE_MODES = {"walk": EngineMode.WALK, "transit": EngineMode.TRANSIT, "drive": EngineMode.DRIVE}
MAPS_MODES = {"walk": TravelMode.WALK, "transit": TravelMode.TRANSIT, "drive": TravelMode.DRIVE}


def engine_place(place: Place, priority: float, budget_currency: str) -> EnginePlace:
    """A Maps place as the engine's candidate: estimated visit time and cost, hours in Google's period shape."""
    cost = place.estimated_cost_per_person
    periods = None
    if place.opening_hours is not None and place.opening_hours.periods:
        periods = [
            EngineOpeningPeriod(
                open=EngineOpeningTime(day=period.open.day, hour=period.open.hour, minute=period.open.minute),
                close=None
                if period.close is None
                else EngineOpeningTime(day=period.close.day, hour=period.close.hour, minute=period.close.minute),
            )
            for period in place.opening_hours.periods
        ]
    return EnginePlace(
        id=place.id,
        name=place.name[:120],
        location=EngineLatLng(lat=place.location.latitude, lng=place.location.longitude),
        category=place.category,
        priority=priority,
        visit_minutes=max(15, place.visit_minutes),
        opening_periods=periods,
        cost_per_person=currency.convert(cost.amount, cost.currency, budget_currency)
        if currency.supported(cost.currency)
        else 0.0,
        meal_kinds=MEAL_CATEGORIES.get(place.category, []),
        outdoor=place.exposure == "outdoor",
    )


def engine_day_matrix(
    maps: MapsService, nodes: list[Waypoint], order: list[str], mode: str, usage: MapsUsage
) -> EngineMatrix:
    """The engine's square matrix over ``nodes`` holding only the legs of one day travelled in ``order`` (node ids,
    the day's start first and its end last), fetched with ``route_legs``; every other cell ``None``.

    What a day's re-timing and validation read (consecutive legs only), for a fraction of a full matrix.
    """
    ids = [node.id for node in nodes]
    by_id = {node.id: node for node in nodes}
    pairs = list(dict.fromkeys((a, b) for a, b in itertools.pairwise(order) if a != b))
    legs = maps.route_legs(
        [LegQuery(origin=by_id[a], destination=by_id[b]) for a, b in pairs], MAPS_MODES[mode], usage=usage
    )
    position = {node_id: index for index, node_id in enumerate(ids)}
    seconds: list[list[int | None]] = [[0 if i == j else None for j in range(len(ids))] for i in range(len(ids))]
    metres: list[list[int | None]] = [[0 if i == j else None for j in range(len(ids))] for i in range(len(ids))]
    for (origin, target), leg in zip(pairs, legs, strict=True):
        if leg.reachable:
            seconds[position[origin]][position[target]] = leg.duration_s
            metres[position[origin]][position[target]] = leg.distance_m
    return EngineMatrix(mode=ENGINE_MODES[mode], node_ids=ids, seconds=seconds, metres=metres)


def estimated_matrix(
    maps: MapsService, nodes: list[Waypoint], mode: str, *, near: Waypoint | None = None
) -> tuple[EngineMatrix, Calibration]:
    """The engine's square matrix over ``nodes`` from straight-line estimates: no Maps call.

    Estimates are calibrated on the real legs cached for the area of ``near`` (default: the first node). Cached
    legs are not written in one by one: the solver's input would then change with every plan of the city, and a
    repeated plan would no longer find its legs cached (see ``travel_estimate``).
    """
    maps_mode = MAPS_MODES[mode]
    anchor = near or nodes[0]
    cached = maps.cached_legs(maps_mode, anchor) if nodes else {}
    calibration = calibrate(maps_mode, cached.values())
    ids = [node.id for node in nodes]
    seconds: list[list[int | None]] = []
    metres: list[list[int | None]] = []
    for origin in nodes:
        row_seconds: list[int | None] = []
        row_metres: list[int | None] = []
        for target in nodes:
            if origin.id == target.id:
                row_seconds.append(0)
                row_metres.append(0)
                continue
            straight = haversine_m(
                origin.location.latitude, origin.location.longitude, target.location.latitude, target.location.longitude
            )
            found = estimate(maps_mode, straight, calibration)
            row_seconds.append(None if found is None else found.seconds)
            row_metres.append(None if found is None else found.metres)
        seconds.append(row_seconds)
        metres.append(row_metres)
    return EngineMatrix(mode=ENGINE_MODES[mode], node_ids=ids, seconds=seconds, metres=metres), calibration


def fallback_description(place: Place) -> str:
    """A plain description from Maps data: "Museum, rated 4.6." and the editorial summary, bounded."""
    parts = [place.category.replace("_", " ").capitalize()]
    if place.rating is not None:
        parts.append(f"rated {place.rating:.1f}")
    text = ", ".join(parts) + "."
    if place.editorial_summary:
        text += " " + place.editorial_summary
    return text[:MAX_DESCRIPTION]
