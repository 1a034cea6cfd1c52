"""Re-planning the rest of a day from where the traveller is: latency, Maps work and the day as lived (not a test).

Run from the repo root: ``.venv/bin/python -m bench.replan_bench``. Starts a private Firestore stand-in and a private
zero-latency Maps stand-in (its counters are the billing truth), plans a two-day trip per catalogue city (offline
planner, moderate pace, transit), then re-plans day 2 three ways, each from the planned trip:

- ``whole day``: ``POST .../days/2/replan`` without a body (the baseline);
- ``from 14:30``: ``from`` 14:30 at a point 300 m from the stop the traveller is at then;
- ``from 14:30, lock``: the same after the first sight after 16:00 was locked (the rest is planned around it).

Measures per re-plan: wall time, upstream Maps calls and their USD (``plan_bench.PRICES``), and as a traveller reads
the rest of the day (the stops planned from the point): dinner kept when it was ahead, waits over 60 minutes and
whether a warning explains them, when the day ends. Writes ``bench/out/replan.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from pathlib import Path
from typing import Any

from bench.plan_bench import CITIES, _admin_calls, _delta, _deps_factory, _minute, day_quality, percentile, usd_per_plan

OUTPUT_PATH = Path(__file__).resolve().parent / "out" / "replan.json"
FROM = "14:30"
LOCK_AFTER = "16:00"
GAP_MINUTES = 60
METRES_PER_DEGREE = 111_000.0


def _point_near(day: dict[str, Any], minute: int, destination: dict[str, Any]) -> dict[str, float]:
    """300 m north of the stop the traveller is at (or last left) at ``minute``; the destination centre if none."""
    at = [stop for stop in day["stops"] if _minute(stop["arrive"]) <= minute and stop.get("location")]
    where = at[-1]["location"] if at else destination["location"]
    return {"lat": round(where["lat"] + 300 / METRES_PER_DEGREE, 6), "lng": where["lng"]}


def _rest(day: dict[str, Any]) -> dict[str, Any]:
    start = day.get("replanned_from")
    return day | {"stops": day["stops"][start["first_stop"] :]} if start else day


def _lock_body(trip: Any) -> dict[str, Any] | None:
    from common.foundation.times import clock_minutes

    day = trip.days[1]
    for stop in day.stops:
        if not stop.meal and clock_minutes(stop.arrive) >= _minute(LOCK_AFTER) and stop.place_id:
            stops: list[dict[str, Any]] = [
                {"place_id": other.place_id, "arrive": other.arrive, "depart": other.depart} for other in day.stops
            ]
            stops[day.stops.index(stop)]["locked"] = True
            return {"version": trip.version, "days": [{"date": day.date.isoformat(), "stops": stops}]}
    return None


def _store_as(deps: Any, trip: Any) -> None:
    """Store ``trip``'s days and version (each re-plan starts from the same planned, or locked, day)."""
    from common.services.trips import store

    def put(_current: Any) -> tuple[Any, tuple[str, ...]]:
        return trip, ("days", "version")

    store.update_trip(deps.firestore, trip.id, put)


