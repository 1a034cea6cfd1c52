"""What planning makes of the forecast: each day's forecast shown, wet days for the engine, warnings (the Weather
API is a fake here; tests/integration/test_plan_weather.py speaks HTTP to the stand-in)."""

from __future__ import annotations

import datetime as dt

from common.domain.maps.usage import MapsUsage
from common.domain.maps.weather import WeatherUnavailable
from common.foundation.config import load_settings
from common.services.planning.weather import NOT_YET_KNOWN, UNAVAILABLE, WEATHER_FAILED, WEATHER_OFF, trip_weather
from tests.unit.maps.weather_fakes import TODAY, FakeWeatherApi, queries, weather_service


def test_trip_weather_marks_wet_days_and_says_what_is_missing() -> None:
    settings = load_settings()
    asked = queries(1, 2, 12)
    weather = trip_weather(weather_service(FakeWeatherApi()), settings, asked, MapsUsage())
    shown = [weather.forecasts[query.date] for query in asked]
    assert [day.status for day in shown] == ["known", "known", "not_yet_known"]
    assert shown[0].precipitation_probability == 10
    assert weather.wet_dates == []
    assert weather.warnings == []
    assert shown[2].description == NOT_YET_KNOWN

    # The fake's chance of rain is 10 % per day ahead: day 5 reaches the 50 % threshold, day 4 does not.
    wet = trip_weather(weather_service(FakeWeatherApi()), settings, queries(4, 5), MapsUsage())
    assert wet.wet_dates == [TODAY + dt.timedelta(days=5)]
    assert wet.forecasts[TODAY + dt.timedelta(days=5)].wet
    assert not wet.forecasts[TODAY + dt.timedelta(days=4)].wet

    failing = trip_weather(
        weather_service(FakeWeatherApi([WeatherUnavailable(), WeatherUnavailable()])), settings, asked, MapsUsage()
    )
    assert failing.warnings == [WEATHER_FAILED]
    assert {day.status for day in failing.forecasts.values()} == {"unavailable"}
    assert {day.description for day in failing.forecasts.values()} == {UNAVAILABLE}
    off = trip_weather(None, settings, asked, MapsUsage())
    assert off.warnings == [WEATHER_OFF]
