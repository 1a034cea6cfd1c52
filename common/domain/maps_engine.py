"""Maps data as the itinerary engine's input: the one adapter planning and enrichment share.

The engine (``common.domain.itinerary``) knows nothing of Google Maps; this module turns a Maps ``Place`` into the
engine's candidate and a Maps travel matrix into the engine's square matrix, and says how a place is described when
nothing better is known.
"""

from __future__ import annotations

from common.domain.itinerary import LatLng as EngineLatLng
from common.domain.itinerary import MealKind
from common.domain.itinerary import OpeningPeriod as EngineOpeningPeriod
from common.domain.itinerary import OpeningTime as EngineOpeningTime
from common.domain.itinerary import Place as EnginePlace
from common.domain.itinerary import TravelMatrix as EngineMatrix
from common.domain.itinerary import TravelMode as EngineMode
from common.domain.maps import MapsService, MapsUsage, Place, TravelMode, Waypoint
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
    )


def engine_matrix(maps: MapsService, nodes: list[Waypoint], mode: str, usage: MapsUsage) -> EngineMatrix:
    """The Maps travel matrix over ``nodes`` as the engine's square matrix (``None`` where there is no route)."""
    matrix = maps.travel_matrix(nodes, nodes, MAPS_MODES[mode], usage=usage)
    ids = [node.id for node in nodes]
    seconds: list[list[int | None]] = []
    metres: list[list[int | None]] = []
    for origin in ids:
        seconds.append([0 if origin == target else matrix.seconds(origin, target) for target in ids])
        metres.append([0 if origin == target else matrix.metres(origin, target) for target in ids])
    return EngineMatrix(mode=ENGINE_MODES[mode], node_ids=ids, seconds=seconds, metres=metres)


def fallback_description(place: Place) -> str:
    """A plain description from Maps data: "Museum, rated 4.6." and the editorial summary, bounded."""
    parts = [place.category.replace("_", " ").capitalize()]
    if place.rating is not None:
        parts.append(f"rated {place.rating:.1f}")
    text = ", ".join(parts) + "."
    if place.editorial_summary:
        text += " " + place.editorial_summary
    return text[:MAX_DESCRIPTION]
