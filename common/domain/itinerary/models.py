"""Input and output models of the itinerary engine and its validator (pure data, no scheduling logic).

Conventions shared by the engine and the validator:
- Every time is a whole number of minutes since local midnight of the stop's own date (0..1440). Inputs accept
  ``"HH:MM"`` strings too (``"24:00"`` is midnight at the end of the day).
- Travel seconds from a matrix become minutes rounded up (``travel_minutes``), so a schedule never undercuts it.
- A day starts when the traveller leaves the day's start node and ends when they reach its end node; both must lie
  inside the day window. A stop occupies ``[arrive_minute, depart_minute)``; it must fit one opening interval.
- The stops-per-day cap of a pace counts sights only: meals come on top (pace sets how many sights, not whether
  people eat). A stop counts as a meal when its venue serves the meal it is marked with (any meal it serves, when
  unmarked) and it starts inside that meal's window.
- A day *requires* a meal when the day window overlaps the meal window by at least
  ``Preferences.meal_required_overlap_minutes`` and the meal is not in ``Preferences.skip_meals``: the default
  day windows include the evening, so every full day requires lunch and dinner; a day window the user shortened
  opts out of the meal it no longer covers. A meal is a stop at a venue serving that meal whose arrival lies
  inside the meal window. Lacking one is acceptable only with a ``meal_missing`` warning for that day.
- A meal venue may serve a meal on two different days of a trip (a long trip can have more meals than venues);
  any other place is visited at most once, and never twice on one day.
- Idle time between two stops (arrival minus the previous departure minus the travel) over
  ``Preferences.max_idle_minutes`` is acceptable only with an ``idle_gap`` warning for that day saying why.
"""

from __future__ import annotations

import datetime as dt
import math
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, computed_field, model_validator

MINUTES_PER_DAY = 1440


def parse_clock(value: Any) -> Any:
    """Accept ``"HH:MM"`` (``"24:00"`` allowed) or an int of minutes since midnight."""
    if isinstance(value, str):
        hours_text, _, minutes_text = value.strip().partition(":")
        if not hours_text.isdigit() or not minutes_text.isdigit() or len(minutes_text) != 2:
            raise ValueError(f"expected HH:MM, got {value!r}")
        hours, minutes = int(hours_text), int(minutes_text)
        if minutes >= 60 or hours * 60 + minutes > MINUTES_PER_DAY:
            raise ValueError(f"not a time of day: {value!r}")
        return hours * 60 + minutes
    return value


def format_clock(minute_of_day: int) -> str:
    """``570`` -> ``"09:30"``."""
    return f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"


def travel_minutes(seconds: int) -> int:
    """Matrix seconds as scheduling minutes, rounded up."""
    return math.ceil(seconds / 60)


ClockMinute = Annotated[int, BeforeValidator(parse_clock), Field(ge=0, le=MINUTES_PER_DAY)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Pace(StrEnum):
    RELAXED = "relaxed"
    MODERATE = "moderate"
    PACKED = "packed"


class MealKind(StrEnum):
    LUNCH = "lunch"
    DINNER = "dinner"


class TravelMode(StrEnum):
    WALK = "walk"
    TRANSIT = "transit"
    DRIVE = "drive"


class TimeWindow(_Frozen):
    start: ClockMinute
    end: ClockMinute

    @model_validator(mode="after")
    def _ordered(self) -> TimeWindow:
        if self.end <= self.start:
            raise ValueError("a time window must end after it starts")
        return self


class PacePolicy(_Frozen):
    """Default day window, sight cap (meals come on top) and slack of a pace.

    ``linger_factor``: how much longer than its usual visit time the traveller may stay at a place to absorb a wait
    before the next stop (0.5: up to half as long again)."""

    day_window: TimeWindow
    max_stops_per_day: int = Field(ge=1, description="sights per day; meals are not counted")
    linger_factor: float = Field(default=0.5, ge=0, le=3)


DEFAULT_PACE_POLICIES: dict[Pace, PacePolicy] = {
    Pace.RELAXED: PacePolicy(day_window=TimeWindow(start=600, end=1290), max_stops_per_day=3, linger_factor=1.0),
    Pace.MODERATE: PacePolicy(day_window=TimeWindow(start=540, end=1320), max_stops_per_day=5, linger_factor=0.6),
    Pace.PACKED: PacePolicy(day_window=TimeWindow(start=510, end=1350), max_stops_per_day=7, linger_factor=0.4),
}


def with_day_windows(windows: dict[str, tuple[int, int]]) -> dict[Pace, PacePolicy]:
    """The default pace policies with the day windows given per pace name (``{"relaxed": (600, 1290)}``)."""
    policies = dict(DEFAULT_PACE_POLICIES)
    for name, (start, end) in windows.items():
        pace = Pace(name)
        policies[pace] = policies[pace].model_copy(update={"day_window": TimeWindow(start=start, end=end)})
    return policies


class OpeningTime(_Frozen):
    """One end of a Google Places (New) opening period; ``day`` 0 is Sunday."""

    day: int = Field(ge=0, le=6)
    hour: int = Field(ge=0, le=24)
    minute: int = Field(ge=0, le=59)


class OpeningPeriod(_Frozen):
    """``close`` None with ``open`` Sunday 00:00 means open around the clock; otherwise it closes at midnight."""

    open: OpeningTime
    close: OpeningTime | None = None


class LatLng(_Frozen):
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)


