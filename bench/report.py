"""Render ``bench/REPORT.md`` from the JSON the benches wrote to ``bench/out/`` (run last by ``make bench``).

``.venv/bin/python -m bench.report``. A bench whose JSON is missing gets a line saying so; nothing is re-measured.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"
REPORT_PATH = BENCH_DIR / "REPORT.md"


def _load(name: str) -> dict[str, Any] | None:
    path = OUT_DIR / f"{name}.json"
    return dict(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else None


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def _missing(name: str, command: str) -> list[str]:
    return [f"_No `bench/out/{name}.json`: run `{command}`._", ""]


def engine_section() -> list[str]:
    lines = ["## Route quality and violations (bench/engine_bench.py)", ""]
    data = _load("engine")
    if data is None:
        return lines + _missing("engine", ".venv/bin/python -m bench.engine_bench")
    summary = data["summary"]
    if "share_with_required_meals" in summary:
        before = _load("engine_before")
        rows = []
        for label, run in (
            ("before (issue 13)", before),
            ("main before the day-shape work", _load("engine_main")),
            ("now", data),
        ):
            if run is None or "share_with_required_meals" not in run["summary"]:
                continue
            values = run["summary"]
            rows.append(
                [
                    label,
                    values["days"],
                    f"{values['share_with_required_meals']:.1%}",
                    f"{values['share_with_required_meals_no_budget']:.1%}"
                    if "share_with_required_meals_no_budget" in values
                    else "-",
                    values["days_with_unexplained_gap_over_60"],
                    values["median_day_end"],
                    f"{values['spread_km_mean']} / {values['clustered_spread_km_mean']}",
                    values["priority_kept_vs_bound"],
                    values["travel_vs_optimum_mean"],
                    values.get("travel_vs_optimum_worst", "-"),
                    values.get("days_with_gap_over_60", "-"),
                ]
            )
        lines += [
            "A traveller's day on the generated problems (meals: the share of days with every meal the day requires; "
            "the budget post-pass drops meals under the generated budgets, which are in local currency, so trips "
            "without a budget limit are shown apart; "
            "before issue 13 the relaxed and moderate windows did not require dinner; sight bound: the pace cap, "
            "which counts sights only since issue 13).",
            "",
        ]
        lines += _table(
            [
                "run",
                "days",
                "days with every required meal",
                "same, trips without a budget limit",
                "days with an unexplained gap > 60 min",
                "median day end",
                "spread km: plan / clustered",
                "priority kept / bound",
                "travel / optimum",
                "travel / optimum, worst day",
                "days with a wait > 60 min (explained or not)",
            ],
            rows,
        )
    lines += _table(
        [
            "problems",
            "validator violations",
            "greedy fallbacks",
            "days vs optimum",
            "travel / optimum (mean, worst)",
            "travel / naive order",
            "priority kept / bound",
        ],
        [
            [
                summary["problems"],
                summary["violations"],
                summary["greedy_fallbacks"],
                summary["days_compared_to_optimum"],
                f"{summary['travel_vs_optimum_mean']} / {summary['travel_vs_optimum_worst']}",
                summary["travel_vs_naive_mean"],
                summary["priority_kept_vs_bound"],
            ]
        ],
    )
    lines += _table(
        ["days", "trips", "solve p50 s", "p95 s", "max s"],
        [
            [days, row["trips"], row["p50_s"], row["p95_s"], row["max_s"]]
            for days, row in summary["solve_seconds_by_days"].items()
        ],
    )
    return lines


def _usd(result: dict[str, Any]) -> tuple[Any, Any]:
    usd = result.get("usd_per_plan")
    if usd:
        return usd["mean"], usd["max"]
    return round(result["usd_per_1000_plans"] / 1000, 4), "?"


def _before_after(data: dict[str, Any]) -> list[str]:
    """Issue 13 (estimate, then verify): the same bench on the tree before it (``bench/out/plan_before.json``)."""
    before = _load("plan_before")
    if before is None:
        return []
    rows = []
    for label, source in (("before", before), ("after", data)):
        for result in source["passes"]:
            per_plan = result["per_plan"]
            mean, worst = _usd(result)
            rows.append(
                [
                    f"{label}: {result['pass']}",
                    per_plan["search_text"],
                    per_plan["get_place"],
                    per_plan["matrix_elements"],
                    per_plan["compute_routes"],
                    mean,
                    worst,
                    result.get("cache_documents_created_per_plan", "?"),
                    len(result["failed_plans"]) if "failed_plans" in result else "?",
                    result.get("stops_per_day", "?"),
                    result["latency_s"]["p50"],
                    result["latency_s"]["p95"],
                ]
            )
    lines = [
        f"### Before and after estimate-then-verify (issue 13), {before.get('note', '')}".rstrip(", "),
        "",
        "Before: the solver's matrix spanned every candidate (Route Matrix, one cache document per element). After: "
        "the solver plans on straight-line estimates; only the legs the plan uses are fetched (Compute Routes), "
        "days re-timed and repaired on them, cached a few documents per city, mode and time band. "
        f"The after run's Maps stand-in {'varies' if data.get('road_variation') else 'does not vary'} real travel "
        "from the straight-line model (per-pair factor, transit rush hours), so estimates are checked against "
        "travel they do not know. Every plan is validated on its real legs before it is stored; a violation "
        "fails the plan (`failed plans`).",
        "",
    ]
    lines += _table(
        [
            "run: pass",
            "Text Search",
            "Place Details",
            "matrix elements",
            "Compute Routes",
            "USD / plan (mean)",
            "max",
            "cache docs created / plan",
            "failed plans",
            "stops / day",
            "latency p50 s",
            "p95 s",
        ],
        rows,
    )
    return lines


def _quality_row(label: str, summary: dict[str, Any]) -> list[Any]:
    return [
        label,
        summary["plans"],
        summary["days"],
        f"{summary['days_with_lunch_and_dinner']} ({summary['share_with_lunch_and_dinner']:.1%})",
        summary["days_with_gap_over_60"],
        summary["days_with_unexplained_gap_over_60"],
        summary["days_with_unexplained_gap_over_45"],
        summary["median_day_end"],
        summary["mean_sights_per_day"],
        summary.get("days_with_evening_sight", "-"),
        f"{summary['spread_km_mean']} / {summary['clustered_spread_km_mean']}",
        f"{summary.get('sights_spread_km_mean', '-')} / {summary.get('sights_clustered_spread_km_mean', '-')}",
        f"{summary.get('meal_hop_km_mean', '-')} ({summary.get('meals_over_1500m_from_neighbours', '-')})",
        summary["violations"],
    ]


def _route_row(label: str, summary: dict[str, Any]) -> list[Any]:
    return [
        label,
        summary.get("days_with_late_start", "-"),
        f"{summary.get('travel_min_median', '-')} / {summary.get('travel_min_p90', '-')}",
        summary.get("days_back_and_forth", "-"),
        summary.get("backtrack_ratio_p90", "-"),
        f"{summary.get('longest_leg_min_p90', '-')} ({summary.get('days_with_leg_over_40_min', '-')})",
        summary.get("days_with_park_after_dark", "-"),
    ]


def quality_section() -> list[str]:
    lines = ["## A traveller's day (bench/plan_bench.py --quality)", ""]
    after, before = _load("plan_quality"), _load("plan_quality_before")
    if after is None:
        return lines + _missing("plan_quality", ".venv/bin/python -m bench.plan_bench --quality")
    lines += [
        "24 mixed requests (every catalogue city, 1-10 days, each pace, walk or transit, six interest sets), offline "
        "planner, `plan_new_trip` in-process against private stand-ins. A meal is read from the API's stops as a "
        "traveller reads it: a restaurant (or a cafe, at lunch) reached in the lunch (11:30-14:30) or dinner "
        "(18:00-21:30) window. An idle gap is arrival minus the previous departure minus the travel; it is explained "
        "when the day's warnings say why. Spread: mean distance (km) of a day's stops from their centre, against "
        "the same stops split by a balanced geographic clustering (lower is more compact; the clustering ignores "
        "hours and meals, so it is a bound, not a target). Targets: >= 95% of full days with lunch and dinner, "
        "<= 2% of days with an unexplained gap over 60 minutes, 0 violations.",
        "",
    ]
    main = _load("plan_quality_main")
    rows = []
    if before is not None:
        rows.append(_quality_row("before (issue 13)", before["summary"]))
    if main is not None:
        rows.append(_quality_row("main before the day-shape work", main["summary"]))
    rows.append(_quality_row("now", after["summary"]))
    lines += _table(
        [
            "run",
            "plans",
            "days",
            "days with lunch and dinner",
            "days with a gap > 60 min",
            "unexplained > 60 min",
            "unexplained > 45 min",
            "median day end",
            "sights per day",
            "days with an evening sight",
            "spread km: plan / clustered",
            "sights only: plan / clustered",
            "meal to nearer neighbour km (meals > 1.5 km)",
            "failed plans (validator)",
        ],
        rows,
    )
    lines += [
        "The day's route (`--quality --print-plans` prints every plan). Late start: the day leaves more than 45 "
        "minutes after the pace's window start (10:00 relaxed, 09:00 moderate, 08:30 packed) and its first stop did "
        "not wait for its opening (reached within 15 minutes of it, by the stand-in catalogue's hours) nor a wait a "
        "warning explains. Travel: the API's `travel_min` per day. Back-and-forth: the straight-line length of the "
        "day's stops in planned order against the shortest open path through them (nearest neighbour from every "
        "stop, then 2-opt; it ignores hours and meal times, so above 1.5 the day crosses town and comes back or its "
        "stops are far apart). Longest leg: between two stops, minutes. A park after dark: an open-air place that "
        "does not suit the evening (a park, a garden, a beach; not a viewpoint, market or neighbourhood) left after "
        "18:00.",
        "",
    ]
    route_rows = [
        _route_row(label, run["summary"])
        for label, run in (
            ("main before the day-shape work", main),
            ("day-shape work, before parks left by dusk", _load("plan_quality_dayshape")),
            ("now", after),
        )
        if run is not None and "days_with_late_start" in run["summary"]
    ]
    lines += _table(
        [
            "run",
            "days with a late start",
            "travel min per day: median / p90",
            "days back-and-forth (> 1.5)",
            "back-and-forth ratio p90",
            "longest leg min p90 (days with a leg > 40 min)",
            "days with a park after dark",
        ],
        route_rows,
    )
    return lines


def plan_section() -> list[str]:
    lines = ["## Maps work, cache and latency per plan (bench/plan_bench.py)", ""]
    data = _load("plan")
    if data is None:
        return lines + _missing("plan", ".venv/bin/python -m bench.plan_bench")
    passes = data["passes"]
    days = passes[0]["days_per_trip"] if passes else "?"
    lines += [
        f"One {days}-day trip per catalogue city ({passes[0]['plans'] if passes else 0} plans a pass), "
        "offline planner, "
        "`plan_new_trip` in-process, zero-latency Maps stand-in and a private Firestore stand-in. Counts are per plan "
        "and come from the stand-in's own counters (what Google would bill).",
        "",
    ]
    lines += _table(
        [
            "pass",
            "Text Search",
            "Place Details",
            "Route Matrix calls",
            "matrix elements",
            "Compute Routes",
            "upstream calls",
            "cache hit ratio",
            "latency p50 s",
            "p95 s",
            "est. USD / 1,000 plans",
        ],
        [
            [
                result["pass"],
                result["per_plan"]["search_text"],
                result["per_plan"]["get_place"],
                result["per_plan"]["compute_route_matrix"],
                result["per_plan"]["matrix_elements"],
                result["per_plan"]["compute_routes"],
                result["upstream_calls_per_plan"],
                result["cache_hit_ratio"],
                result["latency_s"]["p50"],
                result["latency_s"]["p95"],
                result["usd_per_1000_plans"],
            ]
            for result in passes
        ],
    )
    lines += _before_after(data)
    lines += [
        "`cold`: new instance, empty caches. `warm L1`: the same instance again. `warm L2`: a new instance (empty "
        "in-process cache) on the same Firestore cache. Offline plans use no Gemini tokens; a Gemini plan adds its "
        "tokens at the Gemini prices below (the planner reports them per trip in `planner.tokens`).",
        "",
        f"### Price table used ({data.get('prices_as_of', 'unknown date')})",
        "",
        "Source: Google Maps Platform pricing (https://developers.google.com/maps/billing-and-pricing/pricing, SKUs "
        "after the March 2025 change: Essentials / Pro / Enterprise) and Vertex AI generative AI pricing "
        "(https://cloud.google.com/vertex-ai/generative-ai/pricing), first volume tier, before the monthly free "
        "usage caps. Written from the author's knowledge of the 2025 lists; this machine has no network to re-check "
        "them, so verify before relying on the totals. The SKU follows the most expensive field in each field mask.",
        "",
    ]
    lines += _table(
        ["counted as", "SKU", "USD per 1,000 units", "unit"],
        [
            [key, price["sku"], round(price["usd_per_1000"], 6), price["unit"]]
            for key, price in data.get("prices", {}).items()
        ],
    )
    return lines


def load_section() -> list[str]:
    lines = ["## Load on one instance (bench/load_bench.py)", ""]
    data = _load("load")
    if data is None:
        return lines + _missing("load", ".venv/bin/python -m bench.load_bench")
    lines += [
        f"{data['users']} users send {data['requests']} one-day plan requests at once (one thread per user) to one "
        "plan_trip functions-framework server, loopback, zero-latency Maps stand-in, warm Maps cache, deployed quotas "
        "(5 plans a minute per user: the 429s are those).",
        "",
    ]
    lines += _table(
        ["answers", "statuses", "wall s", "answers/s", "trip docs per user == 201s", "duplicate trip ids"],
        [
            [
                data["latencies_ms"]["count"],
                ", ".join(f"{status}: {count}" for status, count in data["statuses"].items()),
                data["wall_seconds"],
                data["throughput_per_second"],
                data["trips_per_user_match"],
                data["duplicate_trip_ids"],
            ]
        ],
    )
    lines += _table(
        ["latency (ms)", "p50", "p95", "p99", "max", "mean"],
        [
            [label, row["p50"], row["p95"], row["p99"], row["max"], row["mean"]]
            for label, row in (("all answers", data["latencies_ms"]), ("201 only", data["created_ms"]))
        ],
    )
    if data.get("unexpected"):
        lines += ["Unexpected answers:", "", *[f"- `{item}`" for item in data["unexpected"][:20]], ""]
    return lines


def coldstart_section() -> list[str]:
    lines = ["## Cold start per function (bench/coldstart_bench.py)", ""]
    data = _load("coldstart")
    if data is None:
        return lines + _missing("coldstart", ".venv/bin/python -m bench.coldstart_bench")
    lines += [
        f"A fresh interpreter per run ({data['runs_per_function']} runs, median, ms): import functions_framework, "
        "import the source as functions-framework does, then one request that runs the function's lazy imports and "
        "is refused before any network call (401, or an empty event).",
        "",
    ]
    lines += _table(
        ["function", "functions_framework", "source import", "first call", "total", "over bare hello", "answer"],
        [
            [
                name,
                row["framework_ms"],
                row["import_ms"],
                row["first_call_ms"],
                row["total_ms"],
                row.get("over_hello_ms", ""),
                row["status"],
            ]
            for name, row in data["functions"].items()
        ],
    )
    return lines


def soak_section() -> list[str]:
    lines = ["## Sustained use of the local stack (bench/soak_bench.py)", ""]
    data = _load("soak")
    if data is None:
        return lines + _missing("soak", ".venv/bin/python -m bench.soak_bench")
    lines += [
        f"{data['plans']} plans of 1-10 days over the catalogue cities, each by a new user and edited once (PATCH, so "
        "enrichment runs), through the stack as `make demo` leaves it (trigger relay listening) plus a client-style "
        "listener on one user's trips query. Targets: every plan 201, Firestore stand-in memory at the end <= 1.5x "
        "its memory after 10 plans, last-20 p50 <= 1.2x first-20 p50.",
        "",
    ]
    lines += _table(
        [
            "plans",
            "edits",
            "wall s",
            "rss MiB after N plans",
            "end / after 10",
            "first-20 p50 / p95 ms",
            "last-20 p50 / p95 ms",
            "last / first p50",
            "targets met",
        ],
        [
            [
                ", ".join(f"{code}: {count}" for code, count in data["plan_statuses"].items()),
                ", ".join(f"{code}: {count}" for code, count in data["edit_statuses"].items()),
                data["wall_seconds"],
                ", ".join(f"{m['after_plans']}: {m['rss_mib']}" for m in data["memory"]),
                data["memory_end_vs_after_10"],
                f"{data['first_20_ms']['p50']} / {data['first_20_ms']['p95']}",
                f"{data['last_20_ms']['p50']} / {data['last_20_ms']['p95']}",
                data["latency_last_vs_first_p50"],
                data["targets_met"],
            ]
        ],
    )
    return lines


def maps_section() -> list[str]:
    data = _load("maps")
    lines = ["## Maps layer (bench/maps_bench.py)", ""]
    if data is None:
        return lines + _missing("maps", ".venv/bin/python -m bench.maps_bench")
    if "rows" not in data:
        return [*lines, "```", json.dumps(data, indent=2)[:3000], "```", ""]
    lines += [
        f"City {data['city']}. `matrix`: resolve, 6 searches, a 25x25 walking matrix (what a plan bought before "
        "issue 13). `legs`: resolve, 1 search, the 49 legs of a 7-day plan (6 stops a day) by transit (each with "
        "its departure time) and by walking, through `route_legs` (what a plan buys now). Route cache documents "
        "created: Firestore writes of new documents in `maps_route_cache`.",
        "",
    ]
    if data.get("note"):
        lines += [str(data["note"]), ""]
    lines += _table(
        [
            "workload",
            "run",
            "wall ms",
            "upstream calls",
            "Compute Routes",
            "matrix elements",
            "L1 hits",
            "L2 hits",
            "route cache docs created",
        ],
        [
            [
                row.get("workload", "matrix"),
                row["run"],
                row["wall_ms"],
                row["upstream_calls"],
                row.get("compute_routes", "?"),
                row["billable_elements"],
                row["hits_l1"],
                row["hits_l2"],
                row.get("route_cache_documents_created", "?"),
            ]
            for row in data["rows"]
        ],
    )
    return lines


def enrich_section() -> list[str]:
    data = _load("enrich")
    lines = ["## enrich_places latency (bench/enrich_bench.py)", ""]
    if data is None:
        return [*lines, "Not measured: run `python -m bench.enrich_bench` (no `bench/out/enrich.json`).", ""]
    lines += [
        f"{data['days']} days x {data['stops_per_day']} stops (half by place id, half by name only), Maps stand-in "
        f"latency {data['latency_ms']} ms a call, Maps cache off, all days enriched.",
        "",
        "| fan-out | seconds | stops resolved | upstream calls | Compute Routes | matrix elements |",
        "|---|---|---|---|---|---|",
    ]
    for run in data["runs"]:
        calls = sum(run["upstream_calls"].values())
        lines.append(
            f"| {run['fan_out']} | {run['seconds']} | {run['stops_resolved']}/{run['stops']} | {calls} "
            f"| {run['upstream_calls'].get('compute_routes', 0)} | {run['matrix_elements']} |"
        )
    lines += ["", f"Speed-up of the fan-out: {data['speedup']}x.", ""]
    if data.get("note"):
        lines += [str(data["note"]), ""]
    return lines


def async_section() -> list[str]:
    lines = ["## Asynchronous planning (bench/async_bench.py)", ""]
    data = _load("async")
    if data is None:
        return lines + _missing("async", ".venv/bin/python -m bench.async_bench")
    accepts, ready, burst = data["accepts"], data["time_to_ready"], data["burst"]
    lines += [
        "plan_trip with `Prefer: respond-async` and plan_worker under functions-framework, a private queue on the "
        "Cloud Tasks stand-in, private zero-latency Maps stand-in, warm Maps cache, one-day trips. The stand-in "
        "polls its queue every 0.1 s and delivers one task at a time, so the time to ready carries up to 100 ms of "
        "its polling on top of the extra hop: a fixed cost of about 0.1 s, far more than 10% of these 0.1 s "
        "offline plans, under 10% only of plans longer than about 1 s (a Gemini plan takes tens of seconds; not "
        "measured here).",
        "",
    ]
    lines += _table(
        ["202, one at a time (ms)", "p50", "p95", "p99", "max", "statuses"],
        [
            [
                accepts["ms"]["count"],
                accepts["ms"]["p50"],
                accepts["ms"]["p95"],
                accepts["ms"]["p99"],
                accepts["ms"]["max"],
                ", ".join(f"{k}: {v}" for k, v in accepts["statuses"].items()),
            ]
        ],
    )
    lines += _table(
        ["city", "sync 201 ms", "async 202 ms", "async: POST to ready seen by a listener, ms"],
        [[row["city"], row["sync_ms"], row["accepted_ms"], row["async_ready_ms"]] for row in ready["rows"]],
    )
    lines += [
        f"Median time to ready: synchronous {ready['sync_median_ms']} ms, asynchronous {ready['async_median_ms']} ms "
        f"(x{ready['async_over_sync']}).",
        "",
    ]
    lines += _table(
        ["burst", "answers", "202 p95 ms", "trips", "claims per trip", "stuck", "planned twice", "s until all ended"],
        [
            [
                f"{burst['requests']} requests, {burst['users']} users",
                ", ".join(f"{k}: {v}" for k, v in burst["answers"].items()),
                burst["accept_ms"]["p95"],
                ", ".join(f"{k}: {v}" for k, v in burst["trip_statuses"].items()),
                ", ".join(f"{k}: {v}" for k, v in burst["planning_attempts"].items()),
                burst["stuck"],
                burst["planned_twice"],
                burst["wall_seconds_until_all_ended"],
            ]
        ],
    )
    return lines


def weather_section() -> list[str]:
    lines = ["## Weather-aware days (bench/weather_bench.py)", ""]
    data = _load("weather")
    if data is None:
        return lines + _missing("weather", ".venv/bin/python -m bench.weather_bench")
    summary = data["summary"]
    lines += [
        f"A {summary['days']}-day trip per city (offline planner, parks, gardens, viewpoints, museums and food asked "
        "for, two must-includes: the city's best rated outdoor place and its best rated museum), planned twice on the "
        "Maps stand-in's Weather API: every day forced dry, then rain forced on day "
        f"{summary['rainy_day']}. Outdoor share: outdoor stops / all stops of the day (meals included). The target: "
        "the rainy day's share at most a third of the trip's average, no must-include lost.",
        "",
    ]
    lines += _table(
        [
            "city",
            f"day {summary['rainy_day']} outdoor, all dry",
            f"day {summary['rainy_day']} outdoor, rain",
            "trip average, rain",
            "ratio",
            "stops dry / rain",
            "must-includes kept",
            "moved (said on the day)",
            "Weather API requests: plan / cached plan",
        ],
        [
            [
                row["city"],
                f"{row['dry_day2_share']:.0%}",
                f"{row['rain_day2_share']:.0%}",
                f"{row['rain_trip_share']:.0%}",
                row["ratio"],
                f"{row['stops_dry']} / {row['stops_rain']}",
                f"{row['must_kept']}/{len(row['must_include'])}",
                len(row["moved"]),
                f"{row['weather_requests']['rain']} / {row['weather_requests']['cached']}",
            ]
            for row in data["rows"]
        ],
    )
    lines += [
        f"Cities within a third: {summary['cities_within_a_third']}/{summary['cities']} (largest ratio "
        f"{summary['max_ratio']}); must-includes kept {summary['must_includes_kept']}. Weather API: "
        f"{summary['weather_requests_per_plan']} request per plan (one lookup of up to 10 days per city), "
        f"{summary['weather_requests_per_cached_plan']} on the cached forecast; at "
        f"{summary['weather_usd_per_1000_requests']} USD per 1,000 requests (as recalled, not verified), "
        f"{summary['weather_usd_per_1000_plans']} USD per 1,000 plans.",
        "",
    ]
    return lines


def multicity_section() -> list[str]:
    lines = ["## Multi-city trips (bench/multicity_bench.py)", ""]
    data = _load("multicity")
    if data is None:
        return lines + _missing("multicity", ".venv/bin/python -m bench.multicity_bench")
    summary = data["summary"]
    lines += [
        "Offline planner, private zero-latency Maps stand-in with road variation on (trains and roads between cities "
        "do not vary), 2 travellers, a must-include per city where the catalogue has one. Violations: every run of "
        "the itinerary validator during planning (each city's full days and each part of a travel day, on the real "
        "legs used). Transfers accounted for: on the first day of the city reached, in that day's `transfers` cost "
        "and in the budget, whose total is the sum of the days. `~`: an estimated flight (the stand-in's Routes has "
        "no train or road route).",
        "",
    ]
    rows = []
    for row in data["rows"]:
        if "error" in row:
            rows.append([" + ".join(c["destination"] for c in row["request"]["destinations"]), row["error"]] + [""] * 7)
            continue
        moves = "; ".join(
            f"{item['from']}->{item['to']} {item['mode']}{'~' if item['estimated'] else ''} {item['depart']}-"
            f"{item['arrive']} ({item['minutes']} min, {item['cost']:.0f})"
            for item in row["transfers"]
        )
        rows.append(
            [
                " + ".join(row["cities"]),
                f"{row['request']['transport']}, {row['request']['pace']}",
                row["days"],
                f"{row['violations']} in {row['validator_runs']} runs",
                f"{row['transfers_accounted']}/{row['moves']}",
                row["overlaps"],
                row["meals_missing_unexplained"],
                f"{row['total_cost']:.0f} {row['currency']} ({row['transfer_cost']:.0f} transfers)",
                moves,
            ]
        )
    lines += _table(
        [
            "cities",
            "transport, pace",
            "days",
            "violations",
            "transfers accounted",
            "overlaps",
            "meals missing",
            "cost",
            "transfers (local depart-arrive)",
        ],
        rows,
    )
    lines += [
        f"{summary['planned']}/{summary['trips']} trips planned, {summary['violations']} validator violations in "
        f"{summary['validator_runs']} runs, {summary['transfers_accounted']}/{summary['moves']} transfers accounted "
        f"for ({summary['estimated_transfers']} estimated), {summary['overlaps']} stops overlapping a transfer, "
        f"{summary['stops_outside_their_city']} stops outside their day's city, "
        f"{summary['meals_missing_unexplained']} meals missing without a reason, "
        f"{summary['must_includes_dropped']} must-includes dropped.",
        "",
    ]
    return lines


def replan_section() -> list[str]:
    lines = ["## Re-planning the rest of a day (bench/replan_bench.py)", ""]
    data = _load("replan")
    if data is None:
        return lines + _missing("replan", ".venv/bin/python -m bench.replan_bench")
    lines += [
        "A two-day trip per catalogue city (offline planner, moderate pace, transit), private zero-latency stand-ins, "
        "in-process `replan_day`; day 2 re-planned three ways from the planned trip: the whole day (first, so it "
        "warms the Maps cache the others reuse), from 14:30 at a point 300 m from the stop the traveller is at, and "
        "the same with the first sight after 16:00 locked. The day is read from the rest planned from the point "
        "(the whole day for the baseline): dinner kept when it was ahead, waits over 60 minutes between stops.",
        "",
    ]
    rows = []
    for kind, summary in data["summary"].items():
        rows.append(
            [
                kind,
                summary["replans"],
                summary["failed"],
                summary["ms_p50"],
                summary["ms_p95"],
                summary["upstream_calls_mean"],
                summary["usd_per_1000"],
                summary["dinner_kept_when_ahead"],
                summary["days_with_gap_over_60"],
                summary["days_with_unexplained_gap_over_60"],
                summary["locks_kept"],
                summary["median_end"],
            ]
        )
    lines += _table(
        [
            "re-plan",
            "re-plans",
            "failed",
            "p50 ms",
            "p95 ms",
            "upstream Maps calls",
            "Maps USD per 1,000",
            "dinner kept (when ahead)",
            "days with a wait > 60 min",
            "unexplained",
            "locks kept",
            "median end",
        ],
        rows,
    )
    return lines


def render() -> str:
    lines = [
        "# Benchmark report",
        "",
        f"Generated by `make bench` (`bench/report.py`) on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
        f"Python {platform.python_version()}, {platform.machine()}, against the local stand-ins (loopback only). "
        "Numbers are from this machine; they are not assertions.",
        "",
    ]
    for section in (
        engine_section,
        quality_section,
        plan_section,
        load_section,
        soak_section,
        coldstart_section,
        enrich_section,
        maps_section,
        async_section,
        weather_section,
        multicity_section,
        replan_section,
    ):
        lines += section()
    return "\n".join(lines).rstrip() + "\n"


SECTIONS = {
    "engine": engine_section,
    "quality": quality_section,
    "plan": plan_section,
    "load": load_section,
    "soak": soak_section,
    "coldstart": coldstart_section,
    "enrich": enrich_section,
    "maps": maps_section,
    "async": async_section,
    "weather": weather_section,
    "multicity": multicity_section,
    "replan": replan_section,
}


def splice(report: str, sections: list[list[str]]) -> str:
    """``report`` with each section (its ``## `` heading and what follows, up to the next ``## ``) replaced by the
    new rendering, or appended when the report has no such heading."""
    text = report.rstrip() + "\n"
    for lines in sections:
        if not lines:
            continue
        heading = lines[0]
        block = "\n".join(lines).rstrip() + "\n"
        start = text.find(heading + "\n")
        if start < 0:
            text += "\n" + block
            continue
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + block + (text[end:] if end >= 0 else "")
    return text


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only",
        help="comma-separated sections to re-render in the existing report, keeping the others' numbers "
        f"({', '.join(SECTIONS)})",
    )
    arguments = parser.parse_args(argv)
    if arguments.only and REPORT_PATH.exists():
        names = [name.strip() for name in arguments.only.split(",") if name.strip()]
        unknown = sorted(set(names) - set(SECTIONS))
        if unknown:
            parser.error(f"unknown sections: {unknown}")
        rendered = [SECTIONS[name]() for name in names]
        REPORT_PATH.write_text(splice(REPORT_PATH.read_text(encoding="utf-8"), rendered), encoding="utf-8")
    else:
        REPORT_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {REPORT_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
