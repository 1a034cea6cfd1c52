"""Weather-aware days (issue 16): ``plan_new_trip`` and ``replan_day`` in process, with the real Weather API client
speaking REST to the stack's Maps stand-in (which serves ``forecast/days:lookup``), the real Maps clients and the
Firestore stand-in (the forecast's L2 cache)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from google.cloud import firestore

from common.domain.ai import build_planner
from common.domain.maps import MapsConfig, MapsService, build_places_client, build_routes_client
from common.domain.maps.factory import build_weather_service
from common.domain.maps.weather import RestWeatherApi, WeatherService
from common.foundation.collection_names import WEATHER_CACHE
from common.foundation.config import Settings
from common.services.planning.replan import replan_day
from common.services.planning.service import PlanningDeps, plan_new_trip
from common.services.planning.weather import WEATHER_FAILED, WEATHER_OFF
from common.services.trips import store
from tests.integration.in_process import InProcessFunctions
from tests.integration.maps.support import maps_admin, planning_settings
from tests.integration.support import module_env, sign_up

KYOTO = (35.0116, 135.7681)
TODAY = dt.datetime.now(dt.UTC).date()
START = TODAY + dt.timedelta(days=2)
OUTDOOR_MUST = "Arashiyama Bamboo Grove"
INDOOR_MUST = "Kyoto National Museum"


@pytest.fixture(autouse=True)
def clean_standin(stack: dict[str, str]) -> Iterator[None]:
    maps_admin(stack, "reset", {})
    yield
    maps_admin(stack, "reset", {})


@pytest.fixture(scope="module")
def settings(stack: dict[str, str], firestore_project: str) -> Settings:
    return planning_settings(stack, firestore_project)


def _deps(
    settings: Settings,
    client: firestore.Client,
    weather: WeatherService | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> PlanningDeps:
    maps = MapsService(
        MapsConfig.from_settings(settings), build_places_client(settings), build_routes_client(settings), client
    )
    extra: dict[str, Any] = {"clock": clock} if clock else {}
    return PlanningDeps(
        settings=settings,
        firestore=client,
        maps=maps,
        planner=build_planner(settings),
        weather=weather if weather is not None else build_weather_service(settings, client),
        **extra,
    )


def _force(stack: dict[str, str], start: dt.date, days: int, rainy: int | None) -> None:
    for offset in range(days):
        kind = "rain" if offset == rainy else "dry"
        date = (start + dt.timedelta(days=offset)).isoformat()
        force = {"date": date, "latitude": KYOTO[0], "longitude": KYOTO[1], "kind": kind}
        maps_admin(stack, "weather", {"force": force})


def _body(start: dt.date = START, days: int = 4, must: list[str] | None = None) -> dict[str, Any]:
    return {
        "destination": "Kyoto",
        "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=days - 1)).isoformat(),
        "interests": ["parks", "gardens", "museums", "food"],
        "must_include": must if must is not None else [],
    }


def _weather_calls(stack: dict[str, str]) -> int:
    return int(maps_admin(stack, "calls")["calls"]["lookup_forecast_days"])


def _outdoor_share(stops: list[dict[str, Any]]) -> float:
    return sum(1 for stop in stops if stop["outdoor"]) / len(stops) if stops else 0.0


def test_rain_forced_on_one_day_moves_outdoor_stops_off_it_and_keeps_every_must_include(
    stack: dict[str, str], settings: Settings, firestore_client: firestore.Client
) -> None:
    rainy = 1
    _force(stack, START, 4, rainy)
    trip = plan_new_trip("wx-1", _body(must=[OUTDOOR_MUST, INDOOR_MUST]), _deps(settings, firestore_client))
    assert trip["status"] == "ready"
    days = trip["days"]
    forecasts = [day["forecast"] for day in days]
    assert [forecast["status"] for forecast in forecasts] == ["known"] * 4
    assert [forecast["wet"] for forecast in forecasts] == [index == rainy for index in range(4)]
    assert forecasts[rainy]["condition"] == "HEAVY_RAIN"
    assert forecasts[rainy]["precipitation_probability"] >= 90
    assert all(forecast["high_c"] is not None and forecast["low_c"] is not None for forecast in forecasts)

    stops = [stop for day in days for stop in day["stops"]]
    average = _outdoor_share(stops)
    assert average > 0.1  # parks and gardens were asked for: the trip has outdoor stops to move
    assert _outdoor_share(days[rainy]["stops"]) <= average / 3
    names = {stop["name"] for stop in stops}
    assert {OUTDOOR_MUST, INDOOR_MUST} <= names
    assert not [item for item in trip["dropped"] if item["name"] in (OUTDOOR_MUST, INDOOR_MUST)]

    # What moved is said on the rainy day, and each moved stop is outdoor and on the dry day named.
    moved = forecasts[rainy]["moved"]
    assert moved
    for message in moved:
        name, _, weekday = message.removesuffix(" for drier weather").rpartition(" moved to ")
        (stop_day,) = [day for day in days if any(stop["name"] == name for stop in day["stops"])]
        assert dt.date.fromisoformat(stop_day["date"]).strftime("%a") == weekday
        assert not stop_day["forecast"]["wet"]
        assert next(stop for stop in stop_day["stops"] if stop["name"] == name)["outdoor"] is True
    assert all(not forecast["moved"] for index, forecast in enumerate(forecasts) if index != rainy)


def test_plan_trip_as_deployed_shows_each_days_forecast(
    in_process: InProcessFunctions, http: requests.Session, stack: dict[str, str], firestore_project: str
) -> None:
    """The function's own dependencies (WEATHER_API_ENDPOINT of the stack, the process's HTTP session)."""
    start = START + dt.timedelta(days=3)
    _force(stack, start, 2, 1)
    # Its own Firestore project: its forecast cache is not the other tests' (their forced weather differs).
    plan_url = in_process.serve("plan_trip", module_env(stack, f"{firestore_project}-served"))
    user = sign_up(stack)
    response = http.post(plan_url, json=_body(start=start, days=2), headers=user.headers, timeout=120)
    assert response.status_code == 201, response.text
    forecasts = [day["forecast"] for day in response.json()["days"]]
    assert [(forecast["status"], forecast["wet"]) for forecast in forecasts] == [("known", False), ("known", True)]
    assert forecasts[1]["description"] == "Heavy rain"


def test_a_second_plan_reads_the_forecast_from_the_cache(
    stack: dict[str, str], settings: Settings, firestore_client: firestore.Client
) -> None:
    start = START + dt.timedelta(days=4)  # dates no other test of the module caches
    _force(stack, start, 4, 2)
    weather = build_weather_service(settings, firestore_client)
    before = _weather_calls(stack)
    first = plan_new_trip("wx-2", _body(start), _deps(settings, firestore_client, weather))
    assert _weather_calls(stack) == before + 1  # one lookup (one page of up to 10 days) for the four days
    again = plan_new_trip("wx-3", _body(start), _deps(settings, firestore_client, weather))  # the same instance: L1
    fresh = plan_new_trip("wx-4", _body(start), _deps(settings, firestore_client))  # a new instance: Firestore L2
    assert _weather_calls(stack) == before + 1
    assert [day["forecast"] for day in again["days"]] == [day["forecast"] for day in first["days"]]
    assert [day["forecast"] for day in fresh["days"]] == [day["forecast"] for day in first["days"]]
    cached = [doc for doc in firestore_client.collection(WEATHER_CACHE).stream()]
    assert cached
    assert all("expire_at" in (doc.to_dict() or {}) for doc in cached)
    expire_at = (cached[0].to_dict() or {})["expire_at"]
    assert expire_at - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=settings.weather_cache_hours)


def test_a_failing_weather_api_leaves_the_plan_ready_with_a_warning(
    stack: dict[str, str], settings: Settings, firestore_client: firestore.Client
) -> None:
    maps_admin(stack, "weather", {"fail": True})
    before = _weather_calls(stack)
    no_cache = build_weather_service(settings, None)
    trip = plan_new_trip("wx-5", _body(), _deps(settings, firestore_client, no_cache))
    assert trip["status"] == "ready"
    assert WEATHER_FAILED in trip["warnings"]
    assert {day["forecast"]["status"] for day in trip["days"]} == {"unavailable"}
    assert all(day["stops"] for day in trip["days"])
    assert _weather_calls(stack) == before + 2  # one retry, then planning goes on without it


def test_weather_switched_off_is_said(
    stack: dict[str, str], settings: Settings, firestore_client: firestore.Client
) -> None:
    off = settings.model_copy(update={"weather_api_enabled": False})
    before = _weather_calls(stack)
    trip = plan_new_trip("wx-6", _body(), _deps(off, firestore_client))
    assert trip["status"] == "ready"
    assert WEATHER_OFF in trip["warnings"]
    assert {day["forecast"]["status"] for day in trip["days"]} == {"unavailable"}
    assert _weather_calls(stack) == before


def test_days_beyond_the_horizon_are_not_yet_known_and_a_replan_nearer_the_date_picks_the_forecast_up(
    stack: dict[str, str], settings: Settings, firestore_client: firestore.Client
) -> None:
    start = TODAY + dt.timedelta(days=12)
    before = _weather_calls(stack)
    trip = plan_new_trip("wx-7", _body(start=start, days=2), _deps(settings, firestore_client))
    assert [day["forecast"]["status"] for day in trip["days"]] == ["not_yet_known", "not_yet_known"]
    assert all("not yet known" in day["forecast"]["description"] for day in trip["days"])
    assert _weather_calls(stack) == before  # nothing to ask for

    # Eight days later the first day is within the horizon: re-planning it fetches its forecast.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=8)
    maps_admin(stack, "clock", {"now": later.isoformat()})
    _force(stack, start, 1, 0)
    api = RestWeatherApi(requests.Session(), stack["WEATHER_API_ENDPOINT"], stack["GOOGLE_MAPS_API_KEY"], 5.0)
    weather = WeatherService(api, cache_seconds=3600, clock=lambda: later.timestamp())  # an instance on that clock
    deps = _deps(settings, firestore_client, weather, clock=lambda: later)
    stored = store.read_trip(firestore_client, trip["id"])
    assert stored is not None
    replanned = replan_day(deps, stored, "wx-7", 1, None)
    first = replanned.days[0].forecast
    assert first is not None
    assert first.status == "known"
    assert first.wet
    assert first.condition == "HEAVY_RAIN"
    assert replanned.days[1].forecast is not None
    assert replanned.days[1].forecast.status == "not_yet_known"
    assert _weather_calls(stack) == before + 1