EVENING_CATEGORIES = frozenset({"viewpoint", "neighbourhood", "market", "bar"})
"""Places that suit the evening: a view at sunset, a night market, a walk through a lit quarter, a drink."""


class Place(_Frozen):
    """A candidate stop; its ``id`` is also its node id in the travel matrices."""

    id: str = Field(min_length=1)
    name: str
    location: LatLng
    category: str
    priority: float = Field(default=1.0, ge=0)
    visit_minutes: int = Field(ge=1, le=MINUTES_PER_DAY)
    opening_periods: list[OpeningPeriod] | None = Field(
        default=None, description="None or empty: hours unknown, treated as open all day with a warning"
    )
    cost_per_person: float = Field(default=0.0, ge=0)
    meal_kinds: list[MealKind] = Field(default_factory=list, description="empty: not a meal venue")
    outdoor: bool = Field(default=False, description="open-air (park, viewpoint, beach...): kept off wet days")

    @property
    def is_meal_venue(self) -> bool:
        return bool(self.meal_kinds)

    @property
    def daylight_only(self) -> bool:
        """An open-air place that is no place after dark (a park, a garden, a beach; not a viewpoint, a market, a
        neighbourhood): the engine ends its visit by the start of the dinner window."""
        return self.outdoor and self.category not in EVENING_CATEGORIES

    @property
    def hours_known(self) -> bool:
        return bool(self.opening_periods)


class TravelMatrix(_Frozen):
    """Travel between nodes by one mode; ``None`` in a cell means no route."""

    mode: TravelMode
    node_ids: list[str]
    seconds: list[list[int | None]]
    metres: list[list[int | None]]

    @model_validator(mode="after")
    def _square(self) -> TravelMatrix:
        size = len(self.node_ids)
        if len(set(self.node_ids)) != size:
            raise ValueError("matrix node ids must be unique")
        for grid in (self.seconds, self.metres):
            if len(grid) != size or any(len(row) != size for row in grid):
                raise ValueError("matrix must be square over node_ids")
        return self

    def position(self) -> dict[str, int]:
        return {node_id: index for index, node_id in enumerate(self.node_ids)}


class DayAnchor(_Frozen):
    """Where a day starts and ends (lodging, else the destination centre), as matrix node ids."""

    start_node_id: str
    end_node_id: str


class TransportCosts(_Frozen):
    """Local transport cost estimate: transit fares per leg per traveller, driving per km for the group."""

    transit_fare_per_person_per_leg: float = Field(default=0.0, ge=0)
    drive_cost_per_km: float = Field(default=0.0, ge=0)


