"""Maps work and latency per plan, cold and warm, through ``plan_new_trip`` in this process (not a test).

Run from the repo root: ``.venv/bin/python -m bench.plan_bench [--days 7] [--cities Paris,Rome] [--plain-travel]``.
Starts a private Firestore stand-in and a private zero-latency Maps stand-in (its counters are the billing truth:
calls per operation and route-matrix elements), with road variation on unless ``--plain-travel`` (real legs differ
from any straight-line estimate), plans one trip per catalogue city with the offline planner, three passes:

- cold: a new Maps service and an empty Firestore (no L1, no L2);
- warm L1: the same service again (in-process cache of a warm instance);
- warm L2: a new service (a new instance: empty L1) on the same Firestore (the shared cache).

Prints a table and writes ``bench/out/plan.json`` (per pass: calls and elements per plan, USD per plan, cache
documents created, stops per day, failed plans, cache hit ratio, latency, estimated Google cost per 1,000 plans with
the price table in ``PRICES``).

``--quality`` instead plans ``QUALITY_REQUESTS`` mixed requests (every catalogue city, 1-10 days, each pace, several
interest sets) once and measures the days as a traveller lives them: lunch and dinner per day, idle gaps between
stops (waiting beyond the travel time) and whether a day warning explains them, when the day ends, and compactness
(mean distance of a day's stops from their centre, against the same stops split by a balanced geographic
clustering, ``common.domain.itinerary.clusters``). Writes ``bench/out/plan_quality.json``.

The quality pass also reads each day's route as a traveller would (``--quality --print-plans`` prints every plan):

- late start: the day leaves (first stop's arrival minus its leg) more than ``LATE_START_MINUTES`` after the pace's
  day window start, and the first stop did not simply wait for its opening (arrival within ``OPENING_SLACK_MINUTES``
  of its opening that day, from the stand-in catalogue's hours) nor for a wait a day warning explains;
- travel minutes per day (the API's ``travel_min``): median and p90;
- back-and-forth: the straight-line length (km) of the day's stops in planned order against the shortest open path
  through the same stops found by nearest neighbour from every stop then 2-opt (ignoring hours and meal times, so a
  ratio over ``BACKTRACK_RATIO`` means the day crosses town and comes back, or its stops need not be on one day);
  and the longest single leg (minutes): p90 and days with a leg over ``LONG_LEG_MINUTES``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

OUTPUT_PATH = Path(__file__).resolve().parent / "out" / "plan.json"
QUALITY_OUTPUT_PATH = Path(__file__).resolve().parent / "out" / "plan_quality.json"
QUALITY_REQUESTS = 24
IDLE_GAP_MINUTES = 60  # the target: at most 2% of days with an unexplained gap over this
IDLE_GAP_RULE_MINUTES = 45  # the validator's rule: a gap over this needs a warning
INTEREST_SETS: tuple[list[str], ...] = (
    ["museums", "food", "parks"],
    ["temples", "markets"],
    ["art", "viewpoints", "nightlife"],
    ["history", "neighbourhoods", "food"],
    [],
    ["parks", "viewpoints"],
)
PACES = ("relaxed", "moderate", "packed")
TRANSPORTS = ("walk", "transit")
LUNCH_WINDOW = (11 * 60 + 30, 14 * 60 + 30)  # the engine's default meal windows
DINNER_WINDOW = (18 * 60, 21 * 60 + 30)
EVENING_FROM = 19 * 60
DUSK_FROM = 18 * 60  # a park, a garden or a beach left after this (the dinner window opens) is left in the dark
MEAL_FAR_KM = 1.5  # a meal farther than this from both neighbouring stops is a trip across town
LATE_START_MINUTES = 45  # a day leaving later than this after its window start needs a reason
OPENING_SLACK_MINUTES = 15  # a first stop reached this soon after it opens waited for its opening
BACKTRACK_RATIO = 1.5  # planned path km over the shortest open path of the same stops
LONG_LEG_MINUTES = 40
CATALOGUE_DIR = Path(__file__).resolve().parent.parent / "scripts" / "maps_standin" / "catalogue"
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # by ``date.weekday()``
CITIES = (
    "Bangkok",
    "Barcelona",
    "Istanbul",
    "Kyoto",
    "London",
    "Mexico City",
    "New York",
    "Paris",
    "Rome",
    "San Francisco",
    "Sydney",
    "Tokyo",
)

# USD list prices, first volume tier (0-100k a month), Google Maps Platform pricing after the March 2025 SKU change,
# and Gemini on Vertex AI. From the published price lists as known to the author in 2025; this machine has no network
# to re-check them: verify at https://developers.google.com/maps/billing-and-pricing/pricing and
# https://cloud.google.com/vertex-ai/generative-ai/pricing before relying on the totals.
PRICES_AS_OF = "2025 list prices (first tier), not re-checked online"
PRICES: dict[str, dict[str, Any]] = {
    "search_text": {
        "sku": "Places API Text Search Enterprise (our search mask asks for rating, priceLevel, regularOpeningHours; "
        "the destination lookup alone would be Text Search Pro, 32 USD)",
        "usd_per_1000": 35.0,
        "unit": "request",
    },
    "get_place": {
        "sku": "Places API Place Details Enterprise + Atmosphere (editorialSummary, servesVegetarianFood)",
        "usd_per_1000": 25.0,
        "unit": "request",
    },
    "matrix_elements": {
        "sku": "Routes: Compute Route Matrix Essentials (TRAFFIC_UNAWARE), per element",
        "usd_per_1000": 5.0,
        "unit": "element",
    },
    "compute_routes": {"sku": "Routes: Compute Routes Essentials", "usd_per_1000": 5.0, "unit": "request"},
    "lookup_forecast_days": {
        "sku": "Weather API: Weather Usage Essentials (forecast/days:lookup; price as recalled, not verified)",
        "usd_per_1000": 0.15,
        "unit": "request",
    },
    "gemini_input_tokens": {
        "sku": "Gemini 2.5 Flash input (stand-in price for the configured GEMINI_MODEL: not verified)",
        "usd_per_1000": 0.30 / 1000,
        "unit": "token",
    },
    "gemini_output_tokens": {
        "sku": "Gemini 2.5 Flash output, thinking tokens included (same caveat)",
        "usd_per_1000": 2.50 / 1000,
        "unit": "token",
    },
}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else 0.0


def cost_per_1000_plans(per_plan: dict[str, float]) -> float:
    """USD for 1,000 plans with ``per_plan`` counts (keys of ``PRICES``)."""
    total = sum(per_plan.get(key, 0.0) * float(price["usd_per_1000"]) for key, price in PRICES.items())
    return round(total, 2)


def _admin_calls(endpoint: str) -> dict[str, Any]:
    import urllib.request

    with urllib.request.urlopen(f"{endpoint}/__admin/calls", timeout=5) as response:
        return dict(json.loads(response.read()))


def _delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    calls = {op: after["calls"].get(op, 0) - before["calls"].get(op, 0) for op in after["calls"]}
    calls["matrix_elements"] = after["elements"] - before["elements"]
    return calls


def _set_road_variation(endpoint: str, on: bool) -> None:
    import urllib.request

    request = urllib.request.Request(
        f"{endpoint}/__admin/travel",
        data=json.dumps({"road_variation": on}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5):
        pass


def usd_per_plan(upstream: dict[str, Any]) -> float:
    """What one plan's upstream calls cost at ``PRICES`` (Maps only)."""
    return cost_per_1000_plans({key: float(value) for key, value in upstream.items()}) / 1000


