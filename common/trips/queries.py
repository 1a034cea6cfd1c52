"""Every Firestore query the backend makes, described once: the code builds its queries from these descriptions and
a test checks that ``firestore.indexes.json`` holds a composite index for each one that needs it.

A test also scans the code for ``FieldFilter(...)`` and ``order_by(...)`` so a query added elsewhere without a
description here fails the suite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from google.cloud import firestore

Direction = Literal["ASCENDING", "DESCENDING"]


@dataclass(frozen=True)
class QuerySpec:
    """One query shape: equality filters, at most one ``array_contains``, at most one range field (which must be
    the first ordering), then the orderings. ``source`` is the module that runs it."""

    name: str
    collection: str
    source: str
    equals: tuple[str, ...] = ()
    array_contains: str | None = None
    range_field: str | None = None
    order_by: tuple[tuple[str, Direction], ...] = ()

    @property
    def fields(self) -> set[str]:
        named = set(self.equals) | {field for field, _ in self.order_by}
        if self.array_contains:
            named.add(self.array_contains)
        if self.range_field:
            named.add(self.range_field)
        return named

    @property
    def orderings(self) -> tuple[tuple[str, Direction], ...]:
        """The orderings the index must hold: a range filter alone orders by its field, ascending."""
        if self.order_by:
            return self.order_by
        return ((self.range_field, "ASCENDING"),) if self.range_field else ()

    @property
    def needs_composite_index(self) -> bool:
        """Single-field indexes (automatic) serve a query on one field, or equality filters alone."""
        if len(self.fields) <= 1:
            return False
        return bool(self.array_contains or self.range_field or self.order_by)


_NEWEST_FIRST: tuple[tuple[str, Direction], ...] = (("created_at", "DESCENDING"), ("id", "DESCENDING"))
_SAME_TIME_BY_ID: tuple[tuple[str, Direction], ...] = (("id", "DESCENDING"),)
_TRIPS_API = "common/trips/listing.py"


def _trip_queries(kind: Literal["owned", "shared"]) -> list[QuerySpec]:
    """The listing queries of one kind of trip, with and without a status filter: the first page, the page before a
    cursor's time, and the trips created at the cursor's very time (ties broken by id)."""
    owner: dict[str, Any] = {"equals": ("user_id",)} if kind == "owned" else {"array_contains": "shared_with_uids"}
    specs = []
    for status_filter in (False, True):
        equals: tuple[str, ...] = (*owner.get("equals", ()), *(("status",) if status_filter else ()))
        common: dict[str, Any] = {
            "collection": "trips",
            "source": _TRIPS_API,
            "array_contains": owner.get("array_contains"),
        }
        name = f"{kind}_trips" + ("_by_status" if status_filter else "")
        specs += [
            QuerySpec(name=name, equals=equals, order_by=_NEWEST_FIRST, **common),
            QuerySpec(name=f"{name}_before", equals=equals, range_field="created_at", order_by=_NEWEST_FIRST, **common),
            QuerySpec(
                name=f"{name}_same_time",
                equals=(*equals, "created_at"),
                range_field="id",
                order_by=_SAME_TIME_BY_ID,
                **common,
            ),
        ]
    return specs


QUERIES: dict[str, QuerySpec] = {
    spec.name: spec
    for spec in [
        *_trip_queries("owned"),
        *_trip_queries("shared"),
        QuerySpec(name="sessions_of_trip", collection="ai_sessions", source="common/trips/api.py", equals=("trip_id",)),
        QuerySpec(
            name="stuck_planning_trips",
            collection="trips",
            source="common/ops/cleanup.py",
            equals=("status",),
            range_field="updated_at",
        ),
        QuerySpec(
            name="idle_sessions",
            collection="ai_sessions",
            source="common/ops/cleanup.py",
            equals=("status",),
            range_field="last_active_at",
        ),
        QuerySpec(
            name="old_sessions",
            collection="ai_sessions",
            source="common/ops/cleanup.py",
            equals=("status",),
            range_field="created_at",
        ),
        QuerySpec(
            name="expired_cache_entries",
            collection="places_cache",
            source="common/ops/cleanup.py",
            range_field="expire_at",
        ),
        QuerySpec(
            name="active_sessions_of_user",
            collection="ai_sessions",
            source="common/trips/admission.py",
            equals=("user_id", "status"),
        ),
    ]
}


def build_query(
    client: firestore.Client,
    name: str,
    *,
    values: dict[str, Any],
    range_op: Literal["<", "<=", ">", ">="] | None = None,
    limit: int | None = None,
) -> firestore.Query:
    """The Firestore query ``name`` describes, with ``values`` for its filters (keyed by field path)."""
    from google.cloud.firestore_v1.base_query import FieldFilter

    spec = QUERIES[name]
    query: Any = client.collection(spec.collection)
    for field in spec.equals:
        query = query.where(filter=FieldFilter(field, "==", values[field]))
    if spec.array_contains:
        query = query.where(filter=FieldFilter(spec.array_contains, "array_contains", values[spec.array_contains]))
    if spec.range_field:
        if range_op is None:
            raise ValueError(f"query {name} needs a range operator")
        query = query.where(filter=FieldFilter(spec.range_field, range_op, values[spec.range_field]))
    for field, direction in spec.order_by:
        query = query.order_by(field, direction=direction)
    if limit is not None:
        query = query.limit(limit)
    return query  # type: ignore[no-any-return]