class LockedVisit(_Frozen):
    """A stop the traveller locked: this place, on this date, exactly at these times (never moved by the engine)."""

    place_id: str = Field(min_length=1)
    date: dt.date
    arrive_minute: ClockMinute
    depart_minute: ClockMinute

    @model_validator(mode="after")
    def _ordered(self) -> LockedVisit:
        if self.depart_minute <= self.arrive_minute:
            raise ValueError("a locked visit must end after it starts")
        return self

    @property
    def stay(self) -> int:
        return self.depart_minute - self.arrive_minute


class Preferences(_Frozen):
    pace: Pace = Pace.MODERATE
    day_window: TimeWindow | None = Field(default=None, description="overrides the pace's default window")
    max_places_per_day: int | None = Field(default=None, ge=0)
    must_include_ids: list[str] = Field(default_factory=list)
    avoid_place_ids: list[str] = Field(default_factory=list)
    avoid_categories: list[str] = Field(default_factory=list)
    lunch_window: TimeWindow | None = Field(default_factory=lambda: TimeWindow(start=690, end=870))
    dinner_window: TimeWindow | None = Field(default_factory=lambda: TimeWindow(start=1080, end=1290))
    meal_required_overlap_minutes: int = Field(default=90, ge=1)
    skip_meals: list[MealKind] = Field(default_factory=list, description="meals the traveller opts out of")
    max_idle_minutes: int = Field(default=45, ge=0, description="longer idle time between stops needs a warning")
    travellers: int = Field(default=1, ge=1)
    budget_limit: float | None = Field(default=None, ge=0, description="whole group, whole trip")
    reduced_walking: bool = Field(default=False, description="walk legs over max_walk_minutes use the fallback")
    max_walk_minutes: int = Field(default=15, ge=0)
    fixed_start: bool = Field(
        default=False,
        description="the traveller is already out at the day window's start (the rest of a day re-planned from where"
        " they are): the day cannot start later, and waiting before its first stop is idle time",
    )
    locked: list[LockedVisit] = Field(
        default_factory=list, description="stops fixed in place and time (``common.domain.itinerary.locked``)"
    )


