"""The tools a planner (Gemini or offline) may call, backed by the Maps layer.

Every answer is a compact, bounded dict of Maps data: data for the model to read, never instructions. Places seen
through the tools are remembered so resolving the model's choices afterwards costs no further calls.
"""

from __future__ import annotations

import threading
from typing import Any

from common.domain.maps import Destination, MapsService, MapsUsage, Place, PlaceSearch, TravelMode
from common.foundation.errors import InvalidRequest

MAX_NAME = 120
MAX_SUMMARY = 300
MAX_ADDRESS = 160
MAX_RESULTS = 20  # a Text Search page holds at most 20 places and bills per request, whatever the page size
MAX_QUERY = 100

CATEGORY_TYPES: dict[str, str] = {
    "museum": "museum",
    "park": "park",
    "restaurant": "restaurant",
    "cafe": "cafe",
    "bar": "bar",
    "market": "market",
    "viewpoint": "observation_deck",
    "hotel": "lodging",
}
MODES = {"walk": TravelMode.WALK, "transit": TravelMode.TRANSIT, "drive": TravelMode.DRIVE}


def _bounded(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def place_summary(place: Place) -> dict[str, Any]:
    """What a planner needs to choose a place, bounded."""
    return {
        "place_id": place.id,
        "name": _bounded(place.name, MAX_NAME),
        "category": place.category,
        "rating": place.rating,
        "user_rating_count": place.user_rating_count,
        "price_level": place.price_level,
        "summary": _bounded(place.editorial_summary, MAX_SUMMARY),
        "address": _bounded(place.formatted_address, MAX_ADDRESS),
        "vegetarian_friendly": place.serves_vegetarian_food,
        "wheelchair_accessible": place.wheelchair_accessible,
    }


class MapsToolBox:
    """Tools over ``MapsService`` for one planning: searches are biased to the destination and counted."""

    def __init__(
        self,
        maps: MapsService,
        destination: Destination,
        *,
        language: str,
        radius_m: float,
        usage: MapsUsage,
    ) -> None:
        self.maps = maps
        self.destination = destination
        self.language = language
        self.radius_m = radius_m
        self.usage = usage
        self._seen: dict[str, Place] = {}
        self._lock = threading.Lock()

    @property
    def seen(self) -> dict[str, Place]:
        with self._lock:
            return dict(self._seen)

    def remember(self, places: list[Place] | tuple[Place, ...]) -> None:
        with self._lock:
            for place in places:
                self._seen.setdefault(place.id, place)

    def find(self, query: str, *, category: str | None = None, max_results: int = MAX_RESULTS) -> list[Place]:
        """Places matching ``query`` near the destination (typed results, remembered)."""
        text = " ".join(query.split())[:MAX_QUERY]
        if not text:
            raise InvalidRequest("a search needs some text")
        search = PlaceSearch(
            text=text,
            near=self.destination.location,
            radius_m=self.radius_m,
            included_type=CATEGORY_TYPES.get(category or ""),
            language_code=self.language,
            page_size=max(1, min(MAX_RESULTS, max_results)),
        )
        places = list(self.maps.search_places(search, usage=self.usage))
        self.remember(places)
        return places

    # The three tools a planner may call.

    def search_places(self, query: str, category: str | None = None, max_results: int = 10) -> list[dict[str, Any]]:
        return [place_summary(place) for place in self.find(query, category=category, max_results=max_results)]

    def place_details(self, place_id: str) -> dict[str, Any]:
        place = self.maps.get_place(place_id, language_code=self.language, usage=self.usage)
        self.remember([place])
        details = place_summary(place)
        details["website"] = _bounded(place.website_uri, 200)
        hours = place.opening_hours.weekday_descriptions if place.opening_hours else ()
        details["opening_hours_text"] = [_bounded(line, 80) for line in hours[:7]]
        return details

    def travel_time(self, origin_place_id: str, destination_place_id: str, mode: str) -> dict[str, Any]:
        travel_mode = MODES.get(mode.lower())
        if travel_mode is None:
            raise InvalidRequest("mode must be walk, transit or drive")
        places = self.maps.get_places(
            [origin_place_id, destination_place_id], language_code=self.language, usage=self.usage
        )
        self.remember(list(places.values()))
        route = self.maps.route(places[origin_place_id], places[destination_place_id], travel_mode, usage=self.usage)
        if route is None:
            return {"unreachable": True}
        return {"duration_min": round(route.duration_s / 60), "distance_m": route.distance_m}
