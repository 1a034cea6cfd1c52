"""Load and check the Maps stand-in catalogue (``catalogue/<city>.json``, described in ``catalogue/FORMAT.md``).

Run ``python -m scripts.maps_standin.loader [DIR]`` to print every problem of a catalogue directory.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.maps_standin.travel_model import haversine_m

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CATEGORIES = (
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
)
CATEGORY_MINIMUMS: dict[str, int] = {
    "attraction": 4,
    "museum": 4,
    "park": 3,
    "viewpoint": 2,
    "market": 2,
    "religious_site": 3,
    "neighbourhood": 3,
    "restaurant": 10,
    "cafe": 3,
    "bar": 2,
    "hotel": 3,
}
EXPECTED_CITIES = (
    "paris",
    "rome",
    "barcelona",
    "london",
    "kyoto",
    "tokyo",
    "new-york",
    "san-francisco",
    "mexico-city",
    "istanbul",
    "bangkok",
    "sydney",
)
# Categories of sights (as opposed to places to eat, drink or sleep): each needs an English name.
LANDMARK_CATEGORIES = frozenset(
    ["attraction", "museum", "park", "viewpoint", "market", "religious_site", "neighbourhood"]
)
ENGLISH = "en"
MIN_PLACES_PER_CITY = 40
MAX_DISTANCE_FROM_CENTRE_M = 30_000.0
MAX_SUMMARY_CHARS = 200
DEFAULT_CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"

_ID_PATTERN = re.compile(r"^[a-z0-9-]+$")
_INTERVAL_PATTERN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$")
_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
# A BCP 47 language tag as Google uses them: "en", "it", "zh-Hant", "pt-BR".
_LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True)
class LatLng:
    lat: float
    lng: float


def base_language(language: str) -> str:
    """``"en-GB"`` -> ``"en"``; the primary subtag, lowercased."""
    return language.split("-", 1)[0].lower()


@dataclass(frozen=True)
class Names:
    """The names of a place (or city) per language, and which of them is its own name (``name`` in the file)."""

    by_language: dict[str, str]
    own_language: str

    @property
    def own(self) -> str:
        return self.by_language[self.own_language]

    def every(self) -> tuple[str, ...]:
        """Each distinct name once, in catalogue order."""
        return tuple(dict.fromkeys(self.by_language.values()))

    def language_for(self, requested: str | None) -> str:
        """The language to answer ``requested`` in: that language (``en-GB`` also takes ``en``), else English
        (Google's preference when it has nothing in the asked language), else the language of the own name."""
        for wanted in (requested, ENGLISH):
            found = self._tag_for(wanted) if wanted else None
            if found is not None:
                return found
        return self.own_language

    def _tag_for(self, wanted: str) -> str | None:
        """The catalogue's tag for ``wanted``: the same tag (any case), its base language, or a sibling region."""
        by_lower = {tag.lower(): tag for tag in self.by_language}
        for key in (wanted.lower(), base_language(wanted)):
            if key in by_lower:
                return by_lower[key]
        return next((tag for tag in self.by_language if base_language(tag) == base_language(wanted)), None)

    def in_language(self, requested: str | None) -> tuple[str, str]:
        """``(text, language code)`` of the name to show to someone asking in ``requested``."""
        language = self.language_for(requested)
        return self.by_language[language], language

    def has(self, language: str) -> bool:
        """Whether there is a name in ``language`` or in a regional form of it (``en`` also counts ``en-GB``)."""
        return any(base_language(tag) == base_language(language) for tag in self.by_language)


@dataclass(frozen=True)
class City:
    id: str
    name: str
    language: str
    names: Names
    country_code: str
    aliases: tuple[str, ...]
    center: LatLng
    viewport_low: LatLng
    viewport_high: LatLng
    time_zone: str
    currency: str
    address: str


@dataclass(frozen=True)
class CataloguePlace:
    """One catalogue entry, as written in the JSON file (``hours`` kept raw; see ``parse_intervals``)."""

    id: str
    city_id: str
    name: str
    names: Names
    category: str
    types: tuple[str, ...]
    location: LatLng
    address: str
    rating: float | None
    user_rating_count: int | None
    price_level: int | None
    hours: dict[str, Any] | str
    visit_minutes: int | None
    entry_price: float | None
    meal_price: float | None
    summary: str | None
    website: str | None
    wheelchair_accessible: bool | None
    cuisine: str | None
    vegetarian_friendly: bool | None


@dataclass
class Catalogue:
    cities: dict[str, City] = field(default_factory=dict)
    places: dict[str, CataloguePlace] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def places_of(self, city_id: str) -> list[CataloguePlace]:
        return [place for place in self.places.values() if place.city_id == city_id]


class CatalogueError(ValueError):
    """A catalogue file cannot be read at all."""


def _latlng(raw: Any, where: str) -> LatLng:
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("lat"), int | float)
        or not isinstance(raw.get("lng"), int | float)
    ):
        raise CatalogueError(f"{where}: expected {{'lat': number, 'lng': number}}")
    return LatLng(float(raw["lat"]), float(raw["lng"]))


