"""Protobuf answers of places_v1 / routing_v2 -> our models, with every text bounded and cleaned.

Maps content is untrusted data: texts lose control characters and are cut to fixed lengths, identifiers and
URLs that do not look like identifiers and URLs are dropped.
"""

from __future__ import annotations

import re
from typing import Any

from google.maps import places_v1, routing_v2

from common.domain.maps.models import (
    Destination,
    LatLng,
    OpeningHours,
    OpeningPeriod,
    Place,
    PriceRange,
    Route,
    TravelMode,
    Viewport,
    WeekTime,
)

MAX_NAME_CHARS = 200
MAX_SUMMARY_CHARS = 500
MAX_ADDRESS_CHARS = 300
MAX_WEEKDAY_DESCRIPTION_CHARS = 120
MAX_WEEKDAY_DESCRIPTIONS = 7
MAX_PERIODS = 64
MAX_TYPES = 32
MAX_URI_CHARS = 2048
MAX_POLYLINE_CHARS = 100_000
ELLIPSIS = "\u2026"

PLACE_ID_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{1,512}$")
_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TIME_ZONE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,3}$")
_CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
_POLYLINE_PATTERN = re.compile(r"^[\x3f-\x7e]*$")


def bound_text(value: str | None, limit: int) -> str | None:
    """Control and format characters become spaces, whitespace runs collapse, the result is cut to ``limit``
    characters (ending with an ellipsis when cut); empty results become ``None``."""
    if not value:
        return None
    printable = "".join(char if char.isprintable() else " " for char in value)
    cleaned = " ".join(printable.split())
    if not cleaned:
        return None
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + ELLIPSIS
    return cleaned


def clean_uri(value: str | None) -> str | None:
    if not value or len(value) > MAX_URI_CHARS or not value.startswith(("https://", "http://")):
        return None
    if any(char.isspace() or not char.isprintable() for char in value):
        return None
    return value


def clean_types(values: Any) -> tuple[str, ...]:
    return tuple(kind for kind in list(values)[:MAX_TYPES] if isinstance(kind, str) and _TYPE_PATTERN.match(kind))


def clean_type(value: str | None) -> str | None:
    return value if value and _TYPE_PATTERN.match(value) else None


def clean_time_zone(value: str | None) -> str | None:
    return value if value and len(value) <= 64 and _TIME_ZONE_PATTERN.match(value) else None


def _has(message: Any, field: str) -> bool:
    return field in message


def _latlng(message: Any) -> LatLng | None:
    latitude, longitude = float(message.latitude), float(message.longitude)
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        return None
    return LatLng(latitude=latitude, longitude=longitude)


def _week_time(point: places_v1.Place.OpeningHours.Period.Point) -> WeekTime | None:
    if not (0 <= point.day <= 6 and 0 <= point.hour <= 24 and 0 <= point.minute <= 59):
        return None
    return WeekTime(day=point.day, hour=point.hour, minute=point.minute)


def opening_hours(message: places_v1.Place.OpeningHours) -> OpeningHours:
    periods: list[OpeningPeriod] = []
    for period in list(message.periods)[:MAX_PERIODS]:
        opens = _week_time(period.open_)
        if opens is None:
            continue
        closes = _week_time(period.close) if _has(period, "close") else None
        if _has(period, "close") and closes is None:
            continue
        periods.append(OpeningPeriod(open=opens, close=closes))
    descriptions = [
        bound_text(text, MAX_WEEKDAY_DESCRIPTION_CHARS)
        for text in list(message.weekday_descriptions)[:MAX_WEEKDAY_DESCRIPTIONS]
    ]
    return OpeningHours(periods=tuple(periods), weekday_descriptions=tuple(text for text in descriptions if text))


def price_level(value: int) -> int | None:
    """places_v1.PriceLevel (1 FREE .. 5 VERY_EXPENSIVE) -> our 0..4; unspecified -> None."""
    number = int(value)
    return number - 1 if 1 <= number <= 5 else None


def _money(message: Any) -> float | None:
    if not _CURRENCY_PATTERN.match(message.currency_code or ""):
        return None
    return float(message.units) + float(message.nanos) / 1e9


