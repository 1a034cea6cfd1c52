"""The Weather API stand-in's answers, called in process: the protocol's fields, determinism, the 10-day horizon,
paging, forced weather and refused requests; and its admin hook over HTTP (a stand-in served on a thread)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from scripts.maps_standin import weather_api
from scripts.maps_standin.loader import DEFAULT_CATALOGUE_DIR, Catalogue, LatLng, load_catalogue
from scripts.maps_standin.server import Faults, StandinServer, StandinState, start_in_thread

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


@pytest.fixture
def server(catalogue: Catalogue) -> Iterator[str]:
    standin = StandinServer(("127.0.0.1", 0), StandinState(catalogue, Faults(), now=NOW))
    start_in_thread(standin)
    try:
        yield standin.url
    finally:
        standin.shutdown()
        standin.server_close()


def _call(url: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_admin_hook_forces_weather_and_failures_over_http(server: str) -> None:
    lookup = f"{server}/v1/forecast/days:lookup?key=k&location.latitude=35.01&location.longitude=135.77&days=2"
    status, answer = _call(lookup)
    assert status == 200
    assert len(answer["forecastDays"]) == 2
    assert _call(f"{server}/v1/forecast/days:lookup?location.latitude=35&location.longitude=135")[0] == 403  # no key

    force = {"date": "2026-12-06", "latitude": 35.0, "longitude": 135.76, "kind": "rain"}
    status, overrides = _call(f"{server}/__admin/weather", {"force": force, "fail": True})
    assert status == 200
    assert overrides == {"fail": True, "forced": [force]}
    status, error = _call(lookup)
    assert status == 503
    assert error["error"]["status"] == "UNAVAILABLE"
    _call(f"{server}/__admin/weather", {"fail": False})
    second = _call(lookup)[1]["forecastDays"][1]["daytimeForecast"]
    assert second["precipitation"]["probability"]["percent"] == weather_api.FORCED["rain"]
    assert _call(f"{server}/__admin/calls")[1]["calls"]["lookup_forecast_days"] == 4

    for bad in (
        {"forced": force},
        {"fail": "yes"},
        {"force": {"date": "tomorrow"}},
        {"force": {**force, "kind": "snow"}},
    ):
        assert _call(f"{server}/__admin/weather", bad)[0] == 400
    assert _call(f"{server}/__admin/weather", {"clear": True})[1] == {"fail": False, "forced": []}
    _call(f"{server}/__admin/weather", {"force": force, "fail": True})
    _call(f"{server}/__admin/reset", {})
    assert _call(f"{server}/__admin/weather")[1] == {"fail": False, "forced": []}
