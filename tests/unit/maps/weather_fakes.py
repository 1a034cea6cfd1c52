"""Fakes of the Weather API layer's unit tests: an API answering like Google's, and queries around one date."""

from __future__ import annotations

import datetime as dt
from typing import Any

from common.domain.maps.models import LatLng
from common.domain.maps.weather import ForecastQuery, WeatherService

KYOTO = LatLng(latitude=35.0116, longitude=135.7681)
# 2026-12-05 00:00 UTC is 09:00 in Kyoto: local today is 2026-12-05.
NOW = dt.datetime(2026, 12, 5, 0, 0, tzinfo=dt.UTC).timestamp()
TODAY = dt.date(2026, 12, 5)


def raw_day(date: dt.date, percent: Any = 10, kind: Any = "CLEAR", text: Any = "Sunny") -> dict[str, Any]:
    return {
        "displayDate": {"year": date.year, "month": date.month, "day": date.day},
        "daytimeForecast": {
            "weatherCondition": {"type": kind, "description": {"text": text, "languageCode": "en"}},
            "precipitation": {"probability": {"percent": percent, "type": "RAIN"}},
        },
        "maxTemperature": {"degrees": 12.5, "unit": "CELSIUS"},
        "minTemperature": {"degrees": 41.0, "unit": "FAHRENHEIT"},
    }


class FakeWeatherApi:
    """Answers like the API, from ``today`` (the location's local date), five days a page; can fail."""

    def __init__(self, failures: list[Exception] | None = None) -> None:
        self.calls: list[tuple[int, str | None]] = []
        self.failures = list(failures or [])

    def lookup_days(self, latitude: float, longitude: float, days: int, page_token: str | None) -> Any:
        self.calls.append((days, page_token))
        if self.failures:
            raise self.failures.pop(0)
        offset = int(page_token) if page_token else 0
        last = min(days, offset + 5)
        answer: dict[str, Any] = {
            "forecastDays": [raw_day(TODAY + dt.timedelta(days=n), percent=10 * n) for n in range(offset, last)]
        }
        if last < days:
            answer["nextPageToken"] = str(last)
        return answer


def weather_service(api: FakeWeatherApi, clock: list[float] | None = None) -> WeatherService:
    now = clock or [NOW]
    return WeatherService(api, cache_seconds=3 * 3600, clock=lambda: now[0], sleep=lambda _: None)


def queries(*offsets: int) -> list[ForecastQuery]:
    return [ForecastQuery(TODAY + dt.timedelta(days=n), KYOTO, "Asia/Tokyo") for n in offsets]
