"""Daily forecasts from the Google Maps Platform Weather API (``forecast/days:lookup``, REST), cached per place and
date for a few hours.

Protocol (developers.google.com/maps/documentation/weather/daily-forecast): ``GET
https://weather.googleapis.com/v1/forecast/days:lookup?key=..&location.latitude=..&location.longitude=..&days=N
&pageSize=N[&pageToken=..]`` answers ``forecastDays[]`` (``displayDate``, ``daytimeForecast`` and
``nighttimeForecast`` with ``weatherCondition`` {type, description.text} and ``precipitation.probability.percent``,
``maxTemperature`` / ``minTemperature`` {degrees, unit}), ``timeZone`` and ``nextPageToken``. It starts on the
location's current day and reaches at most ``HORIZON_DAYS`` ahead. There is no Python client library: this module
speaks the REST protocol over an injected ``requests`` session.

The answer is untrusted: its size is bounded, every field is checked and clipped, anything malformed is skipped.
A forecast is for a place (the location rounded to 0.1 degree, about a city district) and a local date; each query
names its own place, so a trip through several cities asks for each day's city.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from common.domain.maps.cache import FirestoreCache, TtlLruCache
from common.domain.maps.errors import TRANSPORT_ERRORS
from common.domain.maps.models import LatLng
from common.domain.maps.usage import MapsUsage
from common.foundation.clients import Lazy
from common.foundation.collection_names import WEATHER_CACHE
from common.foundation.errors import RetryableError

if TYPE_CHECKING:
    import requests
    from google.cloud import firestore

HORIZON_DAYS = 10
PAGE_SIZE = 10
MAX_RESPONSE_BYTES = 256 * 1024
MAX_TEXT = 80
WEATHER_OPERATION = "weather_forecast_days"
DEFAULT_ENDPOINT = "https://weather.googleapis.com"
LOOKUP_PATH = "/v1/forecast/days:lookup"
WET_CONDITION_WORDS = ("RAIN", "SHOWER", "THUNDER", "SNOW", "SLEET", "HAIL", "DRIZZLE")
RETRY_DELAY_SECONDS = 0.3


class WeatherUnavailable(RetryableError):
    """The Weather API did not answer usefully (off, failing, refusing, or nonsense): plan without it."""

    code = "weather_unavailable"
    default_message = "the weather forecast is unavailable"


class WeatherRejected(WeatherUnavailable):
    """The Weather API refused the request (a 4xx other than 429): asking again will not help."""

    code = "weather_rejected"


@dataclass(frozen=True)
class ForecastQuery:
    """One trip day: its local date, where the traveller is that day, and that place's time zone."""

    date: dt.date
    location: LatLng
    time_zone: str | None = None


