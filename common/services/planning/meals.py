"""Places to eat near every part of the trip: the engine picks lunch and dinner near each day's route, so every area
with sights needs a few meal venues among the candidates.

A sight with no meal venue candidate within ``COVER_KM`` gets the nearest suitable place to eat already seen in this
planning's searches (no Maps call). Sights still uncovered are grouped; a group of two or more (an area) gets one
restaurant search biased to its centre (one search per need, never per day), at most ``MAX_AREA_SEARCHES`` a plan.
On the stand-in the city search already returns every catalogue restaurant, so only the first step adds anything
there (bench/REPORT.md); on Google a city search returns 20 of thousands, which is what the area search is for. At most
``MAX_ADDED_VENUES`` venues are added in all: each one adds a row and a column to the travel matrix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.domain.itinerary.clusters import Point, centre, distance_km
from common.domain.maps import LatLng, Place, PlaceSearch
from common.domain.maps_engine import MEAL_CATEGORIES
from common.foundation.log import get_logger

if TYPE_CHECKING:
    from common.services.planning.service import PlanningRun
    from common.services.planning.toolbox import MapsToolBox

logger = get_logger(__name__)

COVER_KM = 1.2
AREA_SEARCH_RADIUS_M = 1_500.0
MAX_AREA_SEARCHES = 1
MAX_ADDED_VENUES = 4
SEARCH_RESULTS = 10


def _point(place: Place) -> Point:
    return (place.location.latitude, place.location.longitude)


def _suitable(run: PlanningRun, place: Place, excluded: frozenset[str]) -> bool:
    if place.category not in MEAL_CATEGORIES or place.id in excluded:
        return False
    if run.vegetarian and place.serves_vegetarian_food is False:
        return False
    return not (run.step_free and place.wheelchair_accessible is False)


def cover_meal_areas(
    run: PlanningRun, tools: MapsToolBox, candidates: list[Place], excluded: frozenset[str] = frozenset()
) -> list[Place]:
    """``candidates`` plus places to eat near the sights that have none (see the module notes)."""
    chosen = {place.id for place in candidates}
    venues = [place for place in candidates if place.category in MEAL_CATEGORIES]
    sights = [place for place in candidates if place.category not in MEAL_CATEGORIES]
    added: list[Place] = []

    def uncovered() -> list[Place]:
        points = [_point(venue) for venue in venues + added]
        return [sight for sight in sights if all(distance_km(_point(sight), point) > COVER_KM for point in points)]

    def take_nearest(pool: list[Place], sight: Place) -> bool:
        near = [
            place for place in pool if place.id not in chosen and distance_km(_point(place), _point(sight)) <= COVER_KM
        ]
        if not near:
            return False
        best = min(near, key=lambda place: (distance_km(_point(place), _point(sight)), place.id))
        added.append(best)
        chosen.add(best.id)
        return True

    seen = [place for place in tools.seen.values() if _suitable(run, place, excluded)]
    for sight in uncovered():
        if len(added) >= MAX_ADDED_VENUES:
            break
        if sight in uncovered():
            take_nearest(seen, sight)

    searches = 0
    while searches < MAX_AREA_SEARCHES and len(added) < MAX_ADDED_VENUES:
        left = uncovered()
        if not left:
            break
        # One search for the group of uncovered sights around the first one left, when it is an area (2+ sights).
        group = [sight for sight in left if distance_km(_point(sight), _point(left[0])) <= 2 * COVER_KM]
        if len(group) < 2:
            sights = [sight for sight in sights if sight not in group]
            continue
        middle = centre([_point(sight) for sight in group])
        searches += 1
        found = tools.maps.search_places(
            PlaceSearch(
                text="restaurants",
                near=LatLng(latitude=middle[0], longitude=middle[1]),
                radius_m=AREA_SEARCH_RADIUS_M,
                included_type="restaurant",
                language_code=tools.language,
                page_size=SEARCH_RESULTS,
            ),
            usage=run.maps_usage,
        )
        tools.remember(found)
        pool = [place for place in found if _suitable(run, place, excluded)]
        took = False
        for sight in group:
            if len(added) < MAX_ADDED_VENUES and sight in uncovered():
                took = take_nearest(pool, sight) or took
        if not took:
            sights = [sight for sight in sights if sight not in group]  # nothing to eat near them: stop asking
    if added:
        logger.info(
            "added %d places to eat near sights that had none (%d area searches)",
            len(added),
            searches,
            extra={"fields": {"trip_id": run.trip_id}},
        )
    return candidates + added