CACHE_COLLECTIONS = ("maps_route_cache", "maps_search_cache", "places_cache")


def _cache_documents(deps: Any) -> int:
    """Documents in the Maps cache collections (the L2 writes of the plans so far)."""
    client = deps.firestore
    return sum(sum(1 for _ in client.collection(name).select([]).stream()) for name in CACHE_COLLECTIONS)


def run_pass(
    label: str, deps: Any, endpoint: str, days: int, user_prefix: str, cities: tuple[str, ...] = CITIES
) -> dict[str, Any]:
    from common.services.planning.service import plan_new_trip

    start = dt.date.today() + dt.timedelta(days=45)
    rows = []
    failures: list[dict[str, str]] = []
    for index, city in enumerate(cities):
        body = {
            "destination": city,
            "start_date": start.isoformat(),
            "end_date": (start + dt.timedelta(days=days - 1)).isoformat(),
            "travelers": 2,
            "interests": ["museums", "food", "parks"],
        }
        before = _admin_calls(endpoint)
        documents_before = _cache_documents(deps)
        started = time.perf_counter()
        try:
            trip = plan_new_trip(f"{user_prefix}-{index}", body, deps)
        except Exception as error:  # a plan the validator refuses on its real legs is stored failed and raised
            failures.append({"city": city, "error": f"{type(error).__name__}: {error}"[:200]})
            print(f"{label}: {city} failed: {failures[-1]['error']}")
            continue
        seconds = time.perf_counter() - started
        upstream = _delta(before, _admin_calls(endpoint))
        new_documents = _cache_documents(deps) - documents_before
        planner = trip["planner"]
        rows.append(
            {
                "city": city,
                "seconds": round(seconds, 3),
                "usd": round(usd_per_plan(upstream), 4),
                "cache_documents_created": new_documents,
                "stops_per_day": round(sum(len(day["stops"]) for day in trip["days"]) / len(trip["days"]), 2),
                "upstream": upstream,
                "cache_hits": planner["cache_hits"],
                "maps_calls": planner["maps_calls"],
                "tokens": planner["tokens"],
                "stops": sum(len(day["stops"]) for day in trip["days"]),
            }
        )
    plans = max(1, len(rows))
    per_plan = {
        key: round(sum(row["upstream"].get(key, 0) for row in rows) / plans, 2)
        for key in (
            "search_text",
            "get_place",
            "compute_route_matrix",
            "compute_routes",
            "matrix_elements",
            "lookup_forecast_days",
        )
    }
    per_plan["gemini_input_tokens"] = sum(row["tokens"]["prompt"] for row in rows) / plans
    per_plan["gemini_output_tokens"] = (
        sum(row["tokens"]["output"] + row["tokens"].get("thinking", 0) for row in rows) / plans
    )
    calls = sum(row["maps_calls"] for row in rows)
    hits = sum(row["cache_hits"] for row in rows)
    latencies: list[float] = [row["seconds"] for row in rows]
    return {
        "pass": label,
        "plans": plans,
        "days_per_trip": days,
        "per_plan": per_plan,
        "upstream_calls_per_plan": round(calls / plans, 2),
        "cache_hit_ratio": round(hits / (hits + calls), 3) if hits + calls else 0.0,
        "latency_s": {
            "p50": round(percentile(latencies, 0.5), 3),
            "p95": round(percentile(latencies, 0.95), 3),
            "max": round(max(latencies), 3),
            "mean": round(statistics.fmean(latencies), 3),
        },
        "usd_per_1000_plans": cost_per_1000_plans(per_plan),
        "failed_plans": failures,
        "cache_documents_created_per_plan": round(sum(row["cache_documents_created"] for row in rows) / plans, 2),
        "stops_per_day": round(statistics.fmean(row["stops_per_day"] for row in rows), 2),
        "usd_per_plan": {
            "mean": round(cost_per_1000_plans(per_plan) / 1000, 4),
            "max": max((row["usd"] for row in rows), default=0.0),
        },
        "rows": rows,
    }


