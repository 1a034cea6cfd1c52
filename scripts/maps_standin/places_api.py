"""Places API (New) answers from the catalogue: Place JSON, text search, city (locality) results."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from scripts.maps_standin.loader import DAYS, Catalogue, CataloguePlace, City, Names, parse_intervals
from scripts.maps_standin.travel_model import haversine_m

# Every field of google.maps.places_v1.Place (0.9.1) in JSON form, for field-mask validation.
_PLACE_FIELDS_SNAKE = [
    "accessibility_options",
    "address_components",
    "address_descriptor",
    "adr_format_address",
    "allows_dogs",
    "attributions",
    "business_status",
    "consumer_alert",
    "containing_places",
    "curbside_pickup",
    "current_opening_hours",
    "current_secondary_opening_hours",
    "delivery",
    "dine_in",
    "display_name",
    "editorial_summary",
    "ev_charge_amenity_summary",
    "ev_charge_options",
    "formatted_address",
    "fuel_options",
    "generative_summary",
    "good_for_children",
    "good_for_groups",
    "good_for_watching_sports",
    "google_maps_links",
    "google_maps_type_label",
    "google_maps_uri",
    "icon_background_color",
    "icon_mask_base_uri",
    "id",
    "international_phone_number",
    "live_music",
    "location",
    "menu_for_children",
    "moved_place",
    "moved_place_id",
    "name",
    "national_phone_number",
    "neighborhood_summary",
    "opening_date",
    "outdoor_seating",
    "parking_options",
    "payment_options",
    "photos",
    "plus_code",
    "postal_address",
    "price_level",
    "price_range",
    "primary_type",
    "primary_type_display_name",
    "pure_service_area_business",
    "rating",
    "regular_opening_hours",
    "regular_secondary_opening_hours",
    "reservable",
    "restroom",
    "review_summary",
    "reviews",
    "serves_beer",
    "serves_breakfast",
    "serves_brunch",
    "serves_cocktails",
    "serves_coffee",
    "serves_dessert",
    "serves_dinner",
    "serves_lunch",
    "serves_vegetarian_food",
    "serves_wine",
    "short_formatted_address",
    "sub_destinations",
    "takeout",
    "time_zone",
    "transit_station",
    "types",
    "user_rating_count",
    "utc_offset_minutes",
    "viewport",
    "website_uri",
]


def camel_case(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.capitalize() for part in rest)


PLACE_FIELDS = frozenset(camel_case(name) for name in _PLACE_FIELDS_SNAKE)
SEARCH_RESPONSE_FIELDS: dict[str, frozenset[str] | None] = {
    "places": PLACE_FIELDS,
    "nextPageToken": None,
    "contextualContents": None,
    "routingSummaries": None,
    "searchUri": None,
}
PLACE_RESPONSE_FIELDS: dict[str, frozenset[str] | None] = {name: None for name in PLACE_FIELDS}

PRICE_LEVEL_NAMES = (
    "PRICE_LEVEL_FREE",
    "PRICE_LEVEL_INEXPENSIVE",
    "PRICE_LEVEL_MODERATE",
    "PRICE_LEVEL_EXPENSIVE",
    "PRICE_LEVEL_VERY_EXPENSIVE",
)
PRICE_LEVEL_ENUM = {"PRICE_LEVEL_UNSPECIFIED": 0} | {name: index + 1 for index, name in enumerate(PRICE_LEVEL_NAMES)}
BUSINESS_STATUS_ENUM = {"BUSINESS_STATUS_UNSPECIFIED": 0, "OPERATIONAL": 1}
MAX_PAGE_SIZE = 20
LOCALITY_PREFIX = "city-"
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_STOPWORDS = frozenset(
    [
        "in",
        "near",
        "the",
        "of",
        "at",
        "a",
        "an",
        "and",
        "best",
        "top",
        "good",
        "things",
        "to",
        "do",
        "see",
        "visit",
        "places",
        "place",
        "around",
        "city",
        "de",
        "del",
        "la",
        "el",
        "en",
        "y",
        "le",
        "les",
        "des",
        "du",
        "di",
        "il",
        "lo",
    ]
)
_SYNONYMS = {
    "food": ("restaurant",),
    "eat": ("restaurant",),
    "dinner": ("restaurant",),
    "lunch": ("restaurant",),
    "coffee": ("cafe", "coffee"),
    "drinks": ("bar",),
    "sights": ("tourist_attraction", "attraction"),
    "sightseeing": ("tourist_attraction", "attraction"),
    "attractions": ("tourist_attraction", "attraction"),
    "temples": ("temple",),
    "shrines": ("shrine",),
    "vegetarian": ("vegetarian",),
    "hotels": ("hotel", "lodging"),
    "stay": ("hotel", "lodging"),
    "view": ("viewpoint", "observation_deck"),
    "saint": ("st",),
    "st": ("saint",),
}


class SearchError(ValueError):
    """The request is invalid (answered with 400 INVALID_ARGUMENT)."""


# Accents are the marks of these blocks (combining diacritics); marks that are part of a script (Thai vowels and
# tones, the kana voicing marks, Devanagari signs) stay.
_DIACRITIC_BLOCKS = ((0x0300, 0x036F), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF), (0xFE20, 0xFE2F))
# Letters that NFKD does not take apart but that travellers type without their mark or as two letters.
_LETTER_FOLDS = str.maketrans({"ı": "i", "ø": "o", "œ": "oe", "æ": "ae", "ł": "l", "đ": "d", "ð": "d", "þ": "th"})
_APOSTROPHES = "'\u2019\u2018\u02bc`\u00b4"


def _is_diacritic(char: str) -> bool:
    code = ord(char)
    return unicodedata.combining(char) != 0 and any(low <= code <= high for low, high in _DIACRITIC_BLOCKS)


def _is_word_character(char: str) -> bool:
    """Letters, digits, ``_`` and the marks that remain (Thai vowels and tones are marks, not punctuation)."""
    return char.isalnum() or char == "_" or unicodedata.category(char).startswith("M")


def _fold(text: str, apostrophe: str) -> str:
    folded = text.casefold()
    for mark in _APOSTROPHES:
        folded = folded.replace(mark, apostrophe)
    decomposed = unicodedata.normalize("NFKD", folded)
    stripped = unicodedata.normalize("NFC", "".join(char for char in decomposed if not _is_diacritic(char)))
    return " ".join(
        "".join(char if _is_word_character(char) else " " for char in stripped.translate(_LETTER_FOLDS)).split()
    )


def normalise(text: str) -> str:
    """Case- and accent-insensitive form: casefolded, NFKD with the accents dropped, apostrophes dropped
    ("St. Peter's" and "St Peters" both give "st peters"), other punctuation to spaces."""
    return _fold(text, "")


@lru_cache(maxsize=16_384)
def name_forms(name: str) -> tuple[str, ...]:
    """The normalised forms a name is found under: apostrophes dropped ("l orangerie" -> "lorangerie"), apostrophes
    as word breaks ("l orangerie"), and hyphens dropped too ("senso ji" -> "sensoji"), so that "Orangerie",
    "l'Orangerie", "St Peters" and "Sensoji" all find their place."""
    return tuple(dict.fromkeys([_fold(name, ""), _fold(name, " "), _fold(name.replace("-", ""), "")]))


def searchable_names(names: Names) -> tuple[str, ...]:
    """Every normalised form of every name (each language) of a place or city."""
    return tuple(dict.fromkeys(form for name in names.every() for form in name_forms(name)))


def _writes_without_spaces(text: str) -> bool:
    """Thai, Lao, Myanmar, Khmer and CJK text: words are not separated by spaces, so match inside words."""
    return any(
        0x0E00 <= ord(char) <= 0x0EFF
        or 0x1000 <= ord(char) <= 0x109F
        or 0x1780 <= ord(char) <= 0x17FF
        or ord(char) > 0x2E80
        for char in text
    )


@lru_cache(maxsize=1024)
def _phrase_finder(phrase: str) -> Callable[[str], bool]:
    """Whether a text holds ``phrase`` as whole words (anywhere, for scripts written without spaces)."""
    if _writes_without_spaces(phrase):
        return lambda text: phrase in text
    pattern = re.compile(rf"(?<!\w){re.escape(phrase)}(?!\w)")
    return lambda text: pattern.search(text) is not None


def _singular(token: str) -> str:
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


def _now_local(now_utc: datetime, time_zone: str) -> datetime:
    return now_utc.astimezone(ZoneInfo(time_zone))


def utc_offset_minutes(now_utc: datetime, time_zone: str) -> int:
    offset = _now_local(now_utc, time_zone).utcoffset() or timedelta(0)
    return int(offset.total_seconds() // 60)


def _google_day(day_key: str) -> int:
    """Google numbers days 0 = Sunday .. 6 = Saturday."""
    return (DAYS.index(day_key) + 1) % 7


def _format_time(minutes: int) -> str:
    minutes %= 24 * 60
    hour, minute = divmod(minutes, 60)
    suffix = "AM" if hour < 12 else "PM"
    return f"{(hour % 12) or 12}:{minute:02d}\u202f{suffix}"


def opening_hours_json(place: CataloguePlace, now_utc: datetime, time_zone: str) -> dict[str, Any]:
    """``regularOpeningHours`` as Places API (New) returns it (periods, weekday descriptions, openNow)."""
    if place.hours == "24h":
        return {
            "openNow": True,
            "periods": [{"open": {"day": 0, "hour": 0, "minute": 0}}],
            "weekdayDescriptions": [f"{name}: Open 24 hours" for name in _WEEKDAY_NAMES],
        }
    assert isinstance(place.hours, dict)
    periods = []
    descriptions = []
    for day_key, day_name in zip(DAYS, _WEEKDAY_NAMES, strict=True):
        intervals = parse_intervals(place.hours[day_key])
        day = _google_day(day_key)
        for open_min, close_min in intervals:
            close_day = (day + close_min // (24 * 60)) % 7
            close_of_day = close_min % (24 * 60)
            periods.append(
                {
                    "open": {"day": day, "hour": open_min // 60, "minute": open_min % 60},
                    "close": {"day": close_day, "hour": close_of_day // 60, "minute": close_of_day % 60},
                }
            )
        text = ", ".join(f"{_format_time(a)} \u2013 {_format_time(b)}" for a, b in intervals) or "Closed"
        descriptions.append(f"{day_name}: {text}")
    periods.sort(key=lambda period: (period["open"]["day"], period["open"]["hour"], period["open"]["minute"]))
    return {"openNow": is_open(place, now_utc, time_zone), "periods": periods, "weekdayDescriptions": descriptions}


def is_open(place: CataloguePlace, now_utc: datetime, time_zone: str) -> bool:
    if place.hours == "24h":
        return True
    assert isinstance(place.hours, dict)
    local = _now_local(now_utc, time_zone)
    minute_of_week = local.weekday() * 24 * 60 + local.hour * 60 + local.minute
    week = 7 * 24 * 60
    for index, day_key in enumerate(DAYS):
        for open_min, close_min in parse_intervals(place.hours[day_key]):
            start = index * 24 * 60 + open_min
            end = index * 24 * 60 + close_min
            if start <= minute_of_week < end or start <= minute_of_week + week < end:
                return True
    return False


def _maps_uri(place_id: str) -> str:
    return f"https://maps.google.com/?q=place_id:{place_id}"


def display_name_json(names: Names, language_code: str | None) -> dict[str, str]:
    """``displayName`` in the asked language when the catalogue has it, else in English, else the own name; its
    ``languageCode`` is the language of the text returned, as Google gives it."""
    text, language = names.in_language(language_code)
    return {"text": text, "languageCode": language}


def place_json(place: CataloguePlace, city: City, now_utc: datetime, language_code: str | None) -> dict[str, Any]:
    """The full Place resource (enum values as names) for one catalogue place."""
    lat, lng = place.location.lat, place.location.lng
    result: dict[str, Any] = {
        "name": f"places/{place.id}",
        "id": place.id,
        "displayName": display_name_json(place.names, language_code),
        "types": list(place.types),
        "primaryType": place.types[0],
        "primaryTypeDisplayName": {"text": place.types[0].replace("_", " ").capitalize(), "languageCode": "en"},
        "formattedAddress": place.address,
        "shortFormattedAddress": place.address.split(",")[0],
        "location": {"latitude": lat, "longitude": lng},
        "viewport": {
            "low": {"latitude": lat - 0.0015, "longitude": lng - 0.0015},
            "high": {"latitude": lat + 0.0015, "longitude": lng + 0.0015},
        },
        "googleMapsUri": _maps_uri(place.id),
        "utcOffsetMinutes": utc_offset_minutes(now_utc, city.time_zone),
        "timeZone": {"id": city.time_zone},
        "businessStatus": "OPERATIONAL",
        "regularOpeningHours": opening_hours_json(place, now_utc, city.time_zone),
    }
    if place.rating is not None:
        result["rating"] = place.rating
    if place.user_rating_count is not None:
        result["userRatingCount"] = place.user_rating_count
    if place.price_level is not None:
        result["priceLevel"] = PRICE_LEVEL_NAMES[place.price_level]
    if place.meal_price:
        low = max(1, math.floor(place.meal_price * 0.75))
        high = max(low + 1, math.ceil(place.meal_price * 1.25))
        result["priceRange"] = {
            "startPrice": {"currencyCode": city.currency, "units": str(low)},
            "endPrice": {"currencyCode": city.currency, "units": str(high)},
        }
    if place.website:
        result["websiteUri"] = place.website
    if place.summary:
        result["editorialSummary"] = {"text": place.summary, "languageCode": "en"}
    if place.wheelchair_accessible is not None:
        result["accessibilityOptions"] = {"wheelchairAccessibleEntrance": place.wheelchair_accessible}
    if place.vegetarian_friendly is not None:
        result["servesVegetarianFood"] = place.vegetarian_friendly
    return result


def locality_id(city: City) -> str:
    return f"{LOCALITY_PREFIX}{city.id}"


def locality_json(city: City, now_utc: datetime, language_code: str | None) -> dict[str, Any]:
    """A city as Places returns a ``locality``."""
    place_id = locality_id(city)
    return {
        "name": f"places/{place_id}",
        "id": place_id,
        "displayName": display_name_json(city.names, language_code),
        "types": ["locality", "political"],
        "primaryType": "locality",
        "formattedAddress": city.address,
        "location": {"latitude": city.center.lat, "longitude": city.center.lng},
        "viewport": {
            "low": {"latitude": city.viewport_low.lat, "longitude": city.viewport_low.lng},
            "high": {"latitude": city.viewport_high.lat, "longitude": city.viewport_high.lng},
        },
        "googleMapsUri": _maps_uri(place_id),
        "utcOffsetMinutes": utc_offset_minutes(now_utc, city.time_zone),
        "timeZone": {"id": city.time_zone},
    }


def get_place_json(catalogue: Catalogue, place_id: str, now_utc: datetime, language: str | None) -> dict[str, Any]:
    """Raise ``KeyError`` when the id is unknown."""
    if place_id.startswith(LOCALITY_PREFIX) and place_id[len(LOCALITY_PREFIX) :] in catalogue.cities:
        return locality_json(catalogue.cities[place_id[len(LOCALITY_PREFIX) :]], now_utc, language)
    place = catalogue.places[place_id]
    return place_json(place, catalogue.cities[place.city_id], now_utc, language)


@dataclass(frozen=True)
class _Area:
    """A circle (centre + radius) or a rectangle (low/high corners)."""

    circle: tuple[float, float, float] | None = None
    rectangle: tuple[float, float, float, float] | None = None

    def contains(self, lat: float, lng: float) -> bool:
        if self.circle is not None:
            c_lat, c_lng, radius = self.circle
            return haversine_m(c_lat, c_lng, lat, lng) <= radius
        if self.rectangle is not None:
            low_lat, low_lng, high_lat, high_lng = self.rectangle
            in_lng = low_lng <= lng <= high_lng if low_lng <= high_lng else (lng >= low_lng or lng <= high_lng)
            return low_lat <= lat <= high_lat and in_lng
        return True


def _latlng_of(raw: Any, what: str) -> tuple[float, float]:
    if not isinstance(raw, dict):
        raise SearchError(f"{what} must be a LatLng")
    try:
        return float(raw.get("latitude", 0.0)), float(raw.get("longitude", 0.0))
    except (TypeError, ValueError):
        raise SearchError(f"{what} must be a LatLng") from None


def _area(raw: Any, what: str, allow_circle: bool) -> _Area | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise SearchError(f"{what} must be an object")
    if "circle" in raw:
        if not allow_circle:
            raise SearchError(f"{what}: only a rectangle is allowed")
        circle = raw["circle"] or {}
        lat, lng = _latlng_of(circle.get("center", {}), f"{what}.circle.center")
        radius = float(circle.get("radius", 0.0))
        if not 0.0 < radius <= 50_000.0:
            raise SearchError(f"{what}.circle.radius must be in (0, 50000] metres")
        return _Area(circle=(lat, lng, radius))
    if "rectangle" in raw:
        rectangle = raw["rectangle"] or {}
        low = _latlng_of(rectangle.get("low", {}), f"{what}.rectangle.low")
        high = _latlng_of(rectangle.get("high", {}), f"{what}.rectangle.high")
        if low[0] > high[0]:
            raise SearchError(f"{what}.rectangle: low.latitude must not exceed high.latitude")
        return _Area(rectangle=(low[0], low[1], high[0], high[1]))
    raise SearchError(f"{what} needs a circle or a rectangle")


def _price_level_index(value: Any) -> int:
    """An enum value (int or name) -> catalogue level 0..4."""
    if isinstance(value, int) and 1 <= value <= 5:
        return value - 1
    if isinstance(value, str) and value in PRICE_LEVEL_NAMES:
        return PRICE_LEVEL_NAMES.index(value)
    raise SearchError(f"invalid price level {value!r}")


def _city_aliases(city: City) -> list[str]:
    names = [*city.names.every(), city.name, city.id.replace("-", " "), *city.aliases]
    return [alias for alias in {normalise(name) for name in names} if alias]


def _find_city(catalogue: Catalogue, query: str) -> tuple[City | None, str]:
    """The city named in the (normalised) query, longest alias first, and the query without it."""
    best: tuple[int, City, str] | None = None
    for city in catalogue.cities.values():
        for alias in _city_aliases(city):
            if _writes_without_spaces(alias):
                found = alias in query
                rest = query.replace(alias, " ", 1)
            else:
                found = re.search(rf"(?<!\w){re.escape(alias)}(?!\w)", query) is not None
                rest = re.sub(rf"(?<!\w){re.escape(alias)}(?!\w)", " ", query, count=1)
            if found and (best is None or len(alias) > best[0]):
                best = (len(alias), city, " ".join(rest.split()))
    if best is None:
        return None, query
    return best[1], best[2]


@lru_cache(maxsize=4096)
def _words_of(texts: tuple[str, ...]) -> frozenset[str]:
    return frozenset(word for text in texts for word in normalise(text).split())


def _place_words(place: CataloguePlace, forms: tuple[str, ...]) -> set[str]:
    words = set(_words_of(forms))
    for kind in (*place.types, place.category):
        words.add(kind)
        words.update(kind.split("_"))
    if place.cuisine:
        words.update(_words_of((place.cuisine,)))
    if place.vegetarian_friendly:
        words.add("vegetarian")
    if place.category == "neighbourhood":
        words.add("neighborhood")
    return words


def _token_matches(token: str, words: set[str], names_text: str) -> bool:
    candidates = {token, _singular(token), *_SYNONYMS.get(token, ())}
    if any(candidate in words for candidate in candidates):
        return True
    return len(token) >= 3 and token in names_text


EXACT_NAME, NAME_CONTAINS_PHRASE, NO_NAME_MATCH = 0, 1, 2


def name_match_rank(phrases: tuple[str, ...], forms: tuple[str, ...]) -> int:
    """How well the query (``phrases``: the whole query, and without the city it named) names a place:
    ``EXACT_NAME`` (one of its names in any language), ``NAME_CONTAINS_PHRASE`` (inside a name, whole words), or
    ``NO_NAME_MATCH``."""
    wanted = [phrase for phrase in phrases if len(phrase) >= 2]
    if any(form == phrase for phrase in wanted for form in forms):
        return EXACT_NAME
    if any(_phrase_finder(phrase)(form) for phrase in wanted for form in forms):
        return NAME_CONTAINS_PHRASE
    return NO_NAME_MATCH


@dataclass(frozen=True)
class SearchRequest:
    text: str
    language_code: str | None
    included_type: str | None
    price_levels: frozenset[int] | None
    open_now: bool
    min_rating: float
    bias: _Area | None
    restriction: _Area | None
    page_size: int
    offset: int
    fingerprint: str


def parse_search_request(body: dict[str, Any]) -> SearchRequest:
    text = body.get("textQuery")
    if not isinstance(text, str) or not text.strip():
        raise SearchError("textQuery is required")
    page_size = body.get("pageSize") or body.get("maxResultCount") or MAX_PAGE_SIZE
    if not isinstance(page_size, int) or page_size < 0:
        raise SearchError("pageSize must be a positive integer")
    price_levels_raw = body.get("priceLevels") or []
    price_levels = frozenset(_price_level_index(value) for value in price_levels_raw) or None
    min_rating = float(body.get("minRating") or 0.0)
    if not 0.0 <= min_rating <= 5.0:
        raise SearchError("minRating must be between 0 and 5")
    without_token = {key: value for key, value in body.items() if key not in ("pageToken", "pageSize")}
    fingerprint = hashlib.sha256(json.dumps(without_token, sort_keys=True).encode()).hexdigest()[:16]
    offset = 0
    token = body.get("pageToken")
    if token:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(str(token).encode()))
            if decoded["f"] != fingerprint:
                raise SearchError("pageToken does not belong to this request")
            offset = int(decoded["o"])
        except (ValueError, KeyError, TypeError):
            raise SearchError("invalid pageToken") from None
    return SearchRequest(
        text=text,
        language_code=body.get("languageCode") or None,
        included_type=body.get("includedType") or None,
        price_levels=price_levels,
        open_now=bool(body.get("openNow")),
        min_rating=min_rating,
        bias=_area(body.get("locationBias"), "locationBias", allow_circle=True),
        restriction=_area(body.get("locationRestriction"), "locationRestriction", allow_circle=False),
        page_size=min(page_size or MAX_PAGE_SIZE, MAX_PAGE_SIZE),
        offset=offset,
        fingerprint=fingerprint,
    )


def search_text(catalogue: Catalogue, request: SearchRequest, now_utc: datetime) -> dict[str, Any]:
    """The searchText answer (unmasked): ``{"places": [...], "nextPageToken": ...}``."""
    known_types = {kind for place in catalogue.places.values() for kind in place.types} | {"locality"}
    if request.included_type is not None and request.included_type not in known_types:
        raise SearchError(f"unsupported types: {request.included_type}")
    query = normalise(request.text)
    city, rest = _find_city(catalogue, query)
    tokens = [token for token in rest.split() if token not in _STOPWORDS]
    if city is not None and not tokens and request.included_type in (None, "locality"):
        locality_point = (city.center.lat, city.center.lng)
        if request.restriction is None or request.restriction.contains(*locality_point):
            return {"places": [locality_json(city, now_utc, request.language_code)]}
        return {}
    scored: list[tuple[tuple[Any, ...], CataloguePlace]] = []
    for place in catalogue.places.values():
        forms = searchable_names(place.names)
        in_named_city = city is None or place.city_id == city.id
        # A place outside the city the query names still counts when the whole query is its name ("Roma Norte").
        name_rank = name_match_rank((query, rest) if in_named_city else (query,), forms)
        if not in_named_city and name_rank == NO_NAME_MATCH:
            continue
        place_city = catalogue.cities[place.city_id]
        if request.included_type and request.included_type not in place.types:
            continue
        if request.price_levels is not None and place.price_level not in request.price_levels:
            continue
        if request.min_rating and (place.rating or 0.0) < request.min_rating:
            continue
        lat, lng = place.location.lat, place.location.lng
        if request.restriction is not None and not request.restriction.contains(lat, lng):
            continue
        if request.open_now and not is_open(place, now_utc, place_city.time_zone):
            continue
        if name_rank == NO_NAME_MATCH:
            words, names_text = _place_words(place, forms), " | ".join(forms)
            matched = sum(1 for token in tokens if _token_matches(token, words, names_text))
        else:
            matched = len(tokens)
        if tokens and matched == 0:
            continue
        outside_bias = request.bias is not None and not request.bias.contains(lat, lng)
        not_named_exactly = name_rank != EXACT_NAME  # containment admits a place but does not reorder a category
        rank = (matched < len(tokens), -matched, outside_bias, not_named_exactly, -(place.rating or 0.0), place.id)
        scored.append((rank, place))
    scored.sort(key=lambda item: item[0])
    if scored and not scored[0][0][0]:
        scored = [item for item in scored if not item[0][0]]  # some places match every word: drop partial matches
    page = scored[request.offset : request.offset + request.page_size]
    answer: dict[str, Any] = {
        "places": [
            place_json(place, catalogue.cities[place.city_id], now_utc, request.language_code) for _, place in page
        ]
    }
    if not answer["places"]:
        return {}
    next_offset = request.offset + request.page_size
    if next_offset < len(scored):
        token = json.dumps({"f": request.fingerprint, "o": next_offset}).encode()
        answer["nextPageToken"] = base64.urlsafe_b64encode(token).decode()
    return answer
