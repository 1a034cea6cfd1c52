"""Planning estimates derived from Places data alone (types, price level), so they work against real Google too.

Places has no field for visit duration or ticket price; these are our rules of thumb, kept in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Category = Literal[
    "attraction",
    "museum",
    "park",
    "viewpoint",
    "market",
    "religious_site",
    "neighbourhood",
    "restaurant",
    "cafe",
    "bar",
    "hotel",
    "locality",
    "other",
]

# Most specific first: the first type (primary type, then the others in order) found here decides.
_TYPE_CATEGORY: dict[str, Category] = {
    "locality": "locality",
    "administrative_area_level_1": "locality",
    "country": "locality",
    "museum": "museum",
    "art_gallery": "museum",
    "history_museum": "museum",
    "art_museum": "museum",
    "observation_deck": "viewpoint",
    "scenic_spot": "viewpoint",
    "park": "park",
    "garden": "park",
    "botanical_garden": "park",
    "national_park": "park",
    "zoo": "attraction",
    "aquarium": "attraction",
    "amusement_park": "attraction",
    "market": "market",
    "farmers_market": "market",
    "church": "religious_site",
    "hindu_temple": "religious_site",
    "buddhist_temple": "religious_site",
    "mosque": "religious_site",
    "synagogue": "religious_site",
    "shinto_shrine": "religious_site",
    "place_of_worship": "religious_site",
    "neighborhood": "neighbourhood",
    "sublocality": "neighbourhood",
    "cafe": "cafe",
    "coffee_shop": "cafe",
    "tea_house": "cafe",
    "bakery": "cafe",
    "bar": "bar",
    "pub": "bar",
    "wine_bar": "bar",
    "night_club": "bar",
    "hotel": "hotel",
    "lodging": "hotel",
    "hostel": "hotel",
    "tourist_attraction": "attraction",
    "historical_landmark": "attraction",
    "plaza": "attraction",
    "monument": "attraction",
}

_VISIT_MINUTES: dict[Category, int] = {
    "attraction": 60,
    "museum": 120,
    "park": 60,
    "viewpoint": 40,
    "market": 60,
    "religious_site": 45,
    "neighbourhood": 90,
    "restaurant": 90,
    "cafe": 40,
    "bar": 75,
    "hotel": 0,
    "locality": 0,
    "other": 45,
}

# Typical spend per person in USD by price level 0..4 (None: unknown level).
_COST_USD: dict[Category, tuple[float, float, float, float, float]] = {
    "restaurant": (0.0, 12.0, 30.0, 65.0, 140.0),
    "cafe": (0.0, 6.0, 12.0, 20.0, 35.0),
    "bar": (0.0, 10.0, 22.0, 40.0, 70.0),
    "hotel": (0.0, 60.0, 130.0, 260.0, 500.0),
    "museum": (0.0, 10.0, 20.0, 35.0, 50.0),
    "attraction": (0.0, 10.0, 25.0, 45.0, 80.0),
}
_DEFAULT_COST_USD: dict[Category, float] = {
    "restaurant": 30.0,
    "cafe": 10.0,
    "bar": 20.0,
    "hotel": 130.0,
    "museum": 15.0,
}


@dataclass(frozen=True)
class CostEstimate:
    amount: float
    currency: str


def category_for_types(primary_type: str | None, types: Iterable[str]) -> Category:
    ordered = [primary_type, *types] if primary_type else list(types)
    for kind in ordered:
        if kind in _TYPE_CATEGORY:
            return _TYPE_CATEGORY[kind]
        if kind.endswith("_restaurant") or kind in ("restaurant", "food_court", "meal_takeaway"):
            return "restaurant"
    return "other"


def visit_minutes(category: Category) -> int:
    return _VISIT_MINUTES[category]


def cost_estimate_usd(category: Category, price_level: int | None) -> CostEstimate:
    """Typical spend per person in USD; free-to-enter categories cost 0 unless a price level says otherwise."""
    if price_level is not None and category in _COST_USD:
        return CostEstimate(amount=_COST_USD[category][price_level], currency="USD")
    return CostEstimate(amount=_DEFAULT_COST_USD.get(category, 0.0), currency="USD")
