"""The inputs enrichment depends on, and their hashes.

Per day: the date and each stop's place id (or its name while unresolved), arrival and departure; for the trip: the
transport mode. Enrichment stores the hash of these inputs *as it wrote them back* (names resolved to ids, automatic
times filled in), so the event of its own write finds nothing to do.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any


def stop_key(stop: Mapping[str, Any]) -> str:
    """``id:<place id>`` for a resolved stop, ``name:<folded name>`` for one added by name only."""
    place_id = stop.get("place_id")
    if place_id:
        return f"id:{place_id}"
    return "name:" + " ".join(str(stop.get("name") or "").casefold().split())


def day_inputs(day: Mapping[str, Any]) -> list[Any]:
    return [
        str(day.get("date")),
        [[stop_key(stop), stop.get("arrive"), stop.get("depart")] for stop in day.get("stops") or []],
    ]


def _digest(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def day_hash(day: Mapping[str, Any]) -> str:
    return _digest(day_inputs(day))


def day_hashes(days: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """``{date: hash}`` of every day."""
    return {str(day.get("date")): day_hash(day) for day in days}


def input_hash(days: Iterable[Mapping[str, Any]], transport: str | None) -> str:
    """One hash of everything enrichment depends on (days in date order, and the transport mode)."""
    hashes = day_hashes(days)
    return _digest({"transport": transport, "days": sorted(hashes.items())})


def trip_input_hash(trip: Mapping[str, Any]) -> str:
    return input_hash(trip.get("days") or [], trip.get("transport"))


def changed_dates(trip: Mapping[str, Any]) -> list[str]:
    """Dates whose inputs differ from what enrichment last saw.

    Without any stored hashes the days came from the planner (which already computed legs and times): only days
    holding a stop still without a place id count as changed. A change of transport changes every day.
    """
    enrichment = trip.get("enrichment") or {}
    stored = enrichment.get("day_hashes")
    days = trip.get("days") or []
    if not isinstance(stored, Mapping):
        return [
            str(day.get("date")) for day in days if any(not stop.get("place_id") for stop in day.get("stops") or [])
        ]
    if enrichment.get("transport") not in (None, trip.get("transport")):
        return [str(day.get("date")) for day in days]
    return [str(day.get("date")) for day in days if stored.get(str(day.get("date"))) != day_hash(day)]