def parse_intervals(day_hours: Any) -> list[tuple[int, int]]:
    """``["09:00-18:00", "18:00-02:00"]`` -> ``[(540, 1080), (1080, 1560)]`` minutes; the close may pass midnight."""
    if not isinstance(day_hours, list):
        raise CatalogueError(f"hours must be a list of 'HH:MM-HH:MM' strings, got {day_hours!r}")
    intervals = []
    for text in day_hours:
        match = _INTERVAL_PATTERN.match(text) if isinstance(text, str) else None
        if not match:
            raise CatalogueError(f"bad interval {text!r}")
        open_min = int(match.group(1)) * 60 + int(match.group(2))
        close_min = int(match.group(3)) * 60 + int(match.group(4))
        if close_min > 24 * 60:
            raise CatalogueError(f"bad interval {text!r}")
        if close_min <= open_min:
            close_min += 24 * 60
        intervals.append((open_min, close_min))
    return intervals


def _names(raw: Any, name: str, own_language: str) -> Names:
    """``names`` of a file entry; without it, the entry has the single name ``name`` in ``own_language``."""
    if raw is None:
        return Names({own_language: name}, own_language)
    if not isinstance(raw, dict) or not raw:
        raise CatalogueError("names must be a non-empty object of language code -> name")
    seen: set[str] = set()
    for language, text in raw.items():
        if not _LANGUAGE_PATTERN.match(language):
            raise CatalogueError(f"names: {language!r} is not a language code such as 'en' or 'zh-Hant'")
        if language.lower() in seen:
            raise CatalogueError(f"names: {language!r} given twice")
        seen.add(language.lower())
        if not isinstance(text, str) or not text.strip():
            raise CatalogueError(f"names.{language} must be a non-empty string")
    language_of_name = next((language for language, text in raw.items() if text == name), None)
    if language_of_name is None:
        raise CatalogueError(f"names must include the name {name!r}, under the language it is written in")
    return Names({str(language): str(text) for language, text in raw.items()}, language_of_name)


def _language(raw: dict[str, Any]) -> str:
    language = raw.get("language", ENGLISH)
    if not isinstance(language, str) or not _LANGUAGE_PATTERN.match(language):
        raise CatalogueError(f"language {language!r} is not a language code such as 'en' or 'zh-Hant'")
    return language


def _city(raw: Any, path: Path) -> City:
    if not isinstance(raw, dict):
        raise CatalogueError(f"{path.name}: 'city' must be an object")
    try:
        viewport = raw["viewport"]
        name = str(raw["name"])
        language = _language(raw)
        return City(
            id=str(raw["id"]),
            name=name,
            language=language,
            names=_names(raw.get("names"), name, language),
            country_code=str(raw["country_code"]),
            aliases=tuple(str(alias) for alias in raw.get("aliases", [])),
            center=_latlng(raw["center"], f"{path.name} city.center"),
            viewport_low=_latlng(viewport["low"], f"{path.name} city.viewport.low"),
            viewport_high=_latlng(viewport["high"], f"{path.name} city.viewport.high"),
            time_zone=str(raw["time_zone"]),
            currency=str(raw["currency"]),
            address=str(raw.get("address") or raw["name"]),
        )
    except (KeyError, TypeError) as exc:
        raise CatalogueError(f"{path.name}: city is missing {exc}") from None
    except CatalogueError as exc:
        raise CatalogueError(f"{path.name}: city: {exc}") from None


