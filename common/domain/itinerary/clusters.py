"""Balanced geographic clustering of places into days, and the spread figure the benches report.

Pure and deterministic: the same points give the same clusters. Used by the solver (a soft pull of each day towards
its cluster's centre) and by the benches (the spread of a plan's days against the same stops split this way).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

EARTH_RADIUS_KM = 6371.0
ITERATIONS = 12

Point = tuple[float, float]  # (lat, lng) in degrees


def distance_km(a: Point, b: Point) -> float:
    """Great-circle distance (haversine)."""
    lat1, lng1, lat2, lng2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def centre(points: Sequence[Point]) -> Point:
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def spread_km(points: Sequence[Point]) -> float:
    """Mean distance of ``points`` from their centre (0 for fewer than two points)."""
    if len(points) < 2:
        return 0.0
    middle = centre(points)
    return sum(distance_km(point, middle) for point in points) / len(points)


def _capacities(count: int, groups: int) -> list[int]:
    return [count // groups + (1 if index < count % groups else 0) for index in range(groups)]


def _assign(points: Sequence[Point], centres: list[Point], capacities: list[int]) -> list[int]:
    """Each point to a centre, nearest pairs first, no centre over its capacity."""
    pairs = sorted(
        (distance_km(point, middle), index, group)
        for index, point in enumerate(points)
        for group, middle in enumerate(centres)
    )
    left = list(capacities)
    labels = [-1] * len(points)
    for _, index, group in pairs:
        if labels[index] == -1 and left[group] > 0:
            labels[index] = group
            left[group] -= 1
    return labels


def balanced_clusters(points: Sequence[Point], groups: int) -> list[int]:
    """A label in ``range(groups)`` per point; cluster sizes differ by at most one (balanced k-means)."""
    if not points:
        return []
    groups = max(1, min(groups, len(points)))
    if groups == 1:
        return [0] * len(points)
    middle = centre(points)
    # Deterministic farthest-first seeds: the point farthest from the centre, then the farthest from those chosen.
    seeds = [max(range(len(points)), key=lambda index: (distance_km(points[index], middle), -index))]
    while len(seeds) < groups:
        seeds.append(
            max(
                (index for index in range(len(points)) if index not in seeds),
                key=lambda index: (min(distance_km(points[index], points[seed]) for seed in seeds), -index),
            )
        )
    centres = [points[seed] for seed in seeds]
    capacities = _capacities(len(points), groups)
    labels = _assign(points, centres, capacities)
    for _ in range(ITERATIONS):
        centres = [centre([p for p, label in zip(points, labels, strict=True) if label == g]) for g in range(groups)]
        updated = _assign(points, centres, capacities)
        if updated == labels:
            break
        labels = updated
    return labels


def clustered_spread_km(groups_of_points: Sequence[Sequence[Point]]) -> float:
    """Mean spread of the same points re-split by ``balanced_clusters`` into as many groups (the reference)."""
    groups = [group for group in groups_of_points if group]
    if not groups:
        return 0.0
    everything = [point for group in groups for point in group]
    labels = balanced_clusters(everything, len(groups))
    reference = [[p for p, label in zip(everything, labels, strict=True) if label == g] for g in range(len(groups))]
    return sum(spread_km(group) for group in reference) / len(reference)