@dataclass(frozen=True)
class DayForecast:
    """A day's daytime forecast (07:00 to 19:00 local), temperatures in degrees Celsius."""

    date: dt.date
    condition: str
    description: str
    precipitation_probability: int
    high_c: float | None
    low_c: float | None

    def is_wet(self, threshold_percent: int) -> bool:
        """Rain (or snow) is likely: the chance reaches ``threshold_percent``, or the condition says so."""
        if self.precipitation_probability >= threshold_percent:
            return True
        return self.precipitation_probability >= threshold_percent // 2 and any(
            word in self.condition for word in WET_CONDITION_WORDS
        )

    def encode(self) -> dict[str, Any]:
        return {**asdict(self), "date": self.date.isoformat()}

    @classmethod
    def decode(cls, data: dict[str, Any]) -> DayForecast:
        try:
            return cls(
                date=dt.date.fromisoformat(str(data["date"])),
                condition=str(data["condition"])[:MAX_TEXT],
                description=str(data["description"])[:MAX_TEXT],
                precipitation_probability=int(data["precipitation_probability"]),
                high_c=None if data.get("high_c") is None else float(data["high_c"]),
                low_c=None if data.get("low_c") is None else float(data["low_c"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a cached forecast: {error}") from None


class WeatherApi(Protocol):
    def lookup_days(self, latitude: float, longitude: float, days: int, page_token: str | None) -> Any:
        """One page of ``forecast/days:lookup``: the decoded JSON answer."""
        ...


class RestWeatherApi:
    """``forecast/days:lookup`` over HTTP with the Maps API key (``key`` parameter, as Google documents it)."""

    def __init__(self, session: requests.Session, endpoint: str, api_key: str | None, timeout: float) -> None:
        self._session = session
        self._url = endpoint.rstrip("/") + LOOKUP_PATH
        self._key = api_key
        self._timeout = timeout

    def lookup_days(self, latitude: float, longitude: float, days: int, page_token: str | None) -> Any:
        params: dict[str, str] = {
            "location.latitude": f"{latitude:.4f}",
            "location.longitude": f"{longitude:.4f}",
            "days": str(days),
            "pageSize": str(min(days, PAGE_SIZE)),
            "unitsSystem": "METRIC",
        }
        if self._key:
            params["key"] = self._key
        if page_token:
            params["pageToken"] = page_token
        try:
            response = self._session.get(self._url, params=params, timeout=self._timeout, stream=True)
        except TRANSPORT_ERRORS as error:
            raise WeatherUnavailable(f"Weather API not reached: {type(error).__name__}") from None
        with response:
            body = response.raw.read(MAX_RESPONSE_BYTES + 1, decode_content=True)
            status = response.status_code
            if 400 <= status < 500 and status != 429:
                raise WeatherRejected(f"Weather API refused the request ({status})")
            if status != 200:
                raise WeatherUnavailable(f"Weather API answered {status}")
        if len(body) > MAX_RESPONSE_BYTES:
            raise WeatherUnavailable("Weather API answer too large")
        try:
            return json.loads(body)
        except ValueError:
            raise WeatherUnavailable("Weather API answer is not JSON") from None


def _number(value: Any, low: float, high: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value) if low <= value <= high else None


def _celsius(temperature: Any) -> float | None:
    if not isinstance(temperature, dict):
        return None
    degrees = _number(temperature.get("degrees"), -150.0, 200.0)
    if degrees is None:
        return None
    if temperature.get("unit") == "FAHRENHEIT":
        degrees = (degrees - 32.0) * 5.0 / 9.0
    return round(degrees, 1) if -90.0 <= degrees <= 60.0 else None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    printable = "".join(character for character in value if character.isprintable())
    return " ".join(printable.split())[:MAX_TEXT]


def parse_forecast_day(raw: Any) -> DayForecast | None:
    """One ``forecastDays`` entry, or ``None`` when it lacks a date or a daytime condition."""
    if not isinstance(raw, dict):
        return None
    shown = raw.get("displayDate")
    daytime = raw.get("daytimeForecast")
    if not isinstance(shown, dict) or not isinstance(daytime, dict):
        return None
    try:
        date = dt.date(int(shown["year"]), int(shown["month"]), int(shown["day"]))
    except (KeyError, TypeError, ValueError):
        return None
    condition = daytime.get("weatherCondition")
    condition = condition if isinstance(condition, dict) else {}
    kind = _text(condition.get("type")).upper().replace(" ", "_")
    description = condition.get("description")
    text = _text(description.get("text")) if isinstance(description, dict) else ""
    precipitation = daytime.get("precipitation")
    probability = precipitation.get("probability") if isinstance(precipitation, dict) else None
    percent = _number(probability.get("percent"), 0, 100) if isinstance(probability, dict) else None
    if not kind and percent is None:
        return None
    return DayForecast(
        date=date,
        condition=kind or "TYPE_UNSPECIFIED",
        description=text or kind.replace("_", " ").capitalize(),
        precipitation_probability=round(percent or 0),
        high_c=_celsius(raw.get("maxTemperature")),
        low_c=_celsius(raw.get("minTemperature")),
    )


def parse_forecast_page(payload: Any) -> tuple[list[DayForecast], str | None]:
    """The usable days of one answer page and its ``nextPageToken`` (bounded: at most ``HORIZON_DAYS`` days)."""
    if not isinstance(payload, dict):
        raise WeatherUnavailable("Weather API answer is not an object")
    raw_days = payload.get("forecastDays", [])
    if not isinstance(raw_days, list):
        raise WeatherUnavailable("Weather API answer has no forecastDays list")
    days = [day for day in (parse_forecast_day(raw) for raw in raw_days[:HORIZON_DAYS]) if day is not None]
    token = payload.get("nextPageToken")
    return days, token if isinstance(token, str) and 0 < len(token) <= 512 else None


def place_key(location: LatLng) -> str:
    """The cache key of a place: its location rounded to 0.1 degree (about 11 km)."""
    return f"{location.latitude:.1f}_{location.longitude:.1f}"


def local_today(now: dt.datetime, time_zone: str | None) -> dt.date:
    try:
        zone = ZoneInfo(time_zone) if time_zone else dt.UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = dt.UTC
    return now.astimezone(zone).date()


class WeatherService:
    """Daily forecasts per trip day, cached per place and date for ``cache_seconds`` (L1 in process, L2 in
    Firestore when a client is given). Thread-safe; keep one per process."""

    def __init__(
        self,
        api: WeatherApi | Lazy[WeatherApi],
        *,
        cache_seconds: float,
        firestore_client: firestore.Client | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_retries: int = 1,
        l1_max_size: int = 5000,
    ) -> None:
        self._api = api if isinstance(api, Lazy) else Lazy(lambda: api)
        self._clock = clock
        self._sleep = sleep
        self._max_retries = max_retries
        self._cache_seconds = cache_seconds
        self._l1 = TtlLruCache(l1_max_size if cache_seconds > 0 else 0, cache_seconds, clock)
        self._l2 = FirestoreCache(firestore_client, clock) if firestore_client is not None and cache_seconds else None

    def forecasts(self, queries: Sequence[ForecastQuery], usage: MapsUsage) -> list[DayForecast | None]:
        """A forecast per query, ``None`` for a date outside the forecast horizon (not yet known).

        Raises ``WeatherUnavailable`` when a forecast inside the horizon could not be had."""
        now = dt.datetime.fromtimestamp(self._clock(), dt.UTC)
        found: dict[tuple[str, dt.date], DayForecast] = {}
        wanted: dict[str, list[ForecastQuery]] = {}
        for query in queries:
            offset = (query.date - local_today(now, query.time_zone)).days
            if 0 <= offset < HORIZON_DAYS:
                wanted.setdefault(place_key(query.location), []).append(query)
        for key, group in wanted.items():
            found.update(self._cached(key, group, usage))
            missing = [query for query in group if (key, query.date) not in found]
            if missing:
                found.update(self._fetch(key, missing, now, usage))
        return [found.get((place_key(query.location), query.date)) for query in queries]

    def _cache_id(self, key: str, date: dt.date) -> str:
        return f"{key}_{date.isoformat()}"

    def _cached(self, key: str, group: list[ForecastQuery], usage: MapsUsage) -> dict[tuple[str, dt.date], DayForecast]:
        found: dict[tuple[str, dt.date], DayForecast] = {}
        remote: list[str] = []
        for query in group:
            doc_id = self._cache_id(key, query.date)
            value = self._l1.get(doc_id)
            if isinstance(value, DayForecast):
                usage.hit("l1")
                found[(key, query.date)] = value
            else:
                remote.append(doc_id)
        if self._l2 is not None and remote:
            for doc_id, hit in self._l2.get_many(WEATHER_CACHE, remote).items():
                try:
                    forecast = DayForecast.decode(hit.data)
                except ValueError:
                    continue
                usage.hit("l2")
                self._l1.set(doc_id, forecast, hit.remaining_seconds)
                found[(key, forecast.date)] = forecast
        return found

    def _fetch(
        self, key: str, missing: list[ForecastQuery], now: dt.datetime, usage: MapsUsage
    ) -> dict[tuple[str, dt.date], DayForecast]:
        """Every page up to the last missing date, in one paged lookup; every day answered is cached."""
        usage.miss(WEATHER_OPERATION, len(missing))
        first = missing[0]
        days = max((query.date - local_today(now, query.time_zone)).days for query in missing) + 1
        days = max(1, min(HORIZON_DAYS, days))
        answered: list[DayForecast] = []
        token: str | None = None
        for _ in range(HORIZON_DAYS):  # pages: bounded even if the server keeps sending tokens
            page, token = self._page(first.location, days, token, usage)
            answered.extend(page)
            if token is None or len(answered) >= days:
                break
        fresh = {self._cache_id(key, day.date): day for day in answered}
        for doc_id, day in fresh.items():
            self._l1.set(doc_id, day)
        if self._l2 is not None and fresh:
            self._l2.put_many(
                WEATHER_CACHE, {doc_id: day.encode() for doc_id, day in fresh.items()}, self._cache_seconds
            )
        return {(key, day.date): day for day in answered}

    def _page(
        self, location: LatLng, days: int, token: str | None, usage: MapsUsage
    ) -> tuple[list[DayForecast], str | None]:
        attempt = 0
        while True:
            usage.upstream_call(WEATHER_OPERATION)
            try:
                payload = self._api.get().lookup_days(location.latitude, location.longitude, days, token)
                return parse_forecast_page(payload)
            except WeatherUnavailable as error:
                if isinstance(error, WeatherRejected) or attempt >= self._max_retries:
                    usage.failure()
                    raise
            attempt += 1
            usage.retry()
            self._sleep(RETRY_DELAY_SECONDS)
