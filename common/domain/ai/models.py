"""The data the planner layer takes and gives: the trip brief, the proposal, usage, and the two protocols.

The model chooses and describes places; it never supplies coordinates, opening hours or times. Every place it names is
resolved later (by the caller) to a real place id, or dropped.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from common.domain.ai.deadline import Deadline

Pace = Literal["relaxed", "moderate", "packed"]
Transport = Literal["walk", "transit", "drive"]
ProviderName = Literal["offline", "google-ai", "vertex-ai"]

MAX_PLACES = 60
MAX_DAY_THEMES = 31
MAX_TIPS = 6
NAME_MAX_CHARS = 120
PLACE_ID_MAX_CHARS = 300
DESCRIPTION_MAX_CHARS = 400
DAY_THEME_MAX_CHARS = 80
TIP_MAX_CHARS = 200
TOOL_LOG_MAX_ENTRIES = 20
TOOL_LOG_ARGS_MAX_CHARS = 200
NOTES_MAX_ENTRIES = 10
NOTE_MAX_CHARS = 300


class DayOutlook(BaseModel):
    """One day's forecast as the planner is told it (the Weather API's, known days only): the Gemini planner may
    propose more indoor places for wet days; the offline planner ignores it."""

    model_config = ConfigDict(frozen=True)

    date: dt.date
    condition: str | None = None  # Weather API condition type, e.g. LIGHT_RAIN
    precipitation_probability: int | None = Field(None, ge=0, le=100)
    wet: bool = False


class TripBrief(BaseModel):
    """What the traveller asked for, after the caller validated the request and resolved the destination.

    ``other_cities``: on a multi-city trip, the trip's other cities (each planned by a brief of its own; a
    must-include of one of them is not this brief's). ``forecast``: the known forecast of the brief's days."""

    model_config = ConfigDict(frozen=True)

    destination: str
    destination_place_id: str
    country: str | None = None
    time_zone: str | None = None
    start_date: dt.date
    end_date: dt.date
    travelers: int = Field(1, ge=1)
    pace: Pace = "moderate"
    transport: Transport = "walk"
    interests: list[str] = Field(default_factory=list)
    must_include: list[str] = Field(default_factory=list)
    avoid: list[str] = Field(default_factory=list)
    dietary: list[str] = Field(default_factory=list)
    accessibility: list[str] = Field(default_factory=list)
    budget_amount: float | None = Field(None, ge=0)
    budget_currency: str | None = None
    language: str = "en"
    lodging: str | None = None
    other_cities: list[str] = Field(default_factory=list)
    forecast: list[DayOutlook] = Field(default_factory=list)

    @model_validator(mode="after")
    def _dates_in_order(self) -> TripBrief:
        if self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        return self

    @property
    def days(self) -> int:
        """Number of calendar days of the trip, both ends included."""
        return (self.end_date - self.start_date).days + 1


class ProposedPlace(BaseModel):
    """A place to visit or to eat. place_id is copied from the Maps data, or null."""

    # This docstring and Proposal's are sent to Gemini as schema descriptions: they are written for the model.
    # ``place_id`` survives sanitizing only when a Maps tool returned it in the same conversation.

    name: str = Field(min_length=1, max_length=NAME_MAX_CHARS)
    place_id: str | None = Field(None, max_length=PLACE_ID_MAX_CHARS)
    kind: Literal["visit", "meal"]
    priority: int = Field(ge=1, le=5)
    description: str = Field("", max_length=DESCRIPTION_MAX_CHARS)
    must_include: bool = False


class Proposal(BaseModel):
    """Places proposed for the trip, best first, with one short theme per day and a few practical tips."""

    places: list[ProposedPlace] = Field(default_factory=list, max_length=MAX_PLACES)
    day_themes: list[str] = Field(default_factory=list, max_length=MAX_DAY_THEMES)
    tips: list[str] = Field(default_factory=list, max_length=MAX_TIPS)

    @model_validator(mode="after")
    def _bounded_texts(self) -> Proposal:
        if any(len(theme) > DAY_THEME_MAX_CHARS for theme in self.day_themes):
            raise ValueError(f"each day theme must be at most {DAY_THEME_MAX_CHARS} characters")
        if any(len(tip) > TIP_MAX_CHARS for tip in self.tips):
            raise ValueError(f"each tip must be at most {TIP_MAX_CHARS} characters")
        return self


class ModelUsage(BaseModel):
    """What one ``propose`` call cost and did; stored with the trip. ``tool_log`` keeps the first 20 tool calls.

    ``output_tokens`` are the answers' tokens (``candidates_token_count``); ``thinking_tokens`` the model's thinking
    (``thoughts_token_count``), which Gemini bills as output and counts against ``max_output_tokens``. ``notes`` keep
    the first few things that went differently (a cut-off answer retried, research cut short by the deadline).
    """

    provider: ProviderName
    model: str | None = None
    llm_calls: int = 0
    function_calls: int = 0
    prompt_tokens: int = 0
    output_tokens: int = 0
    thinking_tokens: int = 0
    tool_log: list[dict[str, Any]] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    fallback_from: str | None = None
    fallback_reason: str | None = None

    def record_tool(self, tool: str, args: dict[str, Any], ok: bool, ms: float) -> None:
        """Add a bounded entry ``{tool, args, ok, ms}`` to ``tool_log`` (the first 20 calls only)."""
        if len(self.tool_log) >= TOOL_LOG_MAX_ENTRIES:
            return
        args_text = ", ".join(f"{key}={value!r}" for key, value in sorted(args.items()))
        if len(args_text) > TOOL_LOG_ARGS_MAX_CHARS:
            args_text = args_text[: TOOL_LOG_ARGS_MAX_CHARS - 3] + "..."
        self.tool_log.append({"tool": tool[:60], "args": args_text, "ok": ok, "ms": round(ms, 1)})

    def add_tokens(
        self, prompt_tokens: int | None, output_tokens: int | None, thinking_tokens: int | None = None
    ) -> None:
        self.prompt_tokens += max(0, prompt_tokens or 0)
        self.output_tokens += max(0, output_tokens or 0)
        self.thinking_tokens += max(0, thinking_tokens or 0)

    def token_counts(self) -> dict[str, int]:
        """``{prompt, output, thinking}``: the trip's planner report stores them as ``tokens``."""
        return {"prompt": self.prompt_tokens, "output": self.output_tokens, "thinking": self.thinking_tokens}

    def note(self, text: str) -> None:
        """Add a bounded note (the first 10 only, 300 characters each)."""
        if len(self.notes) < NOTES_MAX_ENTRIES:
            self.notes.append(text[:NOTE_MAX_CHARS])