def quality_requests(start: dt.date) -> list[dict[str, Any]]:
    """The fixed mix of the quality pass: city, length (1-10 days), pace, interests and transport vary."""
    requests = []
    for index in range(QUALITY_REQUESTS):
        days = 1 + (index * 3) % 10
        requests.append(
            {
                "destination": CITIES[index % len(CITIES)],
                "start_date": (start + dt.timedelta(days=index)).isoformat(),
                "end_date": (start + dt.timedelta(days=index + days - 1)).isoformat(),
                "travelers": 1 + index % 3,
                "pace": PACES[index % len(PACES)],
                "transport": TRANSPORTS[(index // 3) % len(TRANSPORTS)],
                "interests": INTEREST_SETS[index % len(INTEREST_SETS)],
            }
        )
    return requests


def _minute(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _meal_of(stop: dict[str, Any]) -> str | None:
    """What a traveller reads from a stop: a restaurant (or cafe at lunch time) reached in a meal window is a meal.

    The API's stops carry no meal field, so this reads category and time as a reader of the trip would."""
    category, arrive = stop.get("category"), _minute(stop["arrive"])
    if category not in ("restaurant", "cafe"):
        return None
    if LUNCH_WINDOW[0] <= arrive <= LUNCH_WINDOW[1]:
        return "lunch"
    if category == "restaurant" and DINNER_WINDOW[0] <= arrive <= DINNER_WINDOW[1]:
        return "dinner"
    return None


def catalogue_hours() -> dict[str, Any]:
    """Place id -> the stand-in catalogue's ``hours`` (the opening hours the plans were made with)."""
    hours: dict[str, Any] = {}
    for path in sorted(CATALOGUE_DIR.glob("*.json")):
        for entry in json.loads(path.read_text(encoding="utf-8")).get("places", []):
            hours[entry["id"]] = entry.get("hours")
    return hours


def opening_minutes(hours: Any, date: dt.date) -> list[int]:
    """The minutes a place opens on ``date`` (catalogue ``hours``); [0] when open all day, [] when unknown/closed."""
    if hours == "24h":
        return [0]
    if not isinstance(hours, dict):
        return []
    return [_minute(interval.split("-")[0]) for interval in hours.get(WEEKDAY_KEYS[date.weekday()], [])]


def path_km(points: list[tuple[float, float]]) -> float:
    from common.domain.itinerary.clusters import distance_km

    return sum(distance_km(a, b) for a, b in itertools.pairwise(points))


def shortest_open_path_km(points: list[tuple[float, float]]) -> float:
    """A short open path through ``points`` (any start, any end): nearest neighbour from each point, then 2-opt."""
    from common.domain.itinerary.clusters import distance_km

    best = path_km(points)
    for first in range(len(points)):
        order = [first]
        while len(order) < len(points):
            here = points[order[-1]]
            order.append(
                min((i for i in range(len(points)) if i not in order), key=lambda i: distance_km(here, points[i]))
            )
        length = path_km([points[i] for i in order])
        improved = True
        while improved:
            improved = False
            for low, high in itertools.combinations(range(len(order)), 2):
                trial = order[:low] + order[low : high + 1][::-1] + order[high + 1 :]
                trial_length = path_km([points[i] for i in trial])
                if trial_length < length - 1e-9:
                    order, length, improved = trial, trial_length, True
        best = min(best, length)
    return best


def day_quality(day: dict[str, Any], window_start: int = 0, hours: dict[str, Any] | None = None) -> dict[str, Any]:
    """A traveller's view of one planned day (the API's day shape); ``window_start``: the pace's day window start,
    ``hours``: the catalogue's opening hours by place id (``catalogue_hours``)."""
    from common.domain.itinerary.clusters import distance_km
    from common.domain.itinerary.models import EVENING_CATEGORIES

    stops = day["stops"]
    meal_of = [_meal_of(stop) for stop in stops]
    meals = sorted(meal for meal in meal_of if meal)
    gaps = []
    for previous, stop in itertools.pairwise(stops):
        leg = stop.get("travel_from_previous") or {}
        idle = _minute(stop["arrive"]) - _minute(previous["depart"]) - int(leg.get("duration_min") or 0)
        if idle > 0:
            gaps.append(idle)
    explained = any("wait" in warning for warning in day.get("warnings", []))
    meal_hops = []  # km from each meal to the nearer of the stops before and after it
    for index, meal in enumerate(meal_of):
        if meal is None or not stops[index].get("location"):
            continue
        here = (stops[index]["location"]["lat"], stops[index]["location"]["lng"])
        hops = [
            distance_km(here, (stops[other]["location"]["lat"], stops[other]["location"]["lng"]))
            for other in (index - 1, index + 1)
            if 0 <= other < len(stops) and stops[other].get("location")
        ]
        if hops:
            meal_hops.append(round(min(hops), 3))
    points = [(stop["location"]["lat"], stop["location"]["lng"]) for stop in stops if stop.get("location")]
    late_start = None  # minutes after the window start the day leaves, when that is late and unexplained
    if stops:
        first = stops[0]
        leaves = _minute(first["arrive"]) - int((first.get("travel_from_previous") or {}).get("duration_min") or 0)
        date = dt.date.fromisoformat(day["date"])
        opens = opening_minutes((hours or {}).get(first.get("place_id") or ""), date)
        waited_for_opening = any(0 <= _minute(first["arrive"]) - minute <= OPENING_SLACK_MINUTES for minute in opens)
        warned = any("wait" in warning and first["name"] in warning for warning in day.get("warnings", []))
        if leaves - window_start > LATE_START_MINUTES and not waited_for_opening and not warned:
            late_start = leaves - window_start
    legs = [int((stop.get("travel_from_previous") or {}).get("duration_min") or 0) for stop in stops]
    shortest = shortest_open_path_km(points) if len(points) >= 3 else 0.0
    return {
        "late_start_min": late_start,
        "first_arrive": stops[0]["arrive"] if stops else None,
        "travel_min": day.get("travel_min", sum(legs)),
        "longest_leg_min": max(legs[1:], default=0),
        "backtrack_ratio": round(path_km(points) / shortest, 3) if shortest > 0 else None,
        "date": day["date"],
        "stops": len(stops),
        "sights": sum(1 for meal in meal_of if meal is None),
        "evening_sights": sum(
            1
            for stop, meal in zip(stops, meal_of, strict=True)
            if meal is None and _minute(stop["arrive"]) >= EVENING_FROM
        ),
        "parks_after_dark": sum(
            1
            for stop, meal in zip(stops, meal_of, strict=True)
            if meal is None
            and stop.get("outdoor")
            and stop.get("category") not in EVENING_CATEGORIES
            and _minute(stop["depart"]) > DUSK_FROM
        ),
        "meals": meals,
        "lunch_and_dinner": "lunch" in meals and "dinner" in meals,
        "idle_gaps": gaps,
        "gap_explained": explained,
        "ends": stops[-1]["depart"] if stops else None,
        "points": points,
        "meal_hops_km": meal_hops,
        "sight_points": [
            (stop["location"]["lat"], stop["location"]["lng"])
            for stop, meal in zip(stops, meal_of, strict=True)
            if meal is None and stop.get("location")
        ],
    }


def summarise_quality(plans: list[dict[str, Any]]) -> dict[str, Any]:
    from common.domain.itinerary.clusters import clustered_spread_km, spread_km

    days = [day for plan in plans for day in plan["days"]]
    ends = sorted(_minute(day["ends"]) for day in days if day["ends"])
    median_end = ends[len(ends) // 2] if ends else 0
    plan_spread: list[float] = []
    reference_spread: list[float] = []
    sight_spread: list[float] = []
    sight_reference: list[float] = []
    for plan in plans:
        for key, mine, reference in (
            ("points", plan_spread, reference_spread),
            ("sight_points", sight_spread, sight_reference),
        ):
            groups = [day[key] for day in plan["days"] if day[key]]
            if len(groups) >= 2:
                mine.append(sum(spread_km(group) for group in groups) / len(groups))
                reference.append(clustered_spread_km(groups))
    long_gap = [day for day in days if any(gap > IDLE_GAP_MINUTES for gap in day["idle_gaps"])]
    rule_gap = [day for day in days if any(gap > IDLE_GAP_RULE_MINUTES for gap in day["idle_gaps"])]
    return {
        "plans": len(plans),
        "days": len(days),
        "days_with_lunch_and_dinner": sum(day["lunch_and_dinner"] for day in days),
        "share_with_lunch_and_dinner": round(sum(day["lunch_and_dinner"] for day in days) / len(days), 3)
        if days
        else None,
        "days_with_gap_over_60": len(long_gap),
        "days_with_unexplained_gap_over_60": sum(not day["gap_explained"] for day in long_gap),
        "days_with_unexplained_gap_over_45": sum(not day["gap_explained"] for day in rule_gap),
        "median_day_end": f"{median_end // 60:02d}:{median_end % 60:02d}",
        "mean_sights_per_day": round(statistics.fmean(day["sights"] for day in days), 2) if days else None,
        "days_with_evening_sight": sum(1 for day in days if day["evening_sights"]),
        "days_with_park_after_dark": sum(1 for day in days if day.get("parks_after_dark")),
        "spread_km_mean": round(statistics.fmean(plan_spread), 3) if plan_spread else None,
        "clustered_spread_km_mean": round(statistics.fmean(reference_spread), 3) if reference_spread else None,
        "sights_spread_km_mean": round(statistics.fmean(sight_spread), 3) if sight_spread else None,
        "sights_clustered_spread_km_mean": round(statistics.fmean(sight_reference), 3) if sight_reference else None,
        "meal_hop_km_mean": round(statistics.fmean(hops), 3)
        if (hops := [h for d in days for h in d["meal_hops_km"]])
        else None,
        "meals_over_1500m_from_neighbours": sum(1 for hop in hops if hop > MEAL_FAR_KM),
        "violations": sum(plan["violations"] for plan in plans),
        "days_with_late_start": sum(1 for day in days if day.get("late_start_min")),
        "travel_min_median": statistics.median(travel) if (travel := [day["travel_min"] for day in days]) else None,
        "travel_min_p90": percentile(travel, 0.9) if travel else None,
        "days_back_and_forth": sum(1 for day in days if (day.get("backtrack_ratio") or 0) > BACKTRACK_RATIO),
        "backtrack_ratio_p90": percentile(ratios, 0.9)
        if (ratios := [day["backtrack_ratio"] for day in days if day.get("backtrack_ratio")])
        else None,
        "longest_leg_min_p90": percentile([day["longest_leg_min"] for day in days], 0.9) if days else None,
        "days_with_leg_over_40_min": sum(1 for day in days if day["longest_leg_min"] > LONG_LEG_MINUTES),
    }


def run_quality(deps: Any, print_plans: bool = False) -> dict[str, Any]:
    from common.domain.itinerary.models import DEFAULT_PACE_POLICIES, Pace
    from common.foundation.errors import AppError
    from common.services.planning.service import plan_new_trip
    from scripts.demo import render

    hours = catalogue_hours()
    start = dt.date.today() + dt.timedelta(days=45)
    plans = []
    for index, body in enumerate(quality_requests(start)):
        started = time.perf_counter()
        violations = 0
        try:
            trip = plan_new_trip(f"quality-user-{index}", body, deps)
        except AppError as error:  # a plan that fails validation is stored failed: count it, keep measuring
            print(f"{body['destination']:<14} failed: {error.code} {error.message}")
            plans.append({"request": body, "days": [], "violations": 1, "seconds": 0.0})
            continue
        if print_plans:
            print(render(trip))
        window_start = DEFAULT_PACE_POLICIES[Pace(body["pace"])].day_window.start
        days = [day_quality(day, window_start, hours) for day in trip["days"]]
        plan = {
            "request": body,
            "seconds": round(time.perf_counter() - started, 3),
            "violations": violations,
            "days": days,
        }
        plans.append(plan)
        print(
            f"{body['destination']:<14} {len(days):>2}d {body['pace']:<8} {body['transport']:<7} "
            + " | ".join(
                f"{day['sights']}s {'L' if 'lunch' in day['meals'] else '-'}{'D' if 'dinner' in day['meals'] else '-'}"
                f" gaps {max(day['idle_gaps'], default=0):>3}{'w' if day['gap_explained'] else ''}"
                f" {day['first_arrive']}{'!' if day['late_start_min'] else ''}-{day['ends']} {day['travel_min']}'"
                for day in days
            )
        )
    return {"summary": summarise_quality(plans), "plans": plans}


def quality_main(output: Path, print_plans: bool = False) -> int:
    from bench.standins import private_standins, write_result

    with private_standins() as endpoint:
        result = run_quality(_deps_factory(endpoint)(), print_plans)
    write_result(result, output)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=7, help="days per trip (issue 13 measures 7-day plans)")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--cities", default=",".join(CITIES), help="comma-separated catalogue cities")
    parser.add_argument(
        "--plain-travel",
        action="store_true",
        help="the stand-in answers the plain straight-line model (default: per-pair variation and transit rush "
        "hours, so estimates are checked against travel they do not know)",
    )
    parser.add_argument("--quality", action="store_true", help="the traveller's-day pass instead of the cost passes")
    parser.add_argument("--print-plans", action="store_true", help="with --quality: print every plan as the demo does")
    arguments = parser.parse_args()
    if arguments.quality:
        return quality_main(arguments.output or QUALITY_OUTPUT_PATH, arguments.print_plans)
    arguments.output = arguments.output or OUTPUT_PATH
    cities = tuple(city.strip() for city in arguments.cities.split(",") if city.strip())

    from bench.standins import private_standins

    with private_standins() as endpoint:
        if not arguments.plain_travel:
            _set_road_variation(endpoint, True)
        passes = _passes(endpoint, arguments.days, cities)

    print(
        f"\n{'pass':<9} {'plans':>5} {'search':>7} {'details':>7} {'matrix':>6} {'elements':>8} {'routes':>6} "
        f"{'hit ratio':>9} {'p50 s':>6} {'p95 s':>6} {'USD/plan':>8} {'max':>6} {'USD/1k plans':>12}"
    )
    for result in passes:
        per_plan = result["per_plan"]
        print(
            f"{result['pass']:<9} {result['plans']:>5} {per_plan['search_text']:>7} {per_plan['get_place']:>7} "
            f"{per_plan['compute_route_matrix']:>6} {per_plan['matrix_elements']:>8} {per_plan['compute_routes']:>6} "
            f"{result['cache_hit_ratio']:>9} {result['latency_s']['p50']:>6} {result['latency_s']['p95']:>6} "
            f"{result['usd_per_plan']['mean']:>8} {result['usd_per_plan']['max']:>6} {result['usd_per_1000_plans']:>12}"
        )
    for result in passes:
        print(f"{result['pass']}: {len(result['failed_plans'])} plans failed (validator on real legs, or an error)")
    print("\ncold, per plan:")
    print(
        f"{'city':<14} {'search':>6} {'details':>7} {'elements':>8} {'routes':>6} {'USD':>7} {'s':>6} {'docs':>5} "
        f"{'stops/day':>9}"
    )
    for row in passes[0]["rows"]:
        upstream = row["upstream"]
        print(
            f"{row['city']:<14} {upstream.get('search_text', 0):>6} {upstream.get('get_place', 0):>7} "
            f"{upstream.get('matrix_elements', 0):>8} {upstream.get('compute_routes', 0):>6} {row['usd']:>7} "
            f"{row['seconds']:>6} {row['cache_documents_created']:>5} {row['stops_per_day']:>9}"
        )
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "prices": PRICES,
        "prices_as_of": PRICES_AS_OF,
        "road_variation": not arguments.plain_travel,
        "passes": passes,
    }
    arguments.output.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    print(f"wrote {arguments.output}")
    return 0


def _deps_factory(endpoint: str) -> Any:
    from google.cloud import firestore

    from common.domain.ai import build_planner
    from common.domain.maps import MapsConfig, MapsService, build_places_client, build_routes_client
    from common.foundation.config import load_settings
    from common.services.planning.service import PlanningDeps

    project = f"bench-plan-{uuid.uuid4().hex[:6]}"
    settings = load_settings(
        google_cloud_project=project,
        maps_api_endpoint=endpoint,
        google_maps_api_key="bench-maps-key",
        plan_rate_per_minute=100_000,
        plan_rate_per_day=100_000,
        max_sessions_per_user=1_000,
    )
    client = firestore.Client(project=project)

    def deps() -> PlanningDeps:
        maps = MapsService(
            MapsConfig.from_settings(settings), build_places_client(settings), build_routes_client(settings), client
        )
        return PlanningDeps(settings=settings, firestore=client, maps=maps, planner=build_planner(settings))

    return deps


def _passes(endpoint: str, days: int, cities: tuple[str, ...]) -> list[dict[str, Any]]:
    deps = _deps_factory(endpoint)
    first = deps()
    results = []
    for label, pass_deps in (("cold", first), ("warm L1", first), ("warm L2", deps())):
        result = run_pass(label, pass_deps, endpoint, days, f"{label.replace(' ', '-')}-user", cities)
        print(
            f"{label}: {result['upstream_calls_per_plan']} upstream calls per plan, "
            f"hit ratio {result['cache_hit_ratio']}, p50 {result['latency_s']['p50']} s"
        )
        results.append(result)
    return results


if __name__ == "__main__":
    raise SystemExit(main())