def _optional(raw: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) and kind is not bool:
        raise CatalogueError(f"{key} must not be a boolean")
    if not isinstance(value, kind):
        raise CatalogueError(f"{key} has the wrong type: {value!r}")
    return value


def _place(raw: Any, city: City) -> CataloguePlace:
    if not isinstance(raw, dict):
        raise CatalogueError("a place must be an object")
    place_id = raw.get("id")
    if not isinstance(place_id, str):
        raise CatalogueError(f"place without a string id: {raw!r:.80}")
    try:
        rating = _optional(raw, "rating", (int, float))
        name = str(raw["name"])
        return CataloguePlace(
            id=place_id,
            city_id=city.id,
            name=name,
            names=_names(raw.get("names"), name, city.language),
            category=str(raw["category"]),
            types=tuple(str(kind) for kind in raw["types"]),
            location=_latlng(raw["location"], f"{place_id}.location"),
            address=str(raw.get("address") or ""),
            rating=float(rating) if rating is not None else None,
            user_rating_count=_optional(raw, "user_rating_count", int),
            price_level=_optional(raw, "price_level", int),
            hours=raw["hours"],
            visit_minutes=_optional(raw, "visit_minutes", int),
            entry_price=_optional(raw, "entry_price", (int, float)),
            meal_price=_optional(raw, "meal_price", (int, float)),
            summary=_optional(raw, "summary", str),
            website=_optional(raw, "website", str),
            wheelchair_accessible=_optional(raw, "wheelchair_accessible", bool),
            cuisine=_optional(raw, "cuisine", str),
            vegetarian_friendly=_optional(raw, "vegetarian_friendly", bool),
        )
    except KeyError as exc:
        raise CatalogueError(f"{place_id}: missing field {exc}") from None
    except CatalogueError as exc:
        raise CatalogueError(f"{place_id}: {exc}") from None


