"""The inputs enrichment depends on, and their hashes.

Per day: the date and each stop's place id (or its name while unresolved), arrival, departure and lock; for the trip:
the transport mode. Enrichment stores the hash of these inputs *as it wrote them back* (names resolved to ids, automatic
times filled in), so the event of its own write finds nothing to do.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from common.domain.maps.names import casefolded
from common.services.trips.models import Day, Stop, Trip


def stop_key(stop: Stop) -> str:
    """``id:<place id>`` for a resolved stop, ``name:<folded name>`` for one added by name only."""
    if stop.place_id:
        return f"id:{stop.place_id}"
    return "name:" + casefolded(stop.name)


def day_inputs(day: Day) -> list[Any]:
    # A lock is an input only when set, so the hashes of days without locks stay what they were.
    stops = [[stop_key(stop), stop.arrive, stop.depart, *(["locked"] if stop.locked else [])] for stop in day.stops]
    return [day.date.isoformat(), stops]


def _digest(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def day_hash(day: Day) -> str:
    return _digest(day_inputs(day))


def day_hashes(days: Iterable[Day]) -> dict[str, str]:
    """``{date: hash}`` of every day."""
    return {day.date.isoformat(): day_hash(day) for day in days}


def input_hash(days: Iterable[Day], transport: str | None) -> str:
    """One hash of everything enrichment depends on (days in date order, and the transport mode)."""
    hashes = day_hashes(days)
    return _digest({"transport": transport, "days": sorted(hashes.items())})


def trip_input_hash(trip: Trip) -> str:
    return input_hash(trip.days, trip.transport)


def changed_dates(trip: Trip) -> list[str]:
    """Dates whose inputs differ from what enrichment last saw.

    Without any stored hashes the days came from the planner (which already computed legs and times): only days
    holding a stop still without a place id count as changed. A change of transport changes every day.
    """
    enrichment = trip.enrichment
    stored = enrichment.day_hashes if enrichment else None
    if stored is None:
        return [day.date.isoformat() for day in trip.days if any(not stop.place_id for stop in day.stops)]
    if enrichment is not None and enrichment.transport not in (None, trip.transport):
        return [day.date.isoformat() for day in trip.days]
    return [day.date.isoformat() for day in trip.days if stored.get(day.date.isoformat()) != day_hash(day)]
