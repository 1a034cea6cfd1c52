"""The .ics export parsed back; the Firestore rules' invariants; a composite index for every registered query."""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import icalendar

from common.foundation.queries import QUERIES, QuerySpec
from common.services.trips.ics import trip_calendar
from tests.unit.trips.factories import trip_from

ROOT = Path(__file__).resolve().parents[3]


def _trip() -> dict[str, Any]:
    stop = {
        "place_id": "kyoto-nijo-castle",
        "name": "Nijo Castle",
        "category": "attraction",
        "location": {"lat": 35.0142, "lng": 135.7481},
        "arrive": "09:30",
        "depart": "11:00",
        "description": "Shogun residence.",
        "travel_from_previous": {"mode": "transit", "duration_min": 18, "distance_m": 4200},
        "warnings": ["closed: not open"],
    }
    second = stop | {"place_id": None, "name": "Tea house", "arrive": "23:00", "depart": "24:00", "location": None}
    return {
        "id": "trip1",
        "title": None,
        "destination": {"name": "Kyoto", "time_zone": "Asia/Tokyo"},
        "updated_at": dt.datetime(2026, 5, 1, tzinfo=dt.UTC),
        "days": [{"date": "2026-12-20", "stops": [stop, second]}],
    }


def test_ics_has_one_event_per_stop_in_local_time_with_stable_uids() -> None:
    calendar = icalendar.Calendar.from_ical(trip_calendar(trip_from(_trip())))
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 2
    first, second = events
    start = first.decoded("dtstart")
    assert start == dt.datetime(2026, 12, 20, 9, 30, tzinfo=start.tzinfo)
    assert start.utcoffset() == dt.timedelta(hours=9)
    assert first["dtstart"].params["TZID"] == "Asia/Tokyo"
    assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == ["Asia/Tokyo"]
    assert str(first["location"]) == "Nijo Castle"
    assert str(first.content_line("GEO", first["geo"])) == "GEO:35.0142;135.7481"
    assert "18 min by transit (4.2 km)" in str(first["description"])
    assert "closed" in str(first["description"])
    assert second.decoded("dtend") - second.decoded("dtstart") == dt.timedelta(hours=1), "24:00 is midnight"
    again = icalendar.Calendar.from_ical(trip_calendar(trip_from(_trip() | {"title": "Renamed"})))
    assert [str(event["uid"]) for event in again.walk("VEVENT")] == [str(first["uid"]), str(second["uid"])]
    assert str(first["uid"]) == "trip1-kyoto-nijo-castle@trip-planner"


# ----- rules ------------------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"//[^\n]*|'[^']*'|\"[^\"]*\"|[A-Za-z_][A-Za-z0-9_.]*|[0-9]+|\{[A-Za-z_=*]+\}|<=|>=|==|!=|&&|\|\||[{}();:,/<>!]"
)


def _rules_blocks(text: str) -> list[tuple[str, list[str]]]:
    """(match path, allow statements directly inside it), from a small tokenizer of the rules language."""
    tokens = [token for token in _TOKEN.findall(text) if not token.startswith("//")]
    blocks: list[tuple[str, list[str]]] = []
    stack: list[int] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token == "match":
            path = []
            index += 1
            while tokens[index] != "{":
                path.append(tokens[index])
                index += 1
            blocks.append(("".join(path), []))
            stack.append(len(blocks) - 1)
        elif token == "{":
            stack.append(-1)
        elif token == "}":
            stack.pop()
        elif token == "allow":
            statement = []
            while tokens[index] != ";":
                statement.append(tokens[index])
                index += 1
            owner = next(block for block in reversed(stack) if block >= 0)
            blocks[owner][1].append(" ".join(statement))
        index += 1
    assert not stack, "braces balance"
    return blocks


def open_writes(blocks: dict[str, list[str]]) -> list[str]:
    """Allow statements granting a write method with any condition but ``false``."""
    found = []
    for statements in blocks.values():
        for statement in statements:
            methods = statement.split(":")[0]
            if re.search(r"\b(write|create|update|delete)\b", methods) and not statement.endswith(": if false"):
                found.append(statement)
    return found


