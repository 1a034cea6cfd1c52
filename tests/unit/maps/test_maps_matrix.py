from __future__ import annotations

import pytest

from common.domain.maps.matrix import (
    MAX_ELEMENTS,
    MAX_TRANSIT_ELEMENTS,
    Tile,
    element_limit,
    plan_tiles,
    tile_rectangle,
)
from common.domain.maps.models import TravelMode


def _ids(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{index}" for index in range(count)]


def _covered(tiles: list[Tile]) -> set[tuple[str, str]]:
    return {(o, d) for tile in tiles for o in tile.origin_ids for d in tile.destination_ids}


def test_limits_follow_the_routes_api_documentation() -> None:
    assert element_limit(TravelMode.WALK) == MAX_ELEMENTS == 625
    assert element_limit(TravelMode.DRIVE) == 625
    assert element_limit(TravelMode.TRANSIT) == MAX_TRANSIT_ELEMENTS == 100


def test_a_25_by_25_walking_matrix_is_one_request() -> None:
    tiles = tile_rectangle(_ids("o", 25), _ids("d", 25), 625)
    assert [tile.elements for tile in tiles] == [625]


@pytest.mark.parametrize(("origins", "destinations", "limit"), [(25, 25, 100), (30, 30, 625), (7, 130, 100), (1, 1, 1)])
def test_tiles_cover_every_pair_once_within_the_limit(origins: int, destinations: int, limit: int) -> None:
    o, d = _ids("o", origins), _ids("d", destinations)
    tiles = tile_rectangle(o, d, limit)
    assert all(tile.elements <= limit for tile in tiles)
    assert sum(tile.elements for tile in tiles) == origins * destinations
    assert _covered(tiles) == {(a, b) for a in o for b in d}


def test_transit_25_by_25_needs_seven_requests() -> None:
    tiles = tile_rectangle(_ids("o", 25), _ids("d", 25), 100)
    assert len(tiles) == 7


def test_a_place_added_to_a_cached_matrix_costs_a_row_and_a_column() -> None:
    ids = _ids("p", 26)
    new = ids[-1]
    missing = {(a, new) for a in ids[:-1]} | {(new, b) for b in ids[:-1]}
    tiles = plan_tiles(missing, ids, ids, 625)
    assert _covered(tiles) >= missing
    assert sum(tile.elements for tile in tiles) == 50


def test_a_cold_matrix_is_fetched_as_a_rectangle_including_the_diagonal() -> None:
    ids = _ids("p", 10)
    missing = {(a, b) for a in ids for b in ids if a != b}
    tiles = plan_tiles(missing, ids, ids, 625)
    assert len(tiles) == 1
    assert tiles[0].elements == 100


def test_nothing_missing_means_no_request() -> None:
    assert plan_tiles(set(), ["a"], ["b"], 625) == []
