"""Multi-city trips over pairs (and one triple) of catalogue cities, through ``plan_new_trip`` in this process (not a
test).

Run from the repo root: ``.venv/bin/python -m bench.multicity_bench``. Starts a private Firestore stand-in and a
private zero-latency Maps stand-in with road variation on (real legs in town differ from the planner's estimates;
trains and roads between cities do not vary), plans each trip of ``TRIPS`` with the offline planner and reads it as
a traveller would:

- validator violations: every run of the itinerary validator during planning (each city's full days and each part
  of a travel day, on the real legs the plan uses) is counted, with what it found (a plan with any is stored failed);
- transfers accounted for: each move between cities is a transfer on the first day of the city reached, with its
  cost in that day's ``transfers`` and in the trip budget, and the budget's total is the sum of the days;
- overlaps: stops running into a transfer; stops farther than 50 km from their day's city; days without lunch or
  dinner and no warning saying why.

Prints a table and writes ``bench/out/multicity.json`` (``bench/report.py`` renders it in bench/REPORT.md).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

OUTPUT_PATH = Path(__file__).resolve().parent / "out" / "multicity.json"
NEAR_CITY_M = 50_000
# (cities with nights, transport, pace)
TRIPS: tuple[tuple[tuple[tuple[str, int], ...], str, str], ...] = (
    ((("Tokyo", 3), ("Kyoto", 2)), "transit", "moderate"),
    ((("Kyoto", 2), ("Tokyo", 3)), "walk", "relaxed"),
    ((("London", 2), ("Paris", 3)), "transit", "packed"),
    ((("London", 1), ("Paris", 2)), "transit", "relaxed"),
    ((("Paris", 2), ("London", 2)), "drive", "moderate"),
    ((("Rome", 3), ("Paris", 2)), "transit", "moderate"),
    ((("Paris", 2), ("Rome", 2)), "walk", "packed"),
    ((("Barcelona", 2), ("Paris", 2)), "transit", "relaxed"),
    ((("London", 2), ("Paris", 2), ("Rome", 2)), "transit", "moderate"),
    ((("Tokyo", 2), ("Kyoto", 1), ("Tokyo", 1)), "transit", "moderate"),
)
MUST_INCLUDE: dict[str, str] = {"Kyoto": "Fushimi Inari Taisha", "Paris": "Louvre Museum", "Tokyo": "Senso-ji"}


def request_body(cities: tuple[tuple[str, int], ...], transport: str, pace: str, start: dt.date) -> dict[str, Any]:
    nights = sum(count for _, count in cities)
    return {
        "destinations": [{"destination": name, "nights": count} for name, count in cities],
        "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=nights)).isoformat(),
        "travelers": 2,
        "budget": {"amount": 5000, "currency": "EUR"},
        "interests": ["museums", "food", "history"],
        "pace": pace,
        "transport": transport,
        "must_include": sorted({MUST_INCLUDE[name] for name, _ in cities if name in MUST_INCLUDE}),
        "dietary": ["vegetarian"] if transport == "walk" else [],
    }


def read_trip(trip: dict[str, Any]) -> dict[str, Any]:
    """What a traveller would check: transfers, overlaps, meals, stops in their city, the budget."""
    from common.domain.maps import LatLng, Waypoint
    from common.domain.maps.legs import straight_metres
    from common.services.planning.cities import transfer_overlaps
    from common.services.trips.models import Day

    cities, days = trip["cities"], trip["days"]
    transfers, accounted, overlaps, far, meals_missing = [], 0, 0, 0, 0
    for index, day in enumerate(days):
        typed = Day.model_validate(day)
        overlaps += len(transfer_overlaps(typed))
        transfer = day["transfer"]
        if transfer is not None:
            transfers.append(transfer)
            cost = transfer["cost_estimate"]["amount"]
            if (
                day["city"] == transfer["to_city"]
                and cities[day["city"]]["first_day"] == index + 1
                and (day["cost_by_category"] or {}).get("transfers") == cost
            ):
                accounted += 1
        before, after = typed.stops_around_transfer()
        for stops, city_index in ((before, transfer["from_city"] if transfer else day["city"]), (after, day["city"])):
            centre = cities[city_index]["location"]
            anchor = Waypoint(id="c", location=LatLng(latitude=centre["lat"], longitude=centre["lng"]))
            for stop in stops:
                if stop.location is None:
                    continue
                where = Waypoint(id="s", location=LatLng(latitude=stop.location.lat, longitude=stop.location.lng))
                far += straight_metres(anchor, where) > NEAR_CITY_M
        served = {stop["meal"] for stop in day["stops"]}
        said = " ".join(day["warnings"])
        meals_missing += sum(1 for meal in ("lunch", "dinner") if meal not in served and meal not in said)
    budget = trip["budget"]
    transfer_total = round(sum(item["cost_estimate"]["amount"] for item in transfers), 2)
    budget_ok = (
        abs(budget["by_category"].get("transfers", 0.0) - transfer_total) < 0.01
        and abs(budget["estimated_total"] - sum(day["cost_estimate"]["amount"] for day in days)) < 0.01
    )
    return {
        "cities": [city["name"] for city in cities],
        "days": len(days),
        "transfers": [
            {
                "from": item["from_name"],
                "to": item["to_name"],
                "mode": item["mode"],
                "depart": item["depart"],
                "arrive": item["arrive"],
                "minutes": item["duration_min"],
                "estimated": item["estimated"],
                "cost": item["cost_estimate"]["amount"],
            }
            for item in transfers
        ],
        "moves": len(cities) - 1,
        "transfers_accounted": accounted if budget_ok else 0,
        "overlaps": overlaps,
        "stops_outside_their_city": far,
        "meals_missing_unexplained": meals_missing,
        "stops": sum(len(day["stops"]) for day in days),
        "total_cost": budget["estimated_total"],
        "transfer_cost": transfer_total,
        "currency": budget["currency"],
        "dropped_must_includes": [item["name"] for item in trip["dropped"] if item["name"] in MUST_INCLUDE.values()],
    }


def run(deps: Any) -> dict[str, Any]:
    from common.foundation.errors import AppError
    from common.services.planning import service

    found: list[str] = []
    runs = [0]
    validate = vars(service)["validate"]

    def counting_validate(problem: Any, itinerary: Any) -> Any:
        violations = validate(problem, itinerary)
        runs[0] += 1
        found.extend(f"{item.rule}: {item.message}" for item in violations)
        return violations

    vars(service)["validate"] = counting_validate  # every validator run of planning, counted (the bench only)
    start = dt.date.today() + dt.timedelta(days=60)
    rows: list[dict[str, Any]] = []
    try:
        for index, (cities, transport, pace) in enumerate(TRIPS):
            body = request_body(cities, transport, pace, start)
            before_runs, before_found = runs[0], len(found)
            started = time.perf_counter()
            try:
                trip = service.plan_new_trip(f"multicity-user-{index}", body, deps)
            except AppError as error:
                rows.append({"request": body, "error": f"{error.code}: {error.message}", "violations": 1})
                print(f"{' + '.join(name for name, _ in cities):<28} failed: {error.code} {error.message}")
                continue
            row = read_trip(trip) | {
                "request": {"transport": transport, "pace": pace},
                "seconds": round(time.perf_counter() - started, 3),
                "validator_runs": runs[0] - before_runs,
                "violations": len(found) - before_found,
                "violation_messages": found[before_found:],
            }
            rows.append(row)
            moves = ", ".join(
                f"{item['from']}->{item['to']} {item['mode']}{'~' if item['estimated'] else ''} "
                f"{item['depart']}-{item['arrive']} ({item['minutes']} min, {item['cost']:.0f})"
                for item in row["transfers"]
            )
            print(
                f"{' + '.join(row['cities']):<28} {transport:<7} {pace:<8} {row['days']:>2}d "
                f"viol {row['violations']} runs {row['validator_runs']:>2} transfers {row['transfers_accounted']}/"
                f"{row['moves']} overlaps {row['overlaps']} far {row['stops_outside_their_city']} meals- "
                f"{row['meals_missing_unexplained']} cost {row['total_cost']:.0f} {row['currency']} | {moves}"
            )
    finally:
        vars(service)["validate"] = validate
    planned = [row for row in rows if "error" not in row]
    summary = {
        "trips": len(rows),
        "planned": len(planned),
        "failed": len(rows) - len(planned),
        "validator_runs": sum(row["validator_runs"] for row in planned),
        "violations": sum(row["violations"] for row in rows),
        "moves": sum(row["moves"] for row in planned),
        "transfers_accounted": sum(row["transfers_accounted"] for row in planned),
        "estimated_transfers": sum(1 for row in planned for item in row["transfers"] if item["estimated"]),
        "overlaps": sum(row["overlaps"] for row in planned),
        "stops_outside_their_city": sum(row["stops_outside_their_city"] for row in planned),
        "meals_missing_unexplained": sum(row["meals_missing_unexplained"] for row in planned),
        "must_includes_dropped": sum(len(row["dropped_must_includes"]) for row in planned),
    }
    return {"summary": summary, "rows": rows}


def main() -> int:
    from bench.plan_bench import _deps_factory, _set_road_variation
    from bench.standins import private_standins, write_result

    with private_standins() as endpoint:
        _set_road_variation(endpoint, True)
        result = run(_deps_factory(endpoint)())
    write_result(result, OUTPUT_PATH, key_width=28)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
