"""An in-process ToolBox over a small catalogue, recording every call (shared by unit and integration tests)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from common.domain.ai.models import TripBrief
from common.foundation.errors import NotFound, RetryableError


@dataclass(frozen=True)
class CatalogueEntry:
    place_id: str
    name: str
    category: str
    rating: float | None
    user_rating_count: int | None
    tags: tuple[str, ...]
    summary: str = ""
    serves_vegetarian_food: bool | None = None

    def as_result(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "place_id": self.place_id,
            "name": self.name,
            "category": self.category,
            "rating": self.rating,
            "user_rating_count": self.user_rating_count,
            "price_level": 2,
            "summary": self.summary,
            "address": f"{self.name} street 1",
        }
        if self.serves_vegetarian_food is not None:
            result["serves_vegetarian_food"] = self.serves_vegetarian_food
        return result


def _entries() -> list[CatalogueEntry]:
    return [
        CatalogueEntry("museum_louvre", "Louvre Museum", "museum", 4.7, 300000, ("museum", "museums", "art", "sights")),
        CatalogueEntry("museum_orsay", "Musée d'Orsay", "museum", 4.8, 120000, ("museum", "museums", "art")),
        CatalogueEntry("museum_rodin", "Musée Rodin", "museum", 4.6, 30000, ("museum", "museums", "art", "garden")),
        CatalogueEntry("museum_pompidou", "Centre Pompidou", "art_gallery", 4.4, 80000, ("museums", "art")),
        CatalogueEntry("museum_wax", "Grévin Wax Museum", "museum", 4.1, 40000, ("museum", "museums")),
        CatalogueEntry("sight_eiffel", "Eiffel Tower", "tourist_attraction", 4.7, 400000, ("sights", "top", "tower")),
        CatalogueEntry("sight_arc", "Arc de Triomphe", "tourist_attraction", 4.7, 200000, ("sights", "top")),
        CatalogueEntry("sight_notre", "Notre-Dame", "church", 4.7, 150000, ("sights", "top", "church")),
        CatalogueEntry("sight_sacre", "Sacré-Cœur", "church", 4.8, 160000, ("sights", "top", "church")),
        CatalogueEntry("sight_opera", "Palais Garnier", "tourist_attraction", 4.8, 90000, ("sights", "top", "opera")),
        CatalogueEntry("park_luxembourg", "Jardin du Luxembourg", "park", 4.7, 100000, ("parks", "park", "garden")),
        CatalogueEntry("park_tuileries", "Jardin des Tuileries", "park", 4.6, 60000, ("parks", "park", "garden")),
        CatalogueEntry("park_buttes", "Parc des Buttes-Chaumont", "park", 4.7, 40000, ("parks", "park")),
        CatalogueEntry("park_vincennes", "Bois de Vincennes", "park", 4.5, 30000, ("parks", "park")),
        CatalogueEntry("park_unrated", "Square du Temple", "park", None, None, ("parks", "park")),
        CatalogueEntry("night_club", "Rex Club", "night_club", 4.0, 5000, ("nightlife", "sights", "top")),
        CatalogueEntry("food_bistro", "Le Bistrot", "restaurant", 4.5, 3000, ("restaurants", "food")),
        CatalogueEntry("food_brasserie", "Brasserie Lipp", "restaurant", 4.2, 5000, ("restaurants", "food")),
        CatalogueEntry("food_cafe", "Café de Flore", "cafe", 4.1, 12000, ("restaurants", "food", "cafe")),
        CatalogueEntry(
            "food_steak",
            "Le Relais de l'Entrecôte",
            "restaurant",
            4.4,
            15000,
            ("restaurants", "food"),
            serves_vegetarian_food=False,
        ),
        CatalogueEntry(
            "food_veg",
            "Le Potager du Marais",
            "vegetarian_restaurant",
            4.3,
            2000,
            ("restaurants", "vegetarian", "food"),
            serves_vegetarian_food=True,
        ),
        CatalogueEntry(
            "food_green",
            "Wild & the Moon",
            "restaurant",
            4.0,
            1500,
            ("restaurants", "vegetarian", "food"),
            serves_vegetarian_food=True,
        ),
        CatalogueEntry("food_bakery", "Du Pain et des Idées", "bakery", 4.6, 6000, ("restaurants", "food")),
        CatalogueEntry("food_market", "Marché des Enfants Rouges", "food_market", 4.4, 9000, ("restaurants", "food")),
    ]


@dataclass
class FakeToolBox:
    """Matches a query when one of its words is a tag of the entry; ranks by the catalogue's order."""

    entries: list[CatalogueEntry] = field(default_factory=_entries)
    unavailable: bool = False
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def search_places(self, query: str, category: str | None = None, max_results: int = 10) -> list[dict[str, Any]]:
        self.calls.append(("search_places", (query, category, max_results)))
        if self.unavailable:
            raise RetryableError("maps down")
        words = {word.strip(".,").casefold() for word in query.split()}
        text = query.casefold()
        found = [entry for entry in self.entries if words & set(entry.tags) or entry.name.casefold() in text]
        if category:
            found = [entry for entry in found if entry.category == category]
        return [entry.as_result() for entry in found[:max_results]]

    def place_details(self, place_id: str) -> dict[str, Any]:
        self.calls.append(("place_details", (place_id,)))
        if self.unavailable:
            raise RetryableError("maps down")
        for entry in self.entries:
            if entry.place_id == place_id:
                return {**entry.as_result(), "opening_hours_text": ["Monday: 9:00 – 18:00"], "website": None}
        raise NotFound(f"no place {place_id}")

    def travel_time(self, origin_place_id: str, destination_place_id: str, mode: str) -> dict[str, Any]:
        self.calls.append(("travel_time", (origin_place_id, destination_place_id, mode)))
        if self.unavailable:
            raise RetryableError("maps down")
        return {"duration_min": 12, "distance_m": 900}

    def tool_names(self) -> list[str]:
        return [name for name, _ in self.calls]


def make_brief(**overrides: Any) -> TripBrief:
    values: dict[str, Any] = {
        "destination": "Paris",
        "destination_place_id": "city_paris",
        "country": "FR",
        "time_zone": "Europe/Paris",
        "start_date": dt.date(2026, 5, 1),
        "end_date": dt.date(2026, 5, 2),
        "travelers": 2,
        "pace": "moderate",
        "transport": "walk",
        "interests": ["museums", "parks"],
        "must_include": [],
        "avoid": [],
        "dietary": [],
        "accessibility": [],
        "budget_amount": None,
        "budget_currency": None,
        "language": "en",
        "lodging": None,
    }
    values.update(overrides)
    return TripBrief(**values)
