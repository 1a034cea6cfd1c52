"""Stored trips for unit tests, written as the partial dicts a test cares about and completed with neutral defaults
into the typed ``Trip`` (so each test states only what it checks)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from common.services.trips import store
from common.services.trips.models import Day, Trip

T0 = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)


def _money(currency: str) -> dict[str, Any]:
    return {"amount": 0.0, "currency": currency}


def _stop(stop: dict[str, Any], currency: str) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "place_id": None,
        "name": "",
        "category": "other",
        "location": None,
        "arrive": "00:00",
        "depart": "00:00",
        "duration_min": 0,
        "cost_estimate": _money(currency),
        "description": "",
        "travel_from_previous": None,
        "warnings": [],
    }
    return defaults | stop


def _day(day: dict[str, Any], currency: str) -> dict[str, Any]:
    defaults = {"theme": "", "summary": "", "travel_min": 0, "cost_estimate": _money(currency), "warnings": []}
    return defaults | day | {"stops": [_stop(stop, currency) for stop in day.get("stops", [])]}


def trip_from(partial: dict[str, Any]) -> Trip:
    """A typed stored trip from the fields a test gives (days, stops, budget and destination may be partial)."""
    budget = partial.get("budget")
    currency = str((budget or {}).get("currency") or "EUR")
    days = [_day(day, currency) for day in partial.get("days", [])]
    start = partial.get("start_date") or (days[0]["date"] if days else "2026-06-01")
    end = partial.get("end_date") or (days[-1]["date"] if days else start)
    full: dict[str, Any] = {
        "id": "t1",
        "user_id": "owner",
        "status": "ready",
        "version": 1,
        "destination": None,
        "travelers": 1,
        "pace": "moderate",
        "transport": "transit",
        "language": "en",
        "dropped": [],
        "warnings": [],
        "planner": None,
        "progress": {"stage": "done", "updated_at": T0},
        "created_at": T0,
        "updated_at": T0,
        **partial,
        "start_date": start,
        "end_date": end,
        "days": days,
    }
    full.setdefault("request", {"destination": "Paris", "start_date": str(start), "end_date": str(end)})
    if budget is not None:
        full["budget"] = {"limit": None, "estimated_total": 0.0, "by_category": {}} | budget
    else:
        full["budget"] = None
    if partial.get("destination"):
        neutral = {"place_id": "destination", "location": {"lat": 0.0, "lng": 0.0}, "time_zone": "Europe/Paris"}
        full["destination"] = neutral | partial["destination"]
    return store.from_document(full)


def day_documents(days: Iterable[Day]) -> list[dict[str, Any]]:
    """Days in their stored (Firestore) form, to compare with plain dicts."""
    return [store.document_of(day) for day in days]


def typed_days(days: Iterable[dict[str, Any]], currency: str = "EUR") -> list[Day]:
    return [Day.model_validate(_day(day, currency)) for day in days]