class ToolBox(Protocol):
    """Maps lookups offered to the planner (implemented by the caller over the Maps layer).

    Answers are compact, already bounded JSON-able dicts. Methods may raise ``common.foundation.errors.NotFound`` or
    ``common.foundation.errors.RetryableError`` (after the Maps layer's own retries).
    """

    def search_places(self, query: str, category: str | None = None, max_results: int = 10) -> list[dict[str, Any]]:
        """Each result: {place_id, name, category, rating, user_rating_count, price_level, summary, address}."""
        ...

    def place_details(self, place_id: str) -> dict[str, Any]:
        """{place_id, name, category, rating, opening_hours_text: list[str], price_level, summary, website}."""
        ...

    def travel_time(self, origin_place_id: str, destination_place_id: str, mode: str) -> dict[str, Any]:
        """{duration_min, distance_m}, or {unreachable: True}."""
        ...


class Planner(Protocol):
    """Proposes places for a trip. ``name`` says which provider (or chain of providers) it is."""

    name: str

    def propose(
        self, brief: TripBrief, tools: ToolBox, *, deadline: Deadline | None = None
    ) -> tuple[Proposal, ModelUsage]:
        """``deadline``: the plan's model deadline when a caller (the fallback chain) already started one."""
        ...


STOPS_PER_DAY: dict[Pace, int] = {"relaxed": 3, "moderate": 4, "packed": 6}  # sights x CANDIDATE_FACTOR: enough
CANDIDATE_FACTOR = 1.5
MEALS_PER_DAY = 2
SPARE_MEAL_VENUES = 2  # so the scheduler can pick a venue near the day's route that is open at the meal's time


def candidate_targets(brief: TripBrief, max_places_per_day: int = 8) -> tuple[int, int]:
    """How many visit and meal candidates to propose: pace sights a day x days x 1.5 visits, 2 meals a day plus
    ``SPARE_MEAL_VENUES``.

    The scheduler drops what does not fit, so a proposal offers more places than the days can hold. The total stays
    within the proposal's bound of 60 places (visits give way first, meals keep at least one a day).
    """
    stops = min(STOPS_PER_DAY[brief.pace], max_places_per_day)
    visits = math.ceil(stops * brief.days * CANDIDATE_FACTOR)
    meals = MEALS_PER_DAY * brief.days + SPARE_MEAL_VENUES
    if visits + meals > MAX_PLACES:
        meals = min(meals, max(brief.days, MAX_PLACES // 3))
        visits = MAX_PLACES - meals
    return visits, meals
