"""Splitting a travel-time matrix into computeRouteMatrix requests within the documented element limits.

Routes API limits (computeRouteMatrix): at most 625 elements (origins x destinations) per request, 100 for
TRANSIT (and for TRAFFIC_AWARE_OPTIMAL, which we never use), and at most 50 waypoints given by place id or address
(we send coordinates, so that one does not apply).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from common.domain.maps.models import TravelMode

MAX_ELEMENTS = 625
MAX_TRANSIT_ELEMENTS = 100


def element_limit(mode: TravelMode) -> int:
    return MAX_TRANSIT_ELEMENTS if mode is TravelMode.TRANSIT else MAX_ELEMENTS


@dataclass(frozen=True)
class Tile:
    """One request: every origin to every destination (ids)."""

    origin_ids: tuple[str, ...]
    destination_ids: tuple[str, ...]

    @property
    def elements(self) -> int:
        return len(self.origin_ids) * len(self.destination_ids)


def tile_rectangle(origin_ids: Sequence[str], destination_ids: Sequence[str], limit: int) -> list[Tile]:
    """Cover origins x destinations with tiles of at most ``limit`` elements each."""
    if not origin_ids or not destination_ids:
        return []
    columns = min(len(destination_ids), limit)
    rows = max(1, min(len(origin_ids), limit // columns))
    return [
        Tile(tuple(origin_ids[row : row + rows]), tuple(destination_ids[column : column + columns]))
        for row in range(0, len(origin_ids), rows)
        for column in range(0, len(destination_ids), columns)
    ]


def plan_tiles(
    missing: Collection[tuple[str, str]],
    origin_ids: Sequence[str],
    destination_ids: Sequence[str],
    limit: int,
) -> list[Tile]:
    """Requests covering every ``missing`` (origin, destination) pair.

    When the missing pairs fill at least half of their bounding rectangle, the rectangle is fetched (a cold
    matrix: one or a few large requests). Otherwise origins with the same missing destinations are grouped, so a
    place added to a cached matrix costs one row and one column, not the whole matrix again.
    """
    wanted = set(missing)
    if not wanted:
        return []
    rows = [origin for origin in origin_ids if any((origin, dest) in wanted for dest in destination_ids)]
    columns = [dest for dest in destination_ids if any((origin, dest) in wanted for origin in rows)]
    if 2 * len(wanted) >= len(rows) * len(columns):
        return tile_rectangle(rows, columns, limit)
    groups: dict[tuple[str, ...], list[str]] = {}
    for origin in rows:
        key = tuple(dest for dest in destination_ids if (origin, dest) in wanted)
        groups.setdefault(key, []).append(origin)
    tiles: list[Tile] = []
    for dests, origins in groups.items():
        tiles.extend(tile_rectangle(origins, dests, limit))
    return tiles
