"""Compact cache of real travel legs: one Firestore document per area, mode and time band holding many legs.

A plan needs a few dozen legs; caching each in its own document cost about 1,400 document writes per plan. Here a
document ``maps_route_cache/legs_{mode}_{band}_{area}`` holds a map ``legs`` of entries
``{"s": seconds or -1 (no route), "m": metres, "d": straight-line metres, "t": fetched at (epoch s)}``:

- ``area`` is the 0.5 degree grid cell of the leg's origin (a city is one to four cells), so legs of one city share a
  few documents and calibration can read them back;
- ``band`` is ``any`` for walking and driving (traffic-unaware), and for transit the weekday/weekend and three-hour
  band of the departure (``wd09`` = a weekday, 09:00-11:59 local), since transit times change over the day;
- Maps terms: no entry is used or kept when older than 30 days (``MAX_AGE_SECONDS``); the document carries
  ``expire_at`` = last write + 30 days for the Firestore TTL policy, and every write that reads the document first
  drops the entries past that age.

Writes merge new entries into the document (no read needed); a document past ``MAX_ENTRIES`` entries is rewritten
with its newest entries only. Failures read as misses and are logged: the cache never breaks planning.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from common.domain.maps.cache import L2_TIMEOUT_SECONDS, MAX_CONTENT_TTL_SECONDS
from common.domain.maps.models import TravelMode, TravelTime, Waypoint

if TYPE_CHECKING:
    from google.cloud import firestore

logger = logging.getLogger(__name__)

AREA_DEGREES = 0.5
MAX_AGE_SECONDS = MAX_CONTENT_TTL_SECONDS
MAX_ENTRIES = 4000  # about 80 bytes an entry: far below Firestore's 1 MiB document limit
LEG_DOC_PREFIX = "legs_"
LEG_SCHEMA_VERSION = 1
BAND_HOURS = 3
ANY_BAND = "any"
NOW_BAND = "now"  # a transit leg asked for without a departure time (Google uses the request time)


def area_of(latitude: float, longitude: float) -> str:
    """The grid cell of a point, e.g. ``97_4`` (cells of ``AREA_DEGREES``)."""
    return f"{math.floor(latitude / AREA_DEGREES)}_{math.floor(longitude / AREA_DEGREES)}"


def time_band(mode: TravelMode, departure: dt.datetime | None) -> str:
    """``any`` unless transit; then ``wd09``/``we15``... from the local departure time (``now`` without one)."""
    if mode is not TravelMode.TRANSIT:
        return ANY_BAND
    if departure is None:
        return NOW_BAND
    kind = "we" if departure.weekday() >= 5 else "wd"
    return f"{kind}{departure.hour // BAND_HOURS * BAND_HOURS:02d}"


def transit_bands() -> list[str]:
    return [f"{kind}{hour:02d}" for kind in ("wd", "we") for hour in range(0, 24, BAND_HOURS)]


def leg_key(origin: Waypoint, destination: Waypoint) -> str:
    """A map key (a plain Firestore field name) naming the ordered pair by ids and coordinates."""

    def point(waypoint: Waypoint) -> str:
        return f"{waypoint.id}@{waypoint.location.latitude:.5f},{waypoint.location.longitude:.5f}"

    digest = hashlib.sha256(f"{point(origin)}|{point(destination)}".encode()).hexdigest()
    return "k" + digest[:24]


def doc_id(mode: TravelMode, band: str, area: str) -> str:
    return f"{LEG_DOC_PREFIX}{mode.value}_{band}_{area}"


def straight_metres(origin: Waypoint, destination: Waypoint) -> int:
    lat1, lng1 = math.radians(origin.location.latitude), math.radians(origin.location.longitude)
    lat2, lng2 = math.radians(destination.location.latitude), math.radians(destination.location.longitude)
    a = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return round(2 * 6_371_000.0 * math.asin(min(1.0, math.sqrt(a))))


@dataclass(frozen=True)
class LegQuery:
    """One leg a plan uses; ``departure`` (timezone-aware) matters for transit only."""

    origin: Waypoint
    destination: Waypoint
    departure: dt.datetime | None = None

    def band(self, mode: TravelMode) -> str:
        return time_band(mode, self.departure)


@dataclass(frozen=True)
class CachedLeg:
    """One real leg as cached: ``seconds`` None means Maps found no route."""

    seconds: int | None
    metres: int | None
    straight_m: int
    fetched_at: float

    def as_travel_time(self, origin_id: str, destination_id: str) -> TravelTime:
        if self.seconds is None:
            return TravelTime(origin_id=origin_id, destination_id=destination_id, status="ROUTE_NOT_FOUND")
        return TravelTime(
            origin_id=origin_id,
            destination_id=destination_id,
            status="OK",
            duration_s=self.seconds,
            distance_m=self.metres or 0,
        )

    def encode(self) -> dict[str, Any]:
        return {
            "s": -1 if self.seconds is None else self.seconds,
            "m": self.metres or 0,
            "d": self.straight_m,
            "t": round(self.fetched_at),
        }

    @classmethod
    def decode(cls, value: Any) -> CachedLeg | None:
        if not isinstance(value, dict):
            return None
        try:
            seconds, metres = int(value["s"]), int(value.get("m", 0))
            return cls(
                seconds=None if seconds < 0 else seconds,
                metres=None if seconds < 0 else max(0, metres),
                straight_m=max(0, int(value.get("d", 0))),
                fetched_at=float(value["t"]),
            )
        except (KeyError, TypeError, ValueError):
            return None

    @classmethod
    def of(cls, travel: TravelTime, straight_m: int, now: float) -> CachedLeg:
        if travel.status == "OK":
            return cls(
                seconds=travel.duration_s or 0, metres=travel.distance_m or 0, straight_m=straight_m, fetched_at=now
            )
        return cls(seconds=None, metres=None, straight_m=straight_m, fetched_at=now)


@dataclass(frozen=True)
class LegDoc:
    """The fresh entries of one leg document; ``stale`` when it also holds entries past ``MAX_AGE_SECONDS``."""

    entries: dict[str, CachedLeg]
    stale: bool = False


class LegStore:
    """Reads and writes the compact leg documents of one collection (``client`` None: a no-op store)."""

    def __init__(self, client: firestore.Client | None, collection: str, clock: Callable[[], float]) -> None:
        self._client = client
        self._collection = collection
        self._clock = clock

    @property
    def enabled(self) -> bool:
        return self._client is not None

    def _fresh(self, entry: CachedLeg | None, now: float) -> bool:
        return entry is not None and now - entry.fetched_at < MAX_AGE_SECONDS

    def read(self, doc_ids: Iterable[str]) -> dict[str, LegDoc]:
        """Each existing document's fresh entries."""
        ids = list(dict.fromkeys(doc_ids))
        if self._client is None or not ids:
            return {}
        now = self._clock()
        found: dict[str, LegDoc] = {}
        try:
            refs = [self._client.collection(self._collection).document(name) for name in ids]
            for snapshot in self._client.get_all(refs, retry=None, timeout=L2_TIMEOUT_SECONDS):
                if not snapshot.exists:
                    continue
                document = snapshot.to_dict() or {}
                legs = document.get("legs")
                if document.get("v") != LEG_SCHEMA_VERSION or not isinstance(legs, dict):
                    continue
                entries: dict[str, CachedLeg] = {}
                stale = False
                for key, value in legs.items():
                    entry = CachedLeg.decode(value)
                    if entry is not None and self._fresh(entry, now):
                        entries[key] = entry
                    else:
                        stale = True
                found[snapshot.id] = LegDoc(entries=entries, stale=stale)
        except Exception:
            logger.warning("maps leg cache read failed", exc_info=True)
        return found

    def write(
        self,
        fresh: Mapping[str, Mapping[str, CachedLeg]],
        known: Mapping[str, LegDoc],
        meta: Mapping[str, dict[str, str]],
    ) -> None:
        """Add ``fresh`` entries per document. ``known`` is what was read before (for pruning and the size cap);
        ``meta`` names each document's area, mode and band. A document read with stale entries, or that would pass
        ``MAX_ENTRIES``, is rewritten whole with its fresh (newest) entries; otherwise the new entries are merged in."""
        if self._client is None or not fresh:
            return
        now = self._clock()
        now_dt = dt.datetime.fromtimestamp(now, tz=dt.UTC)
        expire_at = now_dt + dt.timedelta(seconds=MAX_AGE_SECONDS)
        try:
            batch = self._client.batch()
            for name, entries in fresh.items():
                if not entries:
                    continue
                ref = self._client.collection(self._collection).document(name)
                before = known.get(name)
                previous = dict(before.entries) if before else {}
                header = {"v": LEG_SCHEMA_VERSION, **meta.get(name, {}), "updated_at": now_dt, "expire_at": expire_at}
                if (before is not None and before.stale) or len(previous) + len(entries) > MAX_ENTRIES:
                    merged = {**previous, **entries}
                    newest = sorted(merged.items(), key=lambda item: item[1].fetched_at, reverse=True)[:MAX_ENTRIES]
                    batch.set(ref, {**header, "legs": {key: leg.encode() for key, leg in newest}})
                else:
                    batch.set(ref, {**header, "legs": {key: leg.encode() for key, leg in entries.items()}}, merge=True)
            batch.commit(retry=None, timeout=L2_TIMEOUT_SECONDS)
        except Exception:
            logger.warning("maps leg cache write failed", exc_info=True)