def load_catalogue(directory: Path | str = DEFAULT_CATALOGUE_DIR) -> Catalogue:
    """Read every ``*.json`` city file of ``directory``; unreadable entries are skipped and listed in ``problems``."""
    catalogue = Catalogue()
    for path in sorted(Path(directory).glob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(document, dict):
                raise CatalogueError(f"{path.name}: top level must be an object")
            city = _city(document.get("city"), path)
        except (OSError, ValueError) as exc:
            catalogue.problems.append(f"{path.name}: {exc}")
            continue
        if city.id in catalogue.cities:
            catalogue.problems.append(f"{path.name}: city id {city.id!r} already defined")
            continue
        if path.stem != city.id:
            catalogue.problems.append(f"{path.name}: file name does not match city id {city.id!r}")
        catalogue.cities[city.id] = city
        raw_places = document.get("places")
        if not isinstance(raw_places, list):
            catalogue.problems.append(f"{path.name}: 'places' must be a list")
            continue
        for raw in raw_places:
            try:
                place = _place(raw, city)
            except CatalogueError as exc:
                catalogue.problems.append(f"{path.name}: {exc}")
                continue
            if place.id in catalogue.places:
                catalogue.problems.append(f"{path.name}: duplicate place id {place.id!r}")
                continue
            catalogue.places[place.id] = place
    return catalogue


def _check_hours(place: CataloguePlace) -> list[str]:
    if place.hours == "24h":
        return []
    if not isinstance(place.hours, dict) or set(place.hours) != set(DAYS):
        return [f"{place.id}: hours must be '24h' or have exactly the keys {', '.join(DAYS)}"]
    problems = []
    for day in DAYS:
        try:
            intervals = parse_intervals(place.hours[day])
        except CatalogueError as exc:
            problems.append(f"{place.id}: hours.{day}: {exc}")
            continue
        ordered = sorted(intervals)
        for (_, first_close), (second_open, _) in itertools.pairwise(ordered):
            if second_open < first_close:
                problems.append(f"{place.id}: hours.{day} has overlapping intervals")
    return problems


def _check_place(place: CataloguePlace, city: City) -> list[str]:
    problems = _check_hours(place)
    if not _ID_PATTERN.match(place.id) or not place.id.startswith(f"{city.id}-"):
        problems.append(f"{place.id}: id must be [a-z0-9-] and start with '{city.id}-'")
    if place.category not in CATEGORIES:
        problems.append(f"{place.id}: unknown category {place.category!r}")
    if not place.types or not all(_TYPE_PATTERN.match(kind) for kind in place.types):
        problems.append(f"{place.id}: types must be non-empty Places type names")
    if not place.name.strip():
        problems.append(f"{place.id}: empty name")
    if place.category in LANDMARK_CATEGORIES and not place.names.has(ENGLISH):
        problems.append(f"{place.id}: a {place.category} needs an English name (names.en)")
    distance = haversine_m(city.center.lat, city.center.lng, place.location.lat, place.location.lng)
    if distance > MAX_DISTANCE_FROM_CENTRE_M:
        problems.append(f"{place.id}: {distance / 1000:.1f} km from the centre of {city.id} (max 30 km)")
    if place.rating is not None and not 1.0 <= place.rating <= 5.0:
        problems.append(f"{place.id}: rating {place.rating} outside 1.0-5.0")
    if place.user_rating_count is not None and place.user_rating_count < 0:
        problems.append(f"{place.id}: negative user_rating_count")
    if place.price_level is not None and not 0 <= place.price_level <= 4:
        problems.append(f"{place.id}: price_level {place.price_level} outside 0-4")
    if place.visit_minutes is not None and not 5 <= place.visit_minutes <= 600:
        problems.append(f"{place.id}: visit_minutes {place.visit_minutes} outside 5-600")
    if place.summary is not None and len(place.summary) > MAX_SUMMARY_CHARS:
        problems.append(f"{place.id}: summary longer than {MAX_SUMMARY_CHARS} characters")
    if place.website is not None and not place.website.startswith(("https://", "http://")):
        problems.append(f"{place.id}: website is not an http(s) URL")
    if place.meal_price is not None and place.category not in ("restaurant", "cafe", "bar"):
        problems.append(f"{place.id}: meal_price is only for restaurants, cafes and bars")
    return problems


def _check_city(catalogue: Catalogue, city: City, min_places: int) -> list[str]:
    places = catalogue.places_of(city.id)
    problems = []
    if len(places) < min_places:
        problems.append(f"{city.id}: {len(places)} places, at least {min_places} required")
    counts = Counter(place.category for place in places)
    for category, minimum in CATEGORY_MINIMUMS.items():
        if counts[category] < minimum:
            problems.append(f"{city.id}: {counts[category]} {category} places, at least {minimum} required")
    restaurants = [place for place in places if place.category == "restaurant"]
    if restaurants:
        levels = {place.price_level for place in restaurants}
        missing_levels = sorted({1, 2, 3, 4} - levels)
        if missing_levels:
            problems.append(f"{city.id}: no restaurant at price level(s) {missing_levels}")
        if sum(1 for place in restaurants if place.vegetarian_friendly) < 2:
            problems.append(f"{city.id}: fewer than 2 vegetarian-friendly restaurants")
        if len({place.cuisine for place in restaurants if place.cuisine}) < 2:
            problems.append(f"{city.id}: restaurants need several cuisines")
    low, high = city.viewport_low, city.viewport_high
    if not (low.lat < city.center.lat < high.lat and low.lng < city.center.lng < high.lng):
        problems.append(f"{city.id}: the centre is outside the viewport")
    return problems


def check_catalogue(
    catalogue: Catalogue,
    *,
    expected_cities: tuple[str, ...] = EXPECTED_CITIES,
    min_places: int = MIN_PLACES_PER_CITY,
) -> list[str]:
    """Every problem of a loaded catalogue (load problems included); an empty list means it is good."""
    problems = list(catalogue.problems)
    missing = [city_id for city_id in expected_cities if city_id not in catalogue.cities]
    if missing:
        problems.append(f"missing cities: {', '.join(missing)}")
    for city in catalogue.cities.values():
        problems.extend(_check_city(catalogue, city, min_places))
    for place in catalogue.places.values():
        problems.extend(_check_place(place, catalogue.cities[place.city_id]))
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    directory = Path(args[0]) if args else DEFAULT_CATALOGUE_DIR
    catalogue = load_catalogue(directory)
    problems = check_catalogue(catalogue)
    for problem in problems:
        print(problem)
    print(f"{len(catalogue.cities)} cities, {len(catalogue.places)} places, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