def run(deps: Any, endpoint: str) -> dict[str, Any]:
    from common.foundation.errors import AppError
    from common.services.planning.replan import replan_day
    from common.services.planning.service import plan_new_trip
    from common.services.trips import editing, store
    from common.services.trips.models import ReplanOptions

    start = dt.date.today() + dt.timedelta(days=45)
    rows: list[dict[str, Any]] = []
    for index, city in enumerate(CITIES):
        body = {
            "destination": city,
            "start_date": start.isoformat(),
            "end_date": (start + dt.timedelta(days=1)).isoformat(),
            "transport": "transit",
        }
        uid = f"replan-user-{index}"
        planned = plan_new_trip(uid, body, deps)
        before_day = planned["days"][1]
        dinner_ahead = any(
            stop["meal"] == "dinner" and _minute(stop["arrive"]) >= _minute(FROM) for stop in before_day["stops"]
        )
        point = _point_near(before_day, _minute(FROM), planned["destination"])
        trip = store.read_trip(deps.firestore, planned["id"])
        assert trip is not None
        lock = _lock_body(trip)
        locked_trip = None
        if lock is not None:
            patch, version = editing.parse_patch(lock, trip, deps.settings, None)
            locked_trip, _ = editing.patch_fields(trip, patch, version, deps.clock())
        kinds: list[tuple[str, Any, ReplanOptions]] = [
            ("whole day", trip, ReplanOptions()),
            ("from 14:30", trip, ReplanOptions.model_validate({"from": {"time": FROM, "location": point}})),
        ]
        if locked_trip is not None:
            options = ReplanOptions.model_validate({"from": {"time": FROM, "location": point}})
            kinds.append(("from 14:30, lock", locked_trip, options))
        for kind, source, options in kinds:
            _store_as(deps, source)
            calls_before = _admin_calls(endpoint)
            started = time.perf_counter()
            try:
                replanned = replan_day(deps, source, uid, 2, None, options)
            except AppError as error:
                rows.append({"city": city, "kind": kind, "failed": f"{error.code}: {error.message}"})
                print(f"{city:<14} {kind:<17} failed: {error.code} {error.message}")
                continue
            seconds = time.perf_counter() - started
            upstream = _delta(calls_before, _admin_calls(endpoint))
            day = replanned.api_view()["days"][1]
            quality = day_quality(_rest(day))
            locks_kept = all(
                any(
                    (kept["place_id"], kept["arrive"], kept["depart"]) == (stop.place_id, stop.arrive, stop.depart)
                    for kept in day["stops"]
                )
                for stop in source.days[1].stops
                if stop.locked
            )
            row = {
                "city": city,
                "kind": kind,
                "ms": round(seconds * 1000, 1),
                "upstream": upstream,
                "usd": round(usd_per_plan(upstream), 5),
                "dinner_ahead": dinner_ahead,
                "dinner_kept": "dinner" in quality["meals"],
                "long_gaps": [gap for gap in quality["idle_gaps"] if gap > GAP_MINUTES],
                "gap_explained": quality["gap_explained"],
                "ends": quality["ends"],
                "rest_stops": quality["stops"],
                "locks_kept": locks_kept,
                "changes": day["changes"],
                "day": [
                    f"{stop['arrive']}-{stop['depart']} {stop['name']} ({stop['meal'] or stop['category']})"
                    + (" locked" if stop["locked"] else "")
                    for stop in day["stops"]
                ],
                "warnings": day["warnings"],
            }
            rows.append(row)
            print(
                f"{city:<14} {kind:<17} {row['ms']:>7} ms {sum(upstream.values()):>3} calls "
                f"dinner {'kept' if row['dinner_kept'] else ('LOST' if dinner_ahead else '-')} "
                f"gaps>60 {row['long_gaps']}{' (explained)' if row['gap_explained'] else ''} ends {row['ends']}"
            )
    return {"rows": rows, "summary": summarise(rows)}


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for kind in ("whole day", "from 14:30", "from 14:30, lock"):
        done = [row for row in rows if row["kind"] == kind and "failed" not in row]
        failed = [row for row in rows if row["kind"] == kind and "failed" in row]
        if not done and not failed:
            continue
        times = [row["ms"] for row in done]
        ahead = [row for row in done if row["dinner_ahead"]]
        summary[kind] = {
            "replans": len(done),
            "failed": len(failed),
            "ms_p50": round(statistics.median(times), 1) if times else None,
            "ms_p95": round(percentile(times, 0.95), 1) if times else None,
            "upstream_calls_mean": round(statistics.mean(sum(row["upstream"].values()) for row in done), 2)
            if done
            else None,
            "usd_per_1000": round(1000 * statistics.mean(row["usd"] for row in done), 2) if done else None,
            "dinner_kept_when_ahead": f"{sum(row['dinner_kept'] for row in ahead)}/{len(ahead)}",
            "days_with_unexplained_gap_over_60": sum(
                1 for row in done if row["long_gaps"] and not row["gap_explained"]
            ),
            "days_with_gap_over_60": sum(1 for row in done if row["long_gaps"]),
            "locks_kept": f"{sum(row['locks_kept'] for row in done)}/{len(done)}" if "lock" in kind else "-",
            "median_end": sorted(row["ends"] for row in done if row["ends"])[len(done) // 2] if done else None,
        }
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=OUTPUT_PATH)
    arguments = parser.parse_args()
    from bench.standins import private_standins, write_result

    with private_standins() as endpoint:
        result = run(_deps_factory(endpoint)(), endpoint)
    write_result(result, arguments.output, key_width=0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
