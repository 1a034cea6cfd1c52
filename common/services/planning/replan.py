"""Re-plan one day of a stored trip: the other days stay as they are and their places are never reused."""

from __future__ import annotations

import datetime as dt
from typing import Any

from common.domain.maps import Destination, LatLng
from common.domain.maps.names import names_match
from common.foundation.errors import InvalidRequest
from common.services.planning.service import PlanningDeps, PlanningRun, choose_and_schedule
from common.services.trips.models import TripRequest

MAX_WISHES = 300


def _destination(trip: dict[str, Any]) -> Destination:
    stored = trip.get("destination") or {}
    location = stored.get("location") or {}
    if not stored.get("place_id") or "lat" not in location:
        raise InvalidRequest("this trip has no resolved destination to re-plan from")
    return Destination(
        place_id=stored["place_id"],
        name=stored.get("name") or trip["request"]["destination"],
        location=LatLng(latitude=location["lat"], longitude=location["lng"]),
        time_zone=stored.get("time_zone"),
        types=("locality",),
    )


def replan_trip_day(
    user_id: str, trip: dict[str, Any], day_index: int, wishes: str | None, deps: PlanningDeps
) -> dict[str, Any]:
    """The trip fields after re-planning day ``day_index`` (days, budget, dropped, warnings, planner).

    ``wishes`` (free text, bounded) is passed to the planner as one more interest for that day. Quotas and the
    session are the caller's business; ``user_id`` is recorded in logs only.
    """
    days: list[dict[str, Any]] = list(trip.get("days") or [])
    if not 0 <= day_index < len(days):
        raise InvalidRequest("no such day", details=[{"field": "day", "message": f"must be 0 to {len(days) - 1}"}])
    request = TripRequest.model_validate(trip["request"])
    date = dt.date.fromisoformat(days[day_index]["date"])
    interests = list(request.interests)
    if wishes and wishes.strip():
        interests = [" ".join(wishes.split())[:MAX_WISHES], *interests][:10]
    used_elsewhere = frozenset(
        stop["place_id"]
        for index, day in enumerate(days)
        if index != day_index
        for stop in day.get("stops", [])
        if stop.get("place_id")
    )
    # Must-includes already on another day stay there; those on this day must stay on it.
    this_day_names = [str(stop.get("name", "")) for stop in days[day_index].get("stops", [])]
    still_wanted = [name for name in request.must_include if any(names_match(name, other) for other in this_day_names)]
    update: dict[str, Any] = {
        "start_date": date,
        "end_date": date,
        "interests": interests,
        "must_include": still_wanted,
    }
    if request.budget is not None:
        spent_elsewhere = sum(day["cost_estimate"]["amount"] for index, day in enumerate(days) if index != day_index)
        update["budget"] = request.budget.model_copy(
            update={"amount": max(0.0, request.budget.amount - spent_elsewhere)}
        )
    day_request = request.model_copy(update=update)
    run = PlanningRun(trip_id=str(trip["id"]), session_id="", request=day_request)
    fields = choose_and_schedule(run, deps, _destination(trip), exclude_ids=used_elsewhere)
    new_day = fields["days"][0]
    days[day_index] = new_day

    by_category = {"activities": 0.0, "food": 0.0, "local_transport": 0.0}
    for day in days:
        for name, amount in (day.get("cost_by_category") or {}).items():
            by_category[name] = round(by_category.get(name, 0.0) + amount, 2)
    budget = dict(trip.get("budget") or fields["budget"])
    budget["by_category"] = by_category
    budget["estimated_total"] = round(sum(day["cost_estimate"]["amount"] for day in days), 2)

    warnings = [warning for warning in trip.get("warnings", []) if not warning.startswith("Day ")]
    if budget.get("limit") is not None and budget["estimated_total"] > budget["limit"]:
        warnings.append(f"Day {day_index + 1} re-planned: the trip now costs more than the budget")
    return {
        "days": days,
        "budget": budget,
        "dropped": fields["dropped"],
        "warnings": warnings,
        "planner": fields["planner"],
    }
