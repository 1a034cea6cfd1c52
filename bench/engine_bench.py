"""Itinerary engine benchmark over generated problems built from the stand-in catalogue (not a test).

Run from the repo root: ``.venv/bin/python -m bench.engine_bench [--quick] [--catalogue-dir DIR]``.
Prints a table and writes ``bench/out/engine.json``.

Per problem (fixed seeds): a city, 1-10 days, a pace, a budget (none / tight / ample), 0-2 must-includes,
1-4 travellers, walk (with reduced walking via transit sometimes) or transit. Measures:
- validator violations (must be 0);
- travel minutes of each day with 2..8 stops against the optimum order of the same stops by exhaustive search that
  respects time windows, and against visiting them in catalogue order (naive baseline);
- priority of the planned sights against the sum of the top-k sight priorities, k = sight slots of the trip;
- solve seconds per trip length;
- a traveller's day: days with every required meal (lunch and dinner on a full day), idle gaps between stops over
  60 minutes (all, and those without an ``idle_gap`` warning), when the day ends, and compactness (mean distance of a
  day's stops from their centre against the same stops split by a balanced geographic clustering).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import random
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from common.domain.itinerary import (
    DayAnchor,
    Itinerary,
    LatLng,
    MealKind,
    OpeningPeriod,
    OpeningTime,
    Pace,
    Place,
    Preferences,
    TransportCosts,
    TravelMatrix,
    TravelMode,
    TripProblem,
    plan_trip,
    validate,
)
from common.domain.itinerary.clusters import clustered_spread_km, spread_km
from common.domain.itinerary.planning import DayContext, PlanningContext, Visit
from scripts.maps_standin.travel_model import estimate

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CATALOGUE_DIR = REPO_ROOT / "scripts" / "maps_standin" / "catalogue"
OUTPUT_PATH = REPO_ROOT / "bench" / "out" / "engine.json"
WEEKDAY_KEYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # Google day numbers 0..6
MEAL_KINDS_BY_CATEGORY = {"restaurant": [MealKind.LUNCH, MealKind.DINNER], "cafe": [MealKind.LUNCH]}
ANCHOR_NODE = "anchor"
EXHAUSTIVE_MAX_STOPS = 8
IDLE_GAP_MINUTES = 60


def catalogue_hours_to_periods(hours: Any) -> list[OpeningPeriod] | None:
    """Catalogue ``hours`` ({"mon": ["09:00-18:00"], ...} or "24h") to Google Places (New) periods."""
    if hours == "24h":
        return [OpeningPeriod(open=OpeningTime(day=0, hour=0, minute=0), close=None)]
    if not isinstance(hours, dict):
        return None
    periods: list[OpeningPeriod] = []
    for google_day, key in enumerate(WEEKDAY_KEYS):
        for interval in hours.get(key, []):
            opens_text, closes_text = interval.split("-")
            open_hour, open_minute = (int(part) for part in opens_text.split(":"))
            close_hour, close_minute = (int(part) for part in closes_text.split(":"))
            close_day = google_day
            if (close_hour, close_minute) <= (open_hour, open_minute) or close_hour == 24:
                close_day = (google_day + 1) % 7
                close_hour %= 24
            periods.append(
                OpeningPeriod(
                    open=OpeningTime(day=google_day, hour=open_hour, minute=open_minute),
                    close=OpeningTime(day=close_day, hour=close_hour, minute=close_minute),
                )
            )
    return periods


def load_catalogues(directory: Path) -> list[dict[str, Any]]:
    catalogues = []
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            for entry in data["places"]:
                catalogue_place(entry, random.Random(0))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            print(f"skipping {path.name}: not in the catalogue format ({type(error).__name__})")
            continue
        if data["places"]:
            catalogues.append(data)
    return catalogues


def catalogue_place(entry: dict[str, Any], rng: random.Random) -> Place:
    category = entry["category"]
    rating = entry.get("rating") or 4.0
    cost = entry.get("meal_price") if category in MEAL_KINDS_BY_CATEGORY else entry.get("entry_price")
    return Place(
        id=entry["id"],
        name=entry["name"],
        location=LatLng(lat=entry["location"]["lat"], lng=entry["location"]["lng"]),
        category=category,
        priority=round(max(0.1, (rating - 3.0) * 2 + rng.uniform(0, 1)), 2),
        visit_minutes=int(entry.get("visit_minutes") or 60),
        opening_periods=catalogue_hours_to_periods(entry.get("hours")),
        cost_per_person=float(cost or 0.0),
        meal_kinds=MEAL_KINDS_BY_CATEGORY.get(category, []),
    )


def travel_matrix(mode: TravelMode, points: dict[str, LatLng]) -> TravelMatrix:
    ids = list(points)
    seconds: list[list[int | None]] = []
    metres: list[list[int | None]] = []
    for origin in ids:
        second_row: list[int | None] = []
        metre_row: list[int | None] = []
        for destination in ids:
            a, b = points[origin], points[destination]
            leg = estimate(mode.value, a.lat, a.lng, b.lat, b.lng)
            second_row.append(None if leg is None else leg.duration_s)
            metre_row.append(None if leg is None else leg.distance_m)
        seconds.append(second_row)
        metres.append(metre_row)
    return TravelMatrix(mode=mode, node_ids=ids, seconds=seconds, metres=metres)


def generate_problem(catalogue: dict[str, Any], seed: int, days: int) -> TripProblem:
    rng = random.Random(seed)
    entries = catalogue["places"]
    hotels = [entry for entry in entries if entry["category"] == "hotel"]
    candidates = [catalogue_place(entry, rng) for entry in entries if entry["category"] != "hotel"]
    hotel = rng.choice(hotels)["location"] if rng.random() < 0.7 and hotels else catalogue["city"]["center"]
    points = {ANCHOR_NODE: LatLng(lat=hotel["lat"], lng=hotel["lng"])}
    points.update({place.id: place.location for place in candidates})
    mode = rng.choice([TravelMode.WALK, TravelMode.TRANSIT, TravelMode.TRANSIT])
    reduced_walking = mode == TravelMode.WALK and rng.random() < 0.5
    pace = rng.choice(list(Pace))
    sights = [place for place in candidates if not place.is_meal_venue]
    must_include = [place.id for place in rng.sample(sights, k=min(len(sights), rng.choice([0, 0, 1, 2])))]
    travellers = rng.randint(1, 4)
    budget_kind = rng.choice(["none", "none", "tight", "ample", "zero"])
    per_day = {"none": None, "tight": 40.0, "ample": 250.0, "zero": 0.0}[budget_kind]
    budget = None if per_day is None else per_day * days * travellers
    avoid = [rng.choice(["bar", "market", "religious_site"])] if rng.random() < 0.3 else []
    start = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(365))
    return TripProblem(
        start_date=start,
        end_date=start + dt.timedelta(days=days - 1),
        anchors=[DayAnchor(start_node_id=ANCHOR_NODE, end_node_id=ANCHOR_NODE)],
        places=candidates,
        matrix=travel_matrix(mode, points),
        fallback_matrix=travel_matrix(TravelMode.TRANSIT, points) if reduced_walking else None,
        preferences=Preferences(
            pace=pace,
            must_include_ids=must_include,
            avoid_categories=avoid,
            travellers=travellers,
            budget_limit=budget,
            reduced_walking=reduced_walking,
        ),
        transport_costs=TransportCosts(transit_fare_per_person_per_leg=2.1, drive_cost_per_km=0.3),
        solver_time_limit_seconds=5.0,
    )


def optimal_travel(context: PlanningContext, day: DayContext, visits: list[Visit]) -> int | None:
    """Least travel minutes over every order of ``visits`` that can be timed (depth-first, bounded)."""
    best: list[int | None] = [None]
    travel = context.travel
    windows = [context.arrival_windows(visit, day) for visit in visits]

    def explore(position: str, clock: int, spent: int, remaining: list[int]) -> None:
        if best[0] is not None and spent >= best[0]:
            return
        if not remaining:
            back = travel.minutes(position, day.end_node)
            if back is not None and clock + back <= day.window.end and (best[0] is None or spent + back < best[0]):
                best[0] = spent + back
            return
        for choice in remaining:
            visit = visits[choice]
            minutes = travel.minutes(position, visit.node_id)
            if minutes is None:
                continue
            ready = clock + minutes
            arrive = next((max(low, ready) for low, high in windows[choice] if high >= ready), None)
            if arrive is None:
                continue
            rest = [other for other in remaining if other != choice]
            explore(visit.node_id, arrive + visit.place.visit_minutes, spent + minutes, rest)

    explore(day.start_node, day.window.start, 0, list(range(len(visits))))
    return best[0]


def path_travel(context: PlanningContext, day: DayContext, node_ids: list[str]) -> int:
    nodes = [day.start_node, *node_ids, day.end_node]
    return sum(context.travel.minutes(a, b) or 0 for a, b in itertools.pairwise(nodes))


@dataclass
class TripResult:
    seed: int
    city: str
    days: int
    pace: str
    produced_by: str
    seconds: float
    violations: list[str]
    optimum_ratios: list[float] = field(default_factory=list)
    naive_ratios: list[float] = field(default_factory=list)
    priority_kept: float = 0.0
    priority_bound: float = 0.0
    budget_limited: bool = False
    days_needing_meals: int = 0
    days_with_required_meals: int = 0
    days_with_unexplained_gap_over_60: int = 0
    days_with_gap_over_60: int = 0
    day_ends: list[int] = field(default_factory=list)
    spread_km: float | None = None
    clustered_spread_km: float | None = None


def measure(problem: TripProblem, plan: Itinerary, seed: int, city: str, seconds: float) -> TripResult:
    context = PlanningContext(problem)
    places = {place.id: place for place in problem.places}
    result = TripResult(
        seed=seed,
        city=city,
        days=problem.day_count,
        pace=problem.preferences.pace.value,
        produced_by=plan.produced_by.value,
        seconds=seconds,
        violations=[f"{v.rule}: {v.message}" for v in validate(problem, plan)],
    )
    order_in_input = {place.id: position for position, place in enumerate(problem.places)}
    for day_plan in plan.days:
        day = context.days[(day_plan.date - problem.start_date).days]
        if not 2 <= len(day_plan.stops) <= EXHAUSTIVE_MAX_STOPS:
            continue
        visits = [Visit(places[stop.place_id], stop.meal) for stop in day_plan.stops]
        optimum = optimal_travel(context, day, visits)
        if optimum:
            result.optimum_ratios.append(day_plan.travel_minutes / optimum)
        naive = path_travel(context, day, sorted((v.node_id for v in visits), key=order_in_input.__getitem__))
        if naive:
            result.naive_ratios.append(day_plan.travel_minutes / naive)
    result.budget_limited = problem.preferences.budget_limit is not None
    explained = {warning.day_index for warning in plan.warnings if warning.code.value == "idle_gap"}
    groups = []
    for index, day_plan in enumerate(plan.days):
        day = context.days[(day_plan.date - problem.start_date).days]
        if day.required_meals:
            result.days_needing_meals += 1
            served = {stop.meal for stop in day_plan.stops}
            result.days_with_required_meals += all(meal in served for meal in day.required_meals)
        gaps = [
            stop.arrive_minute
            - previous.depart_minute
            - (stop.leg_from_previous.minutes if stop.leg_from_previous else 0)
            for previous, stop in itertools.pairwise(day_plan.stops)
        ]
        if any(gap > IDLE_GAP_MINUTES for gap in gaps):
            result.days_with_gap_over_60 += 1
            result.days_with_unexplained_gap_over_60 += index not in explained
        if day_plan.stops:
            result.day_ends.append(day_plan.stops[-1].depart_minute)
            groups.append([(places[s.place_id].location.lat, places[s.place_id].location.lng) for s in day_plan.stops])
    if len(groups) >= 2:
        result.spread_km = sum(spread_km(group) for group in groups) / len(groups)
        result.clustered_spread_km = clustered_spread_km(groups)
    result.priority_kept = sum(
        places[stop.place_id].priority for day in plan.days for stop in day.stops if stop.meal is None
    )
    sight_slots = sum(day.max_stops for day in context.days)  # the pace caps sights; meals come on top
    preferences = problem.preferences
    eligible = sorted(
        (
            place.priority
            for place in problem.places
            if not place.is_meal_venue and place.category not in preferences.avoid_categories
        ),
        reverse=True,
    )
    result.priority_bound = sum(eligible[:sight_slots])
    return result


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else 0.0


def _clock(minutes: float) -> str:
    return f"{int(minutes) // 60:02d}:{int(minutes) % 60:02d}"


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 3) if values else None


def summarise(results: list[TripResult]) -> dict[str, Any]:
    optimum = [ratio for result in results for ratio in result.optimum_ratios]
    naive = [ratio for result in results for ratio in result.naive_ratios]
    kept = sum(result.priority_kept for result in results)
    bound = sum(result.priority_bound for result in results)
    by_length: dict[str, dict[str, float]] = {}
    for length in sorted({result.days for result in results}):
        times = [result.seconds for result in results if result.days == length]
        by_length[str(length)] = {
            "trips": len(times),
            "p50_s": round(percentile(times, 0.5), 3),
            "p95_s": round(percentile(times, 0.95), 3),
            "max_s": round(max(times), 3),
        }
    return {
        "problems": len(results),
        "violations": sum(len(result.violations) for result in results),
        "greedy_fallbacks": sum(result.produced_by == "greedy" for result in results),
        "days_compared_to_optimum": len(optimum),
        "travel_vs_optimum_mean": round(statistics.fmean(optimum), 4) if optimum else None,
        "travel_vs_optimum_worst": round(max(optimum), 4) if optimum else None,
        "travel_vs_naive_mean": round(statistics.fmean(naive), 4) if naive else None,
        "priority_kept_vs_bound": round(kept / bound, 4) if bound else None,
        "days": sum(len(result.day_ends) for result in results),
        "share_with_required_meals": round(
            sum(r.days_with_required_meals for r in results) / max(1, sum(r.days_needing_meals for r in results)), 4
        ),
        "share_with_required_meals_no_budget": round(
            sum(r.days_with_required_meals for r in results if not r.budget_limited)
            / max(1, sum(r.days_needing_meals for r in results if not r.budget_limited)),
            4,
        ),
        "days_with_unexplained_gap_over_60": sum(r.days_with_unexplained_gap_over_60 for r in results),
        "days_with_gap_over_60": sum(r.days_with_gap_over_60 for r in results),
        "median_day_end": _clock(percentile([end for r in results for end in r.day_ends], 0.5)),
        "spread_km_mean": _mean([r.spread_km for r in results if r.spread_km is not None]),
        "clustered_spread_km_mean": _mean(
            [r.clustered_spread_km for r in results if r.clustered_spread_km is not None]
        ),
        "solve_seconds_by_days": by_length,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="40 problems instead of 200")
    parser.add_argument("--problems", type=int, default=None)
    parser.add_argument("--catalogue-dir", type=Path, default=DEFAULT_CATALOGUE_DIR)
    parser.add_argument("--output", type=Path, default=OUTPUT_PATH)
    arguments = parser.parse_args()
    catalogues = load_catalogues(arguments.catalogue_dir)
    if not catalogues:
        raise SystemExit(f"no catalogue JSON in {arguments.catalogue_dir}")
    count = arguments.problems or (40 if arguments.quick else 200)

    results: list[TripResult] = []
    print(
        f"{'seed':>5} {'city':<12} {'days':>4} {'pace':<9} {'by':<7} {'secs':>6} {'viol':>4} {'opt':>6} {'naive':>6}"
        f" {'meals':>6} {'gaps':>4} {'end':>5} {'spread':>6} {'clust':>6}"
    )
    for seed in range(count):
        catalogue = catalogues[seed % len(catalogues)]
        days = 1 + seed % 10
        problem = generate_problem(catalogue, seed, days)
        started = time.perf_counter()
        plan = plan_trip(problem)
        seconds = time.perf_counter() - started
        result = measure(problem, plan, seed, catalogue["city"]["id"], seconds)
        results.append(result)
        optimum = statistics.fmean(result.optimum_ratios) if result.optimum_ratios else float("nan")
        naive = statistics.fmean(result.naive_ratios) if result.naive_ratios else float("nan")
        print(
            f"{seed:>5} {result.city:<12} {days:>4} {result.pace:<9} {result.produced_by:<7} {seconds:>6.2f} "
            f"{len(result.violations):>4} {optimum:>6.3f} {naive:>6.3f}"
            f" {result.days_with_required_meals:>2}/{result.days_needing_meals:<3}"
            f" {result.days_with_unexplained_gap_over_60:>4}"
            f" {_clock(percentile([float(end) for end in result.day_ends], 0.5)) if result.day_ends else '-':>5}"
            f" {result.spread_km if result.spread_km is not None else float('nan'):>6.2f}"
            f" {result.clustered_spread_km if result.clustered_spread_km is not None else float('nan'):>6.2f}"
        )
        for violation in result.violations:
            print(f"      ! {violation}")

    summary = summarise(results)
    print()
    for key, value in summary.items():
        if key != "solve_seconds_by_days":
            print(f"{key:<28} {value}")
    print(f"\n{'days':>4} {'trips':>5} {'p50 s':>7} {'p95 s':>7} {'max s':>7}")
    for length, row in summary["solve_seconds_by_days"].items():
        print(f"{length:>4} {row['trips']:>5.0f} {row['p50_s']:>7.3f} {row['p95_s']:>7.3f} {row['max_s']:>7.3f}")
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    payload = {"summary": summary, "trips": [asdict(result) for result in results]}
    arguments.output.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    print(f"\nwrote {arguments.output}")


if __name__ == "__main__":
    main()
