"""Weather API stand-in: ``GET /v1/forecast/days:lookup`` as Google's Weather API answers it, from a deterministic
model per place and date.

Protocol (the fields the real API documents and the backend reads): query ``location.latitude``,
``location.longitude`` (required), ``days`` (1..10, default 10), ``pageSize`` (1..10, default 5), ``pageToken``,
``unitsSystem`` (``METRIC`` default, or ``IMPERIAL``). The answer is ``{"forecastDays": [...], "timeZone": {"id"},
"nextPageToken"}`` (no token on the last page). Each forecast day has ``interval`` (07:00 local to 07:00 the next
day, in UTC), ``displayDate`` {year, month, day}, ``daytimeForecast`` and ``nighttimeForecast`` (each an
``interval``, ``weatherCondition`` {type, description {text, languageCode}, iconBaseUri}, ``precipitation``
{probability {percent, type}, qpf {quantity, unit}}), ``maxTemperature`` and ``minTemperature`` {degrees, unit}.
The forecast starts on the location's current day (the stand-in's clock) and never reaches past 10 days.

The model: a seeded draw per (place rounded to 0.1 degree, date) for the chance of rain, and a seasonal temperature
by latitude and day of the year. Tests override a date at a place with ``POST /__admin/weather``
(``server.py``): forced rain or forced dry weather, or every weather call failing.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scripts.maps_standin.loader import Catalogue, LatLng

HORIZON_DAYS = 10
DEFAULT_PAGE_SIZE = 5
FORCED_RADIUS_KM = 60.0
CITY_RADIUS_KM = 150.0
ICON_BASE = "https://maps.gstatic.com/weather/v1/"

# (upper bound of the precipitation percent, condition type, description) from dry to wet.
_CONDITIONS = (
    (10, "CLEAR", "Sunny"),
    (20, "MOSTLY_CLEAR", "Mostly sunny"),
    (35, "PARTLY_CLOUDY", "Partly sunny"),
    (50, "MOSTLY_CLOUDY", "Mostly cloudy"),
    (60, "CHANCE_OF_SHOWERS", "Chance of showers"),
    (75, "LIGHT_RAIN", "Light rain"),
    (90, "RAIN", "Rain"),
    (101, "HEAVY_RAIN", "Heavy rain"),
)
_SNOW = {
    "LIGHT_RAIN": ("LIGHT_SNOW", "Light snow"),
    "RAIN": ("SNOW", "Snow"),
    "HEAVY_RAIN": ("HEAVY_SNOW", "Heavy snow"),
}
FORCED = {"rain": 95, "dry": 5}


class WeatherError(ValueError):
    """A request the real API would refuse with 400 INVALID_ARGUMENT."""


@dataclass(frozen=True)
class ForcedWeather:
    """A date at a place whose weather a test decided: ``rain`` or ``dry``."""

    day: date
    location: LatLng
    kind: str


def _distance_km(a: LatLng, b: LatLng) -> float:
    lat1, lng1, lat2, lng2 = map(math.radians, (a.lat, a.lng, b.lat, b.lng))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def time_zone_at(catalogue: Catalogue, where: LatLng) -> str:
    """The time zone of the nearest catalogue city within ``CITY_RADIUS_KM``, else a whole-hour zone by longitude."""
    nearest = min(catalogue.cities.values(), key=lambda city: _distance_km(city.center, where), default=None)
    if nearest is not None and _distance_km(nearest.center, where) <= CITY_RADIUS_KM:
        return nearest.time_zone
    offset = round(where.lng / 15)
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # POSIX sign: Etc/GMT-9 is UTC+9


def _float_param(query: dict[str, list[str]], name: str, low: float, high: float) -> float:
    values = query.get(name)
    if not values:
        raise WeatherError(f"{name} is required")
    try:
        value = float(values[0])
    except ValueError:
        raise WeatherError(f"{name} must be a number") from None
    if not low <= value <= high:
        raise WeatherError(f"{name} must be between {low} and {high}")
    return value


def _int_param(query: dict[str, list[str]], name: str, default: int) -> int:
    values = query.get(name)
    if not values:
        return default
    try:
        value = int(values[0])
    except ValueError:
        raise WeatherError(f"{name} must be an integer") from None
    if not 1 <= value <= HORIZON_DAYS:
        raise WeatherError(f"{name} must be between 1 and {HORIZON_DAYS}")
    return value


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"days:{offset}".encode()).decode()


def _page_offset(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        prefix, _, number = text.partition(":")
        offset = int(number)
    except (ValueError, UnicodeDecodeError):
        raise WeatherError("pageToken is not valid") from None
    if prefix != "days" or not 0 <= offset < HORIZON_DAYS:
        raise WeatherError("pageToken is not valid")
    return offset


def _rng(where: LatLng, day: date) -> random.Random:
    seed = hashlib.sha256(f"{where.lat:.1f},{where.lng:.1f},{day.isoformat()}".encode()).digest()
    return random.Random(int.from_bytes(seed[:8], "big"))


def _mean_celsius(where: LatLng, day: date) -> float:
    """A seasonal mean: warmer near the equator, summer in July north of it and in January south of it."""
    amplitude = min(14.0, 0.3 * abs(where.lat))
    season = math.cos(2 * math.pi * (day.timetuple().tm_yday - 200) / 365.0)
    return 27.0 - 0.35 * abs(where.lat) + (amplitude if where.lat >= 0 else -amplitude) * season


def _condition(percent: int, low_celsius: float) -> tuple[str, str]:
    kind, text = next((kind, text) for bound, kind, text in _CONDITIONS if percent < bound)
    if low_celsius < 0 and kind in _SNOW:
        return _SNOW[kind]
    return kind, text


def _part(start: datetime, end: datetime, percent: int, low: float, imperial: bool) -> dict[str, Any]:
    kind, text = _condition(percent, low)
    snow = "SNOW" in kind
    millimetres = 0.0 if percent < 50 else round((percent - 45) / 5.0, 1)
    return {
        "interval": {"startTime": _zulu(start), "endTime": _zulu(end)},
        "weatherCondition": {
            "iconBaseUri": ICON_BASE + kind.lower(),
            "description": {"text": text, "languageCode": "en"},
            "type": kind,
        },
        "precipitation": {
            "probability": {"percent": percent, "type": "SNOW" if snow else "RAIN"},
            "qpf": {"quantity": round(millimetres / 25.4, 2), "unit": "INCHES"}
            if imperial
            else {"quantity": millimetres, "unit": "MILLIMETERS"},
        },
    }


def _zulu(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _temperature(celsius: float, imperial: bool) -> dict[str, Any]:
    if imperial:
        return {"degrees": round(celsius * 9 / 5 + 32, 1), "unit": "FAHRENHEIT"}
    return {"degrees": round(celsius, 1), "unit": "CELSIUS"}


def forecast_day(where: LatLng, day: date, zone: ZoneInfo, forced: str | None, imperial: bool) -> dict[str, Any]:
    """One ``forecastDays`` entry: the deterministic model, or the forced weather of that date."""
    rng = _rng(where, day)
    mean = _mean_celsius(where, day)
    high = mean + 4.0 + rng.uniform(-2.0, 2.0)
    low = mean - 4.0 + rng.uniform(-2.0, 2.0)
    day_percent = min(100, round(rng.random() ** 1.7 * 20) * 5)
    night_percent = min(100, round(rng.random() ** 1.7 * 20) * 5)
    condition_low = low
    if forced is not None:
        day_percent = night_percent = FORCED[forced]
        condition_low = max(low, 0.0)  # forced rain is rain on any date, never the snow a frost would make of it
    start = datetime.combine(day, time(7), zone)
    middle = datetime.combine(day, time(19), zone)
    end = datetime.combine(day + timedelta(days=1), time(7), zone)
    return {
        "interval": {"startTime": _zulu(start), "endTime": _zulu(end)},
        "displayDate": {"year": day.year, "month": day.month, "day": day.day},
        "daytimeForecast": _part(start, middle, day_percent, condition_low, imperial),
        "nighttimeForecast": _part(middle, end, night_percent, condition_low, imperial),
        "maxTemperature": _temperature(high, imperial),
        "minTemperature": _temperature(low, imperial),
    }


def _forced_kind(forced: list[ForcedWeather], where: LatLng, day: date) -> str | None:
    for item in reversed(forced):  # the latest override of a date wins
        if item.day == day and _distance_km(item.location, where) <= FORCED_RADIUS_KM:
            return item.kind
    return None


def lookup_days(
    catalogue: Catalogue, query: dict[str, list[str]], now: datetime, forced: list[ForcedWeather]
) -> dict[str, Any]:
    """The answer of ``forecast/days:lookup`` (raises ``WeatherError`` for a request the API refuses)."""
    where = LatLng(
        lat=_float_param(query, "location.latitude", -90.0, 90.0),
        lng=_float_param(query, "location.longitude", -180.0, 180.0),
    )
    days = _int_param(query, "days", HORIZON_DAYS)
    page_size = _int_param(query, "pageSize", DEFAULT_PAGE_SIZE)
    units = (query.get("unitsSystem") or ["METRIC"])[0]
    if units not in ("METRIC", "IMPERIAL", "UNITS_SYSTEM_UNSPECIFIED"):
        raise WeatherError("unitsSystem must be METRIC or IMPERIAL")
    token = (query.get("pageToken") or [""])[0]
    offset = _page_offset(token) if token else 0
    if offset >= days:
        raise WeatherError("pageToken is not valid")
    zone_id = time_zone_at(catalogue, where)
    zone = ZoneInfo(zone_id)
    today = now.astimezone(zone).date()
    last = min(days, offset + page_size)
    answer: dict[str, Any] = {
        "forecastDays": [
            forecast_day(
                where,
                today + timedelta(days=index),
                zone,
                _forced_kind(forced, where, today + timedelta(days=index)),
                units == "IMPERIAL",
            )
            for index in range(offset, last)
        ],
        "timeZone": {"id": zone_id},
    }
    if last < days:
        answer["nextPageToken"] = _page_token(last)
    return answer


def parse_forced(body: dict[str, Any]) -> ForcedWeather:
    """``{"date": "2026-12-06", "latitude": 35.0, "longitude": 135.7, "kind": "rain" | "dry"}``."""
    try:
        day = date.fromisoformat(str(body["date"]))
        location = LatLng(lat=float(body["latitude"]), lng=float(body["longitude"]))
    except (KeyError, TypeError, ValueError):
        raise WeatherError("date (YYYY-MM-DD), latitude and longitude are required") from None
    kind = body.get("kind", "rain")
    if kind not in FORCED:
        raise WeatherError(f"kind must be one of {sorted(FORCED)}")
    return ForcedWeather(day=day, location=location, kind=kind)