def price_range(message: places_v1.PriceRange) -> PriceRange | None:
    start = message.start_price if _has(message, "start_price") else None
    end = message.end_price if _has(message, "end_price") else None
    reference = start if start is not None else end
    currency = str(reference.currency_code) if reference is not None else ""
    if not _CURRENCY_PATTERN.match(currency or ""):
        return None
    low = _money(start) if start is not None else None
    high = _money(end) if end is not None else None
    if low is None and high is None:
        return None
    return PriceRange(currency_code=currency, low=low, high=high)


def place(message: places_v1.Place) -> Place | None:
    """Our ``Place``, or ``None`` when the answer lacks a usable id, name or location."""
    place_id = message.id
    name = bound_text(message.display_name.text, MAX_NAME_CHARS) if _has(message, "display_name") else None
    location = _latlng(message.location) if _has(message, "location") else None
    if not PLACE_ID_PATTERN.match(place_id or "") or name is None or location is None:
        return None
    accessibility = message.accessibility_options if _has(message, "accessibility_options") else None
    return Place(
        id=place_id,
        name=name,
        location=location,
        types=clean_types(message.types),
        primary_type=clean_type(message.primary_type),
        rating=float(message.rating) if 0.0 < message.rating <= 5.0 else None,
        user_rating_count=int(message.user_rating_count) if _has(message, "user_rating_count") else None,
        price_level=price_level(message.price_level),
        price_range=price_range(message.price_range) if _has(message, "price_range") else None,
        opening_hours=opening_hours(message.regular_opening_hours) if _has(message, "regular_opening_hours") else None,
        utc_offset_minutes=_utc_offset(message),
        time_zone=clean_time_zone(message.time_zone.id) if _has(message, "time_zone") else None,
        formatted_address=bound_text(message.formatted_address, MAX_ADDRESS_CHARS),
        maps_uri=clean_uri(message.google_maps_uri),
        website_uri=clean_uri(message.website_uri),
        editorial_summary=bound_text(message.editorial_summary.text, MAX_SUMMARY_CHARS)
        if _has(message, "editorial_summary")
        else None,
        wheelchair_accessible=bool(accessibility.wheelchair_accessible_entrance)
        if accessibility is not None and _has(accessibility, "wheelchair_accessible_entrance")
        else None,
        serves_vegetarian_food=bool(message.serves_vegetarian_food)
        if _has(message, "serves_vegetarian_food")
        else None,
    )


def _utc_offset(message: places_v1.Place) -> int | None:
    if not _has(message, "utc_offset_minutes"):
        return None
    offset = int(message.utc_offset_minutes)
    return offset if -14 * 60 <= offset <= 14 * 60 else None


def destination(message: places_v1.Place) -> Destination | None:
    base = place(message)
    if base is None:
        return None
    viewport = None
    if _has(message, "viewport"):
        low, high = _latlng(message.viewport.low), _latlng(message.viewport.high)
        if low is not None and high is not None:
            viewport = Viewport(low=low, high=high)
    return Destination(
        place_id=base.id,
        name=base.name,
        location=base.location,
        viewport=viewport,
        time_zone=base.time_zone,
        utc_offset_minutes=base.utc_offset_minutes,
        formatted_address=base.formatted_address,
        types=base.types,
    )


def duration_seconds(value: Any) -> int:
    """A Duration field as proto-plus gives it (``timedelta``) -> whole seconds."""
    return max(0, round(float(value.total_seconds())))


def route(message: routing_v2.Route, mode: TravelMode, origin_id: str, destination_id: str) -> Route:
    polyline = message.polyline.encoded_polyline if _has(message, "polyline") else ""
    if len(polyline) > MAX_POLYLINE_CHARS or not _POLYLINE_PATTERN.match(polyline):
        polyline = ""
    return Route(
        mode=mode,
        origin_id=origin_id,
        destination_id=destination_id,
        duration_s=duration_seconds(message.duration),
        distance_m=max(0, int(message.distance_meters)),
        encoded_polyline=polyline or None,
    )
