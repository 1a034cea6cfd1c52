"""Every Firestore query the backend makes, described once: the code builds its queries from these descriptions and
a test checks that ``firestore.indexes.json`` holds a composite index for each one that needs it.

No other module filters or orders a query: a test scans the code for ``where``, ``FieldFilter`` and ``order_by``
outside this module, and checks that each description's ``source`` module uses it by name.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from common.foundation.collection_names import EXPIRING, SESSIONS, SHARE_LINKS, TRIPS

if TYPE_CHECKING:
    from google.cloud import firestore

Direction = Literal["ASCENDING", "DESCENDING"]
RangeOp = Literal["<", "<=", ">", ">="]
ArrayOp = Literal["array_contains"]


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
_TRIPS_API = "common/services/trips/listing.py"
_CLEANUP = "common/services/ops/cleanup.py"
_USER_DATA = "common/services/ops/user_data.py"
_TRIP_STORE = "common/services/trips/store.py"


def _trip_queries(kind: Literal["owned", "shared"]) -> list[QuerySpec]:
    """The listing queries of one kind of trip, with and without a status filter: the first page, the page before a
    cursor's time, and the trips created at the cursor's very time (ties broken by id)."""
    owner: dict[str, Any] = {"equals": ("user_id",)} if kind == "owned" else {"array_contains": "shared_with_uids"}
    specs = []
    for status_filter in (False, True):
        equals: tuple[str, ...] = (*owner.get("equals", ()), *(("status",) if status_filter else ()))
        common: dict[str, Any] = {
            "collection": TRIPS,
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
        QuerySpec(
            name="sessions_of_trip", collection=SESSIONS, source="common/services/trips/store.py", equals=("trip_id",)
        ),
        QuerySpec(
            name="stuck_planning_trips",
            collection=TRIPS,
            source=_CLEANUP,
            equals=("status",),
            range_field="updated_at",
        ),
        QuerySpec(
            name="active_sessions",
            collection=SESSIONS,
            source=_CLEANUP,
            equals=("status",),
            range_field="last_active_at",
        ),
        QuerySpec(
            name="old_sessions",
            collection=SESSIONS,
            source=_CLEANUP,
            equals=("status",),
            range_field="created_at",
        ),
        *(
            QuerySpec(name=f"expired_{collection}", collection=collection, source=_CLEANUP, range_field="expire_at")
            for collection in EXPIRING
        ),
        QuerySpec(
            name="active_sessions_of_user",
            collection=SESSIONS,
            source="common/services/trips/admission.py",
            equals=("user_id", "status"),
        ),
        QuerySpec(name="trips_of_user", collection=TRIPS, source=_USER_DATA, equals=("user_id",)),
        QuerySpec(
            name="trips_shared_with_user", collection=TRIPS, source=_USER_DATA, array_contains="shared_with_uids"
        ),
        QuerySpec(name="sessions_of_user", collection=SESSIONS, source=_USER_DATA, equals=("user_id",)),
        QuerySpec(name="sessions_of_users_trip", collection=SESSIONS, source=_USER_DATA, equals=("trip_id",)),
        QuerySpec(name="links_of_trip", collection=SHARE_LINKS, source=_TRIP_STORE, equals=("trip_id",)),
        QuerySpec(name="links_created_by", collection=SHARE_LINKS, source=_TRIP_STORE, equals=("created_by",)),
    ]
}


def build_query(
    client: firestore.Client,
    name: str,
    *,
    values: dict[str, Any] | None = None,
    range_op: RangeOp | None = None,
    ranges: Sequence[tuple[RangeOp, Any]] = (),
    limit: int | None = None,
) -> firestore.Query:
    """The Firestore query ``name`` describes, with ``values`` for its filters (keyed by field path), in the
    description's order. The range field takes ``range_op`` against its value in ``values`` and/or each of
    ``ranges`` (operator, value)."""
    from google.cloud.firestore_v1.base_query import FieldFilter

    spec = QUERIES[name]
    values = values or {}
    query: Any = client.collection(spec.collection)
    for field in spec.equals:
        query = query.where(filter=FieldFilter(field, "==", values[field]))
    if spec.array_contains:
        query = query.where(filter=FieldFilter(spec.array_contains, "array_contains", values[spec.array_contains]))
    if spec.range_field:
        bounds = [*([(range_op, values[spec.range_field])] if range_op else []), *ranges]
        for op, value in bounds:  # none: every document of the equality filters, in the range field's order
            query = query.where(filter=FieldFilter(spec.range_field, op, value))
    elif range_op or ranges:
        raise ValueError(f"query {name} has no range field")
    for field, direction in spec.orderings:
        query = query.order_by(field, direction=direction)
    if limit is not None:
        query = query.limit(limit)
    return query  # type: ignore[no-any-return]


def pages(
    client: firestore.Client,
    name: str,
    batch_size: int,
    *,
    values: dict[str, Any] | None = None,
    ranges: Sequence[tuple[RangeOp, Any]] = (),
) -> Iterator[list[Any]]:
    """Pages of the query ``name`` in its range field's order, advancing with ``range_field >= last`` and skipping
    documents already seen at that value (no cursors: the stand-in ignores them; this works on Firestore too)."""
    field = QUERIES[name].range_field
    if field is None or QUERIES[name].order_by:
        raise ValueError(f"query {name} is not paged by its range field")
    cursor: Any = None
    seen_at_cursor: set[str] = set()
    while True:
        at_or_after: list[tuple[RangeOp, Any]] = [(">=", cursor)] if cursor is not None else []
        bounds: list[tuple[RangeOp, Any]] = [*ranges, *at_or_after]
        limit = batch_size + len(seen_at_cursor)
        snapshots = list(build_query(client, name, values=values, ranges=bounds, limit=limit).stream())
        fresh = [snapshot for snapshot in snapshots if snapshot.id not in seen_at_cursor]
        if not fresh:
            return
        yield fresh
        last = field_value(fresh[-1].to_dict() or {}, field)
        if last != cursor:
            seen_at_cursor = set()
        cursor = last
        seen_at_cursor |= {snapshot.id for snapshot in fresh if field_value(snapshot.to_dict() or {}, field) == last}
        if len(snapshots) < limit or cursor is None:
            return


def field_value(document: dict[str, Any], path: str) -> Any:
    """The value at a dotted field path of a document's data; ``None`` when absent."""
    value: Any = document
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
