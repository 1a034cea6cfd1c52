"""Weather-aware days (issue 16): how far rain on one day moves outdoor stops off it, and what weather costs.

Run from the repo root: ``.venv/bin/python -m bench.weather_bench [--cities Kyoto,Paris]``. Starts a private
Firestore stand-in and a private Maps stand-in (which serves the Weather API), and plans, with the offline planner,
a 4-day trip per city starting in two days, asking for parks, gardens, viewpoints, museums and food, with two
must-includes (the city's best rated outdoor place and its best rated museum):

- dry: every day forced dry (the same plan as without weather);
- rain: rain forced on day 2 (the others dry).

Per city: the share of outdoor stops (meals included in the count of stops) on day 2 in both plans, the trip's
average share in the rain plan, the ratio (the target: at most a third), must-includes kept, stops moved by the
weather, Weather API requests per plan (cold, then a second plan on the cached forecast) and the Weather API's
cost per plan at the price of ``bench.plan_bench.PRICES``. Writes ``bench/out/weather.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import uuid
from pathlib import Path
from typing import Any

OUTPUT_PATH = Path(__file__).resolve().parent / "out" / "weather.json"
CITIES = ("Kyoto", "Paris", "Rome", "London", "Barcelona", "Tokyo", "Sydney", "New York")
DAYS = 4
RAINY_DAY = 1  # the second day
INTERESTS = ["parks", "gardens", "viewpoints", "museums", "food"]


def _must_includes(city: str) -> list[str]:
    """The city's best rated outdoor place and best rated museum in the stand-in's catalogue."""
    from common.domain.maps.exposure import exposure_for_types
    from scripts.maps_standin.loader import load_catalogue

    catalogue = load_catalogue()
    (city_id,) = [key for key, known in catalogue.cities.items() if known.name == city]
    places = sorted(catalogue.places_of(city_id), key=lambda place: -(place.user_rating_count or 0))
    outdoor = next(place for place in places if exposure_for_types(None, place.types) == "outdoor")
    museum = next(place for place in places if exposure_for_types(None, place.types) == "indoor")
    return [place.names.in_language("en")[0] for place in (outdoor, museum)]


def _share(stops: list[dict[str, Any]]) -> float:
    return sum(1 for stop in stops if stop["outdoor"]) / len(stops) if stops else 0.0


def _force(endpoint: str, centre: tuple[float, float], start: dt.date, rainy: int | None) -> None:
    from tests.proof.support import maps_admin

    maps_admin(endpoint, "weather", {"clear": True})
    for offset in range(DAYS):
        force = {
            "date": (start + dt.timedelta(days=offset)).isoformat(),
            "latitude": centre[0],
            "longitude": centre[1],
            "kind": "rain" if offset == rainy else "dry",
        }
        maps_admin(endpoint, "weather", {"force": force})


def _weather_calls(endpoint: str) -> int:
    from tests.proof.support import maps_admin

    return int(maps_admin(endpoint, "calls")["calls"]["lookup_forecast_days"])


def _deps(endpoint: str, project: str) -> Any:
    from google.cloud import firestore

    from common.domain.ai import build_planner
    from common.domain.maps import MapsConfig, MapsService, build_places_client, build_routes_client
    from common.domain.maps.factory import build_weather_service
    from common.foundation.config import load_settings
    from common.services.planning.service import PlanningDeps

    settings = load_settings(
        google_cloud_project=project,
        maps_api_endpoint=endpoint,
        weather_api_endpoint=endpoint,
        google_maps_api_key="bench-maps-key",
        plan_rate_per_minute=100_000,
        plan_rate_per_day=100_000,
        max_sessions_per_user=1_000,
    )
    client = firestore.Client(project=project)
    maps = MapsService(
        MapsConfig.from_settings(settings), build_places_client(settings), build_routes_client(settings), client
    )
    return PlanningDeps(
        settings=settings,
        firestore=client,
        maps=maps,
        planner=build_planner(settings),
        weather=build_weather_service(settings, client),
    )


def run_city(endpoint: str, city: str, index: int) -> dict[str, Any]:
    from common.services.planning.service import plan_new_trip
    from scripts.maps_standin.loader import load_catalogue

    catalogue = load_catalogue()
    (known,) = [entry for entry in catalogue.cities.values() if entry.name == city]
    start = dt.date.today() + dt.timedelta(days=2 + index % 4)
    must = _must_includes(city)
    body = {
        "destination": city,
        "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=DAYS - 1)).isoformat(),
        "interests": INTERESTS,
        "must_include": must,
    }
    plans: dict[str, dict[str, Any]] = {}
    calls: dict[str, int] = {}
    for label, rainy in (("dry", None), ("rain", RAINY_DAY)):
        _force(endpoint, (known.center.lat, known.center.lng), start, rainy)
        deps = _deps(endpoint, f"bench-weather-{uuid.uuid4().hex[:6]}")  # a fresh cache: the forced weather counts
        before = _weather_calls(endpoint)
        plans[label] = plan_new_trip(f"weather-{label}-{index}", body, deps)
        calls[label] = _weather_calls(endpoint) - before
        if label == "rain":
            before = _weather_calls(endpoint)
            plan_new_trip(f"weather-again-{index}", body, deps)
            calls["cached"] = _weather_calls(endpoint) - before
    rain, dry = plans["rain"], plans["dry"]
    stops = [stop for day in rain["days"] for stop in day["stops"]]
    names = {stop["name"] for stop in stops}
    average = _share(stops)
    rainy_share = _share(rain["days"][RAINY_DAY]["stops"])
    return {
        "city": city,
        "start": start.isoformat(),
        "must_include": must,
        "must_kept": sum(1 for name in must if name in names),
        "dry_day2_share": round(_share(dry["days"][RAINY_DAY]["stops"]), 3),
        "rain_day2_share": round(rainy_share, 3),
        "rain_trip_share": round(average, 3),
        "ratio": round(rainy_share / average, 3) if average else None,
        "rainy_day_stops": len(rain["days"][RAINY_DAY]["stops"]),
        "outdoor_on_rainy_day": [stop["name"] for stop in rain["days"][RAINY_DAY]["stops"] if stop["outdoor"]],
        "stops_dry": sum(len(day["stops"]) for day in dry["days"]),
        "stops_rain": len(stops),
        "moved": [message for day in rain["days"] for message in day["forecast"]["moved"]],
        "weather_requests": calls,
        "warnings": [warning for warning in rain["warnings"] if "weather" in warning.lower()],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cities", default=",".join(CITIES))
    parser.add_argument("--output", type=Path, default=OUTPUT_PATH)
    arguments = parser.parse_args()
    cities = [city.strip() for city in arguments.cities.split(",") if city.strip()]

    from bench.plan_bench import PRICES
    from bench.standins import private_standins

    with private_standins() as endpoint:
        rows = [run_city(endpoint, city, index) for index, city in enumerate(cities)]

    print(
        f"\n{'city':<10} {'day2 dry':>8} {'day2 rain':>9} {'trip avg':>8} {'ratio':>6} {'stops d/r':>9} "
        f"{'must':>4} {'moved':>5} {'wx req':>6} {'cached':>6}"
    )
    for row in rows:
        print(
            f"{row['city']:<10} {row['dry_day2_share']:>8} {row['rain_day2_share']:>9} {row['rain_trip_share']:>8} "
            f"{row['ratio']!s:>6} {row['stops_dry']:>4}/{row['stops_rain']:<4} "
            f"{row['must_kept']}/{len(row['must_include'])} {len(row['moved']):>5} "
            f"{row['weather_requests']['rain']:>6} {row['weather_requests']['cached']:>6}"
        )
    kept, asked = sum(row["must_kept"] for row in rows), sum(len(row["must_include"]) for row in rows)
    weather_usd_per_1000 = float(PRICES["lookup_forecast_days"]["usd_per_1000"])
    ratios = [row["ratio"] for row in rows if row["ratio"] is not None]
    requests_per_plan = statistics.fmean(row["weather_requests"]["rain"] for row in rows) if rows else 0.0
    summary = {
        "cities": len(rows),
        "days": DAYS,
        "rainy_day": RAINY_DAY + 1,
        "max_ratio": max(ratios, default=None),
        "mean_ratio": round(statistics.fmean(ratios), 3) if ratios else None,
        "cities_within_a_third": sum(1 for ratio in ratios if ratio <= 1 / 3),
        "mean_dry_day2_share": round(statistics.fmean(row["dry_day2_share"] for row in rows), 3) if rows else None,
        "mean_rain_day2_share": round(statistics.fmean(row["rain_day2_share"] for row in rows), 3) if rows else None,
        "must_includes_kept": f"{kept}/{asked}",
        "weather_requests_per_plan": round(requests_per_plan, 2),
        "weather_requests_per_cached_plan": round(
            statistics.fmean(row["weather_requests"]["cached"] for row in rows), 2
        )
        if rows
        else None,
        "weather_usd_per_1000_plans": round(requests_per_plan * weather_usd_per_1000, 3),
        "weather_usd_per_1000_requests": weather_usd_per_1000,
    }
    print()
    for key, value in summary.items():
        print(f"{key:<34} {value}")
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps({"summary": summary, "rows": rows}, indent=2), encoding="utf-8")
    print(f"wrote {arguments.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
