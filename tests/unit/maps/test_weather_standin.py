"""The Weather API stand-in's answers, called in process (no HTTP): the protocol's fields, determinism, the 10-day
horizon, paging, forced weather and refused requests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from scripts.maps_standin import weather_api
from scripts.maps_standin.loader import DEFAULT_CATALOGUE_DIR, Catalogue, LatLng, load_catalogue

KYOTO = {"location.latitude": ["35.0116"], "location.longitude": ["135.7681"]}
NOW = datetime(2026, 12, 5, 0, 0, tzinfo=UTC)  # 09:00 in Kyoto


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(DEFAULT_CATALOGUE_DIR)


def _lookup(
    catalogue: Catalogue, params: dict[str, str] | None = None, forced: list[weather_api.ForcedWeather] | None = None
) -> dict[str, Any]:
    query = {**KYOTO, **{key: [value] for key, value in (params or {}).items()}}
    return weather_api.lookup_days(catalogue, query, NOW, forced or [])


def test_a_page_has_the_documented_fields(catalogue: Catalogue) -> None:
    answer = _lookup(catalogue, {"days": "3"})
    assert answer["timeZone"] == {"id": "Asia/Tokyo"}
    assert "nextPageToken" not in answer
    days = answer["forecastDays"]
    assert isinstance(days, list)
    assert len(days) == 3
    first = days[0]
    assert first["displayDate"] == {"year": 2026, "month": 12, "day": 5}
    assert first["interval"] == {"startTime": "2026-12-04T22:00:00Z", "endTime": "2026-12-05T22:00:00Z"}
    daytime = first["daytimeForecast"]
    assert set(daytime) == {"interval", "weatherCondition", "precipitation"}
    assert set(daytime["weatherCondition"]) == {"iconBaseUri", "description", "type"}
    assert 0 <= daytime["precipitation"]["probability"]["percent"] <= 100
    assert first["maxTemperature"]["unit"] == "CELSIUS"
    assert first["maxTemperature"]["degrees"] > first["minTemperature"]["degrees"]


def test_the_model_is_deterministic_per_place_and_date(catalogue: Catalogue) -> None:
    assert _lookup(catalogue) == _lookup(catalogue)
    rome = weather_api.lookup_days(catalogue, {"location.latitude": ["41.9"], "location.longitude": ["12.5"]}, NOW, [])
    assert rome["timeZone"] == {"id": "Europe/Rome"}
    assert rome["forecastDays"] != _lookup(catalogue)["forecastDays"]


def test_paging_reaches_ten_days_and_no_further(catalogue: Catalogue) -> None:
    first = _lookup(catalogue)
    assert len(first["forecastDays"]) == weather_api.DEFAULT_PAGE_SIZE
    second = _lookup(catalogue, {"pageToken": str(first["nextPageToken"])})
    assert "nextPageToken" not in second
    dates = [day["displayDate"] for day in [*first["forecastDays"], *second["forecastDays"]]]
    assert len(dates) == weather_api.HORIZON_DAYS
    assert dates[-1] == {"year": 2026, "month": 12, "day": 14}


def test_forced_weather_wins_near_the_place_and_date(catalogue: Catalogue) -> None:
    rain_day = date(2026, 12, 7)
    forced = [
        weather_api.ForcedWeather(day=rain_day, location=LatLng(35.0, 135.76), kind="dry"),
        weather_api.ForcedWeather(day=rain_day, location=LatLng(35.0, 135.76), kind="rain"),
    ]
    days = _lookup(catalogue, {"days": "5", "pageSize": "5"}, forced)["forecastDays"]
    rainy = days[(rain_day - date(2026, 12, 5)).days]["daytimeForecast"]
    assert rainy["precipitation"]["probability"]["percent"] == weather_api.FORCED["rain"]
    assert rainy["weatherCondition"]["type"] == "HEAVY_RAIN"
    far = weather_api.lookup_days(
        catalogue, {"location.latitude": ["41.9"], "location.longitude": ["12.5"]}, NOW, forced
    )
    assert far == weather_api.lookup_days(
        catalogue, {"location.latitude": ["41.9"], "location.longitude": ["12.5"]}, NOW, []
    )


def test_imperial_units(catalogue: Catalogue) -> None:
    day = _lookup(catalogue, {"unitsSystem": "IMPERIAL", "days": "1"})["forecastDays"][0]
    assert day["maxTemperature"]["unit"] == "FAHRENHEIT"
    assert day["daytimeForecast"]["precipitation"]["qpf"]["unit"] == "INCHES"


@pytest.mark.parametrize(
    "params",
    [{"days": "11"}, {"days": "0"}, {"pageSize": "x"}, {"pageToken": "bad"}, {"unitsSystem": "KELVIN"}],
)
def test_refused_requests(catalogue: Catalogue, params: dict[str, str]) -> None:
    with pytest.raises(weather_api.WeatherError):
        _lookup(catalogue, params)
    with pytest.raises(weather_api.WeatherError):
        weather_api.lookup_days(catalogue, {"location.latitude": ["91"], "location.longitude": ["0"]}, NOW, [])
