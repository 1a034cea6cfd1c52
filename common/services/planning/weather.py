"""The forecast of each trip day, for the engine (which days are wet) and for the trip (what each day shows).

Weather is optional: with the Weather API switched off (``WEATHER_API_ENABLED=false``) or failing, the plan is made
as if every day were dry and the trip's warnings say the forecast was not used. A day more than the forecast horizon
ahead is planned the same way and shows ``not_yet_known``; re-planning that day nearer the date fetches it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from common.domain.maps import MapsUsage
from common.domain.maps.weather import HORIZON_DAYS, ForecastQuery, WeatherService, WeatherUnavailable
from common.domain.maps.weather import DayForecast as ApiForecast
from common.foundation.config import Settings
from common.foundation.log import get_logger
from common.services.trips.models import DayForecast

logger = get_logger(__name__)

WEATHER_OFF = "Planned without weather forecasts: the Weather API is switched off."
NOT_YET_KNOWN = (
    f"Forecast not yet known (it reaches {HORIZON_DAYS} days ahead): planned as a dry day; re-plan this day nearer the "
    "date to take its weather into account."
)
UNAVAILABLE = "Forecast unavailable: planned as a dry day."
WEATHER_FAILED = (
    "Planned without weather forecasts: the Weather API did not answer; re-plan a day later to take the weather "
    "into account."
)


@dataclass(frozen=True)
class TripWeather:
    """Per trip date, what the day shows (a day beyond the horizon says so itself, and a re-plan of it replaces
    that); the dates the engine plans as wet; warnings for the trip (the forecast was not used at all)."""

    forecasts: dict[dt.date, DayForecast]
    wet_dates: list[dt.date] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _shown(forecast: ApiForecast, wet: bool) -> DayForecast:
    return DayForecast(
        status="known",
        condition=forecast.condition,
        description=forecast.description,
        precipitation_probability=forecast.precipitation_probability,
        high_c=forecast.high_c,
        low_c=forecast.low_c,
        wet=wet,
    )


def trip_weather(
    weather: WeatherService | None, settings: Settings, days: Sequence[ForecastQuery], usage: MapsUsage
) -> TripWeather:
    """The forecast of every day in ``days`` (each with its own place and time zone); never raises for weather."""
    if weather is None or not settings.weather_api_enabled:
        return TripWeather(forecasts=_unavailable(days), warnings=[WEATHER_OFF])
    try:
        found = weather.forecasts(days, usage)
    except WeatherUnavailable as error:
        logger.warning("planning without the weather: %s", error.message)
        return TripWeather(forecasts=_unavailable(days), warnings=[WEATHER_FAILED])
    threshold = settings.weather_wet_precipitation_percent
    forecasts: dict[dt.date, DayForecast] = {}
    wet_dates: list[dt.date] = []
    for query, forecast in zip(days, found, strict=True):
        if forecast is None:
            forecasts[query.date] = DayForecast(status="not_yet_known", description=NOT_YET_KNOWN)
            continue
        wet = forecast.is_wet(threshold)
        forecasts[query.date] = _shown(forecast, wet)
        if wet:
            wet_dates.append(query.date)
    return TripWeather(forecasts=forecasts, wet_dates=wet_dates)


def _unavailable(days: Sequence[ForecastQuery]) -> dict[dt.date, DayForecast]:
    return {query.date: DayForecast(status="unavailable", description=UNAVAILABLE) for query in days}