def test_rules_deny_by_default_and_let_clients_only_read_their_trips_and_profile() -> None:
    text = (ROOT / "firestore.rules").read_text()
    assert text.startswith("rules_version = '2';")
    blocks = dict(_rules_blocks(text))
    assert set(blocks) == {"/databases/{database}/documents", "/{document=**}", "/trips/{tripId}", "/users/{uid}"}
    assert blocks["/{document=**}"] == ["allow read , write : if false"]
    assert open_writes(blocks) == []
    trips = " ".join(blocks["/trips/{tripId}"])
    assert "allow list" in trips
    assert "request.query.limit <= 50" in trips
    assert "request.auth.uid in resource.data.shared_with_uids" in trips
    assert "resource.data.user_id == request.auth.uid" in trips
    assert blocks["/users/{uid}"][0] == "allow get : if request.auth != null && request.auth.uid == uid"
    for closed in ("ai_sessions", "quotas", "places_cache", "backups"):
        assert f"/{closed}/" not in "".join(blocks), f"{closed} must stay under the default deny"


def test_the_rules_checks_catch_an_open_write_and_a_missing_default_deny() -> None:
    bad = "rules_version = '2';\nservice cloud.firestore { match /databases/{database}/documents {\n"
    bad += "  match /trips/{tripId} { allow read, update: if request.auth != null; } } }"
    blocks = dict(_rules_blocks(bad))
    assert open_writes(blocks) == ["allow read , update : if request.auth != null"]
    assert "/{document=**}" not in blocks


# ----- indexes ----------------------------------------------------------------------------------------------------


def _serves(index: dict[str, Any], spec: QuerySpec) -> bool:
    if index.get("collectionGroup") != spec.collection or index.get("queryScope", "COLLECTION") != "COLLECTION":
        return False
    fields = index["fields"]
    prefix_names = set(spec.equals) | ({spec.array_contains} if spec.array_contains else set())
    prefix, rest = fields[: len(prefix_names)], fields[len(prefix_names) :]
    if {field["fieldPath"] for field in prefix} != prefix_names:
        return False
    for field in prefix:
        wants_contains = field["fieldPath"] == spec.array_contains
        if wants_contains != (field.get("arrayConfig") == "CONTAINS"):
            return False
    return [(field["fieldPath"], field.get("order")) for field in rest] == list(spec.orderings)


def test_every_query_that_needs_a_composite_index_has_one() -> None:
    document = json.loads((ROOT / "firestore.indexes.json").read_text())
    needing = [spec for spec in QUERIES.values() if spec.needs_composite_index]
    assert len(needing) >= 12
    missing = [spec.name for spec in needing if not any(_serves(index, spec) for index in document["indexes"])]
    assert missing == []
    ttl = {(item["collectionGroup"], item["fieldPath"]) for item in document["fieldOverrides"] if item.get("ttl")}
    assert {("places_cache", "expire_at"), ("quotas", "expire_at"), ("ai_sessions", "expires_at")} <= ttl


def test_index_matching_refuses_a_wrong_direction() -> None:
    spec = QUERIES["owned_trips"]
    good = {
        "collectionGroup": "trips",
        "fields": [
            {"fieldPath": "user_id", "order": "ASCENDING"},
            {"fieldPath": "created_at", "order": "DESCENDING"},
            {"fieldPath": "id", "order": "DESCENDING"},
        ],
    }
    assert _serves(good, spec)
    bad = json.loads(json.dumps(good))
    bad["fields"][2]["order"] = "ASCENDING"
    assert not _serves(bad, spec)


def _query_calls(path: Path) -> list[str]:
    """``where(...)``, ``FieldFilter(...)`` and ``order_by(...)`` calls in a module, as "name:line"."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name in {"FieldFilter", "order_by", "where"}:
            found.append(f"{name}:{node.lineno}")
    return found


def test_every_query_in_the_code_is_built_from_the_registry() -> None:
    outside = {}
    for path in sorted([*(ROOT / "common").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]):
        relative = path.relative_to(ROOT).as_posix()
        if relative != "common/foundation/queries.py" and (calls := _query_calls(path)):
            outside[relative] = calls
    assert outside == {}, "build these queries with common.foundation.queries (add a QuerySpec)"


def test_the_query_scan_sees_filters_and_orderings(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("q = c.collection(x).where(filter=FieldFilter('a', '==', 1)).order_by('b')\n")
    assert sorted(_query_calls(module)) == ["FieldFilter:1", "order_by:1", "where:1"]


def test_every_registered_query_is_run_by_its_source_module() -> None:
    for spec in QUERIES.values():
        source = (ROOT / spec.source).read_text()
        assert "build_query(" in source or "pages(" in source, f"{spec.name}: {spec.source} does not run it"
