"""Which places are open-air and which are sheltered: the one home of the outdoor/indoor classification.

Weather-aware planning (issue 16) schedules outdoor places on the drier days and favours indoor ones on rainy days.
Google's place types decide, most specific first (the primary type, then the others in order): a park, garden,
viewpoint, beach, open-air market or a neighbourhood walk is outdoor; a museum, gallery, aquarium, theatre, mall or
a covered market (one with a food court, or a store) is indoor. Temples, churches and generic landmarks are
``either``: weather neither pushes nor pulls them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

Exposure = Literal["outdoor", "indoor", "either"]

OUTDOOR_TYPES = frozenset(
    {
        "park",
        "garden",
        "botanical_garden",
        "national_park",
        "state_park",
        "hiking_area",
        "beach",
        "scenic_spot",
        "observation_deck",
        "plaza",
        "zoo",
        "amusement_park",
        "farmers_market",
        "neighborhood",
        "sublocality",
        "campground",
        "marina",
        "vineyard",
    }
)
INDOOR_TYPES = frozenset(
    {
        "museum",
        "art_gallery",
        "art_museum",
        "history_museum",
        "aquarium",
        "performing_arts_theater",
        "movie_theater",
        "shopping_mall",
        "food_court",
        "department_store",
        "library",
        "bowling_alley",
        "spa",
    }
)
SHELTERING_TYPES = frozenset({"food_court", "store", "shopping_mall", "department_store"})
"""A market with any of these types is covered."""


def exposure_for_types(primary_type: str | None, types: Iterable[str]) -> Exposure:
    """``outdoor``, ``indoor`` or ``either`` for a place with these Google place types (see the module notes)."""
    ordered = [primary_type, *types] if primary_type else list(types)
    if "market" in ordered:
        return "indoor" if SHELTERING_TYPES.intersection(ordered) else "outdoor"
    for place_type in ordered:
        if place_type in INDOOR_TYPES:
            return "indoor"
        if place_type in OUTDOOR_TYPES:
            return "outdoor"
    return "either"
