"""Our own small, frozen models of Maps data. Every text in them came from Maps: it is data, never instructions."""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from common.domain.maps import estimates
from common.domain.maps.exposure import Exposure, exposure_for_types

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class TravelMode(enum.StrEnum):
    WALK = "WALK"
    TRANSIT = "TRANSIT"
    DRIVE = "DRIVE"


class LatLng(_Frozen):
    latitude: float = Field(ge=-90.0, le=90.0)
    longitude: float = Field(ge=-180.0, le=180.0)


class Viewport(_Frozen):
    low: LatLng
    high: LatLng


class WeekTime(_Frozen):
    """A point in the week, Google's way: ``day`` 0 = Sunday .. 6 = Saturday, local time."""

    day: int = Field(ge=0, le=6)
    hour: int = Field(ge=0, le=24)
    minute: int = Field(ge=0, le=59)

    @property
    def minute_of_week(self) -> int:
        return self.day * MINUTES_PER_DAY + self.hour * 60 + self.minute


class OpeningPeriod(_Frozen):
    """Open from ``open`` to ``close`` (``close`` may be on a later day); no ``close`` means open around the clock."""

    open: WeekTime
    close: WeekTime | None = None


class OpeningHours(_Frozen):
    periods: tuple[OpeningPeriod, ...] = ()
    weekday_descriptions: tuple[str, ...] = ()

    @property
    def always_open(self) -> bool:
        return any(period.close is None for period in self.periods)

    def is_open_at(self, day: int, hour: int, minute: int = 0) -> bool:
        """Open at local ``day`` (0 = Sunday) ``hour``:``minute``?"""
        if self.always_open:
            return True
        moment = day * MINUTES_PER_DAY + hour * 60 + minute
        for period in self.periods:
            assert period.close is not None
            start = period.open.minute_of_week
            end = period.close.minute_of_week
            if end <= start:
                end += MINUTES_PER_WEEK
            if start <= moment < end or start <= moment + MINUTES_PER_WEEK < end:
                return True
        return False


class PriceRange(_Frozen):
    currency_code: str = Field(max_length=3)
    low: float | None = None
    high: float | None = None


class Place(_Frozen):
    """A place as the planner sees it. Fields absent from the field mask used (or unknown to Maps) are ``None``."""

    id: str
    name: str
    location: LatLng
    types: tuple[str, ...] = ()
    primary_type: str | None = None
    rating: float | None = Field(default=None, ge=0.0, le=5.0)
    user_rating_count: int | None = Field(default=None, ge=0)
    price_level: int | None = Field(default=None, ge=0, le=4, description="0 free .. 4 very expensive")
    price_range: PriceRange | None = None
    opening_hours: OpeningHours | None = None
    utc_offset_minutes: int | None = None
    time_zone: str | None = None
    formatted_address: str | None = None
    maps_uri: str | None = None
    website_uri: str | None = None
    editorial_summary: str | None = None
    wheelchair_accessible: bool | None = None
    serves_vegetarian_food: bool | None = None

    @property
    def category(self) -> estimates.Category:
        """Our planning category, derived from the Places types."""
        return estimates.category_for_types(self.primary_type, self.types)

    @property
    def exposure(self) -> Exposure:
        """Open-air, sheltered or either (``common.domain.maps.exposure``): what the weather changes."""
        return exposure_for_types(self.primary_type, self.types)

    @property
    def visit_minutes(self) -> int:
        """Typical time a visitor spends here (our estimate from the category)."""
        return estimates.visit_minutes(self.category)

    @property
    def estimated_cost_per_person(self) -> estimates.CostEstimate:
        """Typical spend per person (price range when Maps gives one, else our estimate from category and level)."""
        if self.price_range is not None and self.price_range.low is not None:
            high = self.price_range.high if self.price_range.high is not None else self.price_range.low
            return estimates.CostEstimate(
                amount=round((self.price_range.low + high) / 2, 2), currency=self.price_range.currency_code
            )
        return estimates.cost_estimate_usd(self.category, self.price_level)


class Destination(_Frozen):
    """A resolved trip destination (usually a ``locality``)."""

    place_id: str
    name: str
    location: LatLng
    viewport: Viewport | None = None
    time_zone: str | None = None
    utc_offset_minutes: int | None = None
    formatted_address: str | None = None
    types: tuple[str, ...] = ()


class Waypoint(_Frozen):
    """A matrix or route endpoint: our id for it (usually a place id) and its coordinates."""

    id: str
    location: LatLng

    @classmethod
    def of(cls, item: Place | Destination | Waypoint) -> Waypoint:
        if isinstance(item, Waypoint):
            return item
        if isinstance(item, Destination):
            return cls(id=item.place_id, location=item.location)
        return cls(id=item.id, location=item.location)


ElementStatus = Literal["OK", "ROUTE_NOT_FOUND", "ERROR"]


class TravelTime(_Frozen):
    """One origin -> destination pair; ``duration_s`` and ``distance_m`` are set only when ``status`` is OK."""

    origin_id: str
    destination_id: str
    status: ElementStatus
    duration_s: int | None = Field(default=None, ge=0)
    distance_m: int | None = Field(default=None, ge=0)

    @property
    def reachable(self) -> bool:
        return self.status == "OK"


class TravelMatrix(_Frozen):
    mode: TravelMode
    origin_ids: tuple[str, ...]
    destination_ids: tuple[str, ...]
    entries: tuple[TravelTime, ...]
    _index: dict[tuple[str, str], TravelTime] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any) -> None:
        self._index = {(entry.origin_id, entry.destination_id): entry for entry in self.entries}

    def get(self, origin_id: str, destination_id: str) -> TravelTime:
        """The pair's entry; ``KeyError`` if the pair was not in the request."""
        return self._index[(origin_id, destination_id)]

    def seconds(self, origin_id: str, destination_id: str) -> int | None:
        """Travel time in seconds, ``None`` when unreachable."""
        return self.get(origin_id, destination_id).duration_s

    def metres(self, origin_id: str, destination_id: str) -> int | None:
        return self.get(origin_id, destination_id).distance_m


class Route(_Frozen):
    mode: TravelMode
    origin_id: str
    destination_id: str
    duration_s: int = Field(ge=0)
    distance_m: int = Field(ge=0)
    encoded_polyline: str | None = None


PageSize = Annotated[int, Field(ge=1, le=20)]


class PlaceSearch(_Frozen):
    """A text search near a location. ``price_levels`` use our scale 0 (free) .. 4 (very expensive)."""

    text: str = Field(min_length=1, max_length=200)
    near: LatLng | None = None
    radius_m: float = Field(default=10_000.0, gt=0.0, le=50_000.0)
    included_type: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,63}$")
    price_levels: tuple[int, ...] = ()
    open_now: bool = False
    min_rating: float | None = Field(default=None, ge=0.0, le=5.0)
    language_code: str | None = Field(default=None, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    page_size: PageSize = 20

    def cache_key(self) -> str:
        """A canonical text of the search (text folded, levels sorted, coordinates rounded to ~10 m)."""
        near = f"{self.near.latitude:.4f},{self.near.longitude:.4f}" if self.near else "-"
        levels = ",".join(str(level) for level in sorted(set(self.price_levels)))
        return "|".join(
            [
                " ".join(self.text.casefold().split()),
                near,
                f"{self.radius_m:.0f}" if self.near else "-",
                self.included_type or "-",
                levels or "-",
                "open" if self.open_now else "-",
                f"{self.min_rating:.1f}" if self.min_rating is not None else "-",
                (self.language_code or "-").lower(),
                str(self.page_size),
            ]
        )