class TripProblem(_Frozen):
    """Everything the engine needs for one trip."""

    start_date: dt.date
    end_date: dt.date
    anchors: list[DayAnchor] = Field(min_length=1, description="one for every day, or a single one for all days")
    places: list[Place]
    matrix: TravelMatrix
    fallback_matrix: TravelMatrix | None = Field(
        default=None, description="transit or drive matrix used for long walks when reduced_walking is on"
    )
    preferences: Preferences = Field(default_factory=Preferences)
    transport_costs: TransportCosts = Field(default_factory=TransportCosts)
    pace_policies: dict[Pace, PacePolicy] = Field(default_factory=lambda: dict(DEFAULT_PACE_POLICIES))
    solver_time_limit_seconds: float = Field(default=3.0, gt=0)
    wet_dates: list[dt.date] = Field(
        default_factory=list, description="days the forecast says are wet: outdoor sights go elsewhere (weather.py)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> TripProblem:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        if len(self.anchors) not in (1, self.day_count):
            raise ValueError("anchors: give one per day or a single one")
        ids = [place.id for place in self.places]
        if len(set(ids)) != len(ids):
            raise ValueError("place ids must be unique")
        return self

    @property
    def day_count(self) -> int:
        return (self.end_date - self.start_date).days + 1

    def date_of(self, day_index: int) -> dt.date:
        return self.start_date + dt.timedelta(days=day_index)

    def anchor_of(self, day_index: int) -> DayAnchor:
        return self.anchors[0] if len(self.anchors) == 1 else self.anchors[day_index]

    @property
    def day_window(self) -> TimeWindow:
        return self.preferences.day_window or self.pace_policies[self.preferences.pace].day_window

    @property
    def max_stops_per_day(self) -> int:
        cap = self.pace_policies[self.preferences.pace].max_stops_per_day
        if self.preferences.max_places_per_day is not None:
            cap = min(cap, self.preferences.max_places_per_day)
        return cap

    @property
    def linger_factor(self) -> float:
        return self.pace_policies[self.preferences.pace].linger_factor

    def meal_windows(self) -> dict[MealKind, TimeWindow]:
        windows = {MealKind.LUNCH: self.preferences.lunch_window, MealKind.DINNER: self.preferences.dinner_window}
        return {kind: window for kind, window in windows.items() if window is not None}

    def required_meals(self) -> tuple[MealKind, ...]:
        """The meals every day of this trip must have (or explain): see the module notes."""
        window, preferences = self.day_window, self.preferences
        required = []
        for kind, meal_window in self.meal_windows().items():
            overlap = min(window.end, meal_window.end) - max(window.start, meal_window.start)
            if overlap >= preferences.meal_required_overlap_minutes and kind not in preferences.skip_meals:
                required.append(kind)
        return tuple(required)


# ----------------------------------------------------------------------------------------------------- output


class Leg(_Frozen):
    mode: TravelMode
    minutes: int = Field(ge=0)
    metres: int = Field(ge=0)


class Stop(_Frozen):
    """One visit; times are minutes since local midnight of the day's date."""

    place_id: str
    name: str = ""
    arrive_minute: int = Field(ge=0, le=MINUTES_PER_DAY)
    depart_minute: int = Field(ge=0, le=MINUTES_PER_DAY)
    meal: MealKind | None = None
    leg_from_previous: Leg | None = None
    cost: float = Field(default=0.0, ge=0, description="for the whole group")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def arrive(self) -> str:
        return format_clock(self.arrive_minute)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def depart(self) -> str:
        return format_clock(self.depart_minute)


class ResumePoint(_Frozen):
    """Where the traveller is when the rest of a day was re-planned: stops from ``before_stop`` on start from
    ``node_id`` at ``minute`` (the stops before it are behind them; the validator does not link the two parts)."""

    node_id: str = Field(min_length=1)
    minute: ClockMinute
    before_stop: int = Field(ge=0)


class DayPlan(_Frozen):
    date: dt.date
    stops: list[Stop] = Field(default_factory=list)
    resume: ResumePoint | None = None
    start_minute: int | None = Field(default=None, description="leaving the start node")
    end_minute: int | None = Field(default=None, description="reaching the end node")
    leg_to_end: Leg | None = None
    travel_minutes: int = 0
    cost: float = 0.0


class CostBreakdown(_Frozen):
    activities: float = 0.0
    food: float = 0.0
    local_transport: float = 0.0
    budget_limit: float | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> float:
        return round(self.activities + self.food + self.local_transport, 2)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def within_budget(self) -> bool:
        return self.budget_limit is None or self.total <= self.budget_limit + 1e-6


class DropReason(StrEnum):
    CLOSED = "closed"
    NO_TIME = "no_time"
    OVER_BUDGET = "over_budget"
    AVOIDED = "avoided"
    UNREACHABLE = "unreachable"
    MEAL_NOT_NEEDED = "meal_not_needed"


class DroppedPlace(_Frozen):
    place_id: str
    reason: DropReason
    detail: str = ""


class WarningCode(StrEnum):
    MUST_INCLUDE_DROPPED = "must_include_dropped"
    MEAL_MISSING = "meal_missing"
    BUDGET_EXCEEDED = "budget_exceeded"
    HOURS_UNKNOWN = "hours_unknown"
    SOLVER_TIME_LIMIT = "solver_time_limit"
    IDLE_GAP = "idle_gap"
    WEATHER_MOVED = "weather_moved"


class PlanWarning(_Frozen):
    code: WarningCode
    message: str
    day_index: int | None = None
    place_id: str | None = None
    meal: MealKind | None = None


class Producer(StrEnum):
    SOLVER = "solver"
    GREEDY = "greedy"
    USER = "user"


class Itinerary(_Frozen):
    """A day-by-day plan. The engine fills every field; user-edited trips need only ``days``."""

    days: list[DayPlan]
    costs: CostBreakdown = Field(default_factory=CostBreakdown)
    dropped: list[DroppedPlace] = Field(default_factory=list)
    warnings: list[PlanWarning] = Field(default_factory=list)
    produced_by: Producer = Producer.USER
    solve_seconds: float = 0.0


class Violation(_Frozen):
    rule: str
    day_index: int | None
    stop_index: int | None
    message: str
