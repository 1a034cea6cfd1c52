"""The trip planning contract: the request an app sends and the trip it gets back (and watches in Firestore).

These models are the single source of the OpenAPI document (``scripts/openapi.py`` writes ``openapi.json``).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from pydantic.json_schema import SkipJsonSchema

from common.foundation.config import Settings
from common.foundation.errors import InvalidRequest

Pace = Literal["relaxed", "moderate", "packed"]
Transport = Literal["walk", "transit", "drive"]
TripStatus = Literal["queued", "planning", "ready", "failed"]
LinkSharing = Literal["owner", "editors"]
ProgressStage = Literal["queued", "resolving", "choosing", "scheduling", "describing", "done"]

MAX_WISHES = 300  # characters of a re-plan's wishes for its day
MAX_DAYS_AHEAD = 730  # opening hours and prices mean little further out
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")


def _clean_text(value: str) -> str:
    """NFC-normalised text without control or bidi-override characters; refuses NUL and control bytes."""
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    value = unicodedata.normalize("NFC", value).strip()
    if not value:
        raise ValueError("must not be blank")
    return value


Destination = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), AfterValidator(_clean_text)
]
Interest = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), AfterValidator(_clean_text)
]
PlaceName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), AfterValidator(_clean_text)
]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), AfterValidator(_clean_text)
]
Lodging = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(_clean_text)
]


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _calendar_date_only(value: Any) -> Any:
    """A date is written YYYY-MM-DD: a date-time, even at midnight, or a number is refused."""
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    if not isinstance(value, str | dt.date) or isinstance(value, dt.datetime):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


CalendarDate = Annotated[dt.date, BeforeValidator(_calendar_date_only)]


class Budget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: float = Field(ge=0, le=10_000_000, description="Total for the group: activities, food, local transport")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")


class CityStay(BaseModel):
    """One city of a multi-city trip, in the order travelled."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    destination: Destination = Field(description="City or area, any script", examples=["Tokyo"])
    nights: int | None = Field(
        None,
        ge=1,
        le=365,
        description="Nights spent in this city; the cities' nights add up to the trip's nights (end_date minus "
        "start_date). Only the last city may leave it out: it gets the nights left.",
    )
    lodging: Lodging | None = Field(None, description="Where you stay in this city: its days start and end there")


class TripRequest(BaseModel):
    """What an app asks for. Unknown fields are refused. Give ``destination`` (one city) or ``destinations`` (cities
    in the order travelled, each with its nights), not both."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    destination: Destination | None = Field(None, description="City or area, any script", examples=["Kyoto"])
    destinations: list[CityStay] | None = Field(
        None,
        min_length=1,
        max_length=20,
        description="A multi-city trip: the cities in order, at most MAX_TRIP_CITIES; the travel day to the next "
        "city is the day after a city's last night",
        examples=[[{"destination": "Tokyo", "nights": 3}, {"destination": "Kyoto", "nights": 2}]],
    )
    start_date: CalendarDate
    end_date: CalendarDate = Field(description="Inclusive; equal to start_date for a one-day trip")
    travelers: int = Field(1, ge=1, le=50)
    budget: Budget | None = None
    interests: list[Interest] = Field(default_factory=list, max_length=10)
    pace: Pace = "moderate"
    transport: Transport = "transit"
    must_include: list[PlaceName] = Field(default_factory=list, max_length=10)
    avoid: list[PlaceName] = Field(default_factory=list, max_length=10)
    dietary: list[ShortText] = Field(default_factory=list, max_length=5)
    accessibility: list[ShortText] = Field(default_factory=list, max_length=5)
    lodging: Lodging | None = None
    skip_meals: list[Literal["lunch", "dinner"]] = Field(
        default_factory=list,
        max_length=2,
        description="Meals the plan leaves out on every day (e.g. dinner when you eat at the lodging)",
    )
    language: str = Field("en", max_length=35, description="BCP-47 tag from SUPPORTED_LANGUAGES")

    @property
    def day_count(self) -> int:
        return (self.end_date - self.start_date).days + 1

    @property
    def stays(self) -> list[CityStay]:
        """The trip's cities in order with their nights (the single ``destination`` form as one city); the last
        city's nights filled in."""
        if not self.destinations:
            return [
                CityStay(destination=self.destination or "", nights=self.day_count - 1 or None, lodging=self.lodging)
            ]
        stays = list(self.destinations)
        if stays[-1].nights is None:
            left = self.day_count - 1 - sum(stay.nights or 0 for stay in stays[:-1])
            stays[-1] = stays[-1].model_copy(update={"nights": left if left >= 1 else None})
        return stays

    @property
    def first_city(self) -> str:
        """The name asked for the trip's (first) city."""
        return self.destinations[0].destination if self.destinations else self.destination or ""


def _city_problems(
    body: dict[str, Any], settings: Settings, start: dt.date | None, end: dt.date | None
) -> list[dict[str, str]]:
    """``destination`` or ``destinations``; the cities' count and nights against the configuration and the dates."""
    destinations, single = body.get("destinations"), body.get("destination")
    if destinations is None and single is None:
        return [{"field": "destination", "message": "give destination (one city) or destinations (several)"}]
    if destinations is None:
        return []
    problems: list[dict[str, str]] = []
    if single is not None:
        problems.append({"field": "destinations", "message": "give destination or destinations, not both"})
    if body.get("lodging") is not None:
        problems.append({"field": "lodging", "message": "with destinations, give each city's lodging in it"})
    if not isinstance(destinations, list):
        return problems
    if len(destinations) > settings.max_trip_cities:
        problems.append(
            {
                "field": "destinations",
                "message": f"at most {settings.max_trip_cities} cities per trip; this one has {len(destinations)}",
            }
        )
    nights: list[int | None] = []
    for index, stay in enumerate(destinations):
        value = stay.get("nights") if isinstance(stay, dict) else None
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            nights.append(value)
            continue
        nights.append(None)
        if value is None and index < len(destinations) - 1:
            problems.append(
                {"field": f"destinations.{index}.nights", "message": "required: only the last city may leave it out"}
            )
    if start is None or end is None or end < start or not destinations:
        return problems
    trip_nights = (end - start).days
    given = sum(value or 0 for value in nights)
    last_left_out = isinstance(destinations[-1], dict) and destinations[-1].get("nights") is None
    if given + (1 if last_left_out else 0) > trip_nights:
        at_least = ", and at least 1 for the last city" if last_left_out else ""
        problems.append(
            {
                "field": "destinations",
                "message": f"the cities' nights ({given}{at_least}) are more than the trip's {trip_nights} nights "
                f"({start} to {end})",
            }
        )
    elif not last_left_out and all(value is not None for value in nights) and given != trip_nights:
        problems.append(
            {
                "field": "destinations",
                "message": f"the cities' nights ({given}) fall short of the trip's {trip_nights} nights "
                f"({start} to {end}): they must add up",
            }
        )
    return problems


def _problems_from(error: ValidationError) -> list[dict[str, str]]:
    problems = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "body"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        problems.append({"field": field, "message": message})
    return problems


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _rule_problems(
    body: dict[str, Any], settings: Settings, today: dt.date, parsed: TripRequest | None = None
) -> list[dict[str, str]]:
    """Checks that depend on configuration or on several fields; run on whatever parts of the body parse (the dates
    as the model understood them when it parsed the body)."""
    problems: list[dict[str, str]] = []
    start, end = _as_date(body.get("start_date")), _as_date(body.get("end_date"))
    if parsed is not None:
        start, end = parsed.start_date, parsed.end_date
    if start is not None:
        # Somewhere on Earth it may still be yesterday: accept a start one day before today's UTC date.
        if start < today - dt.timedelta(days=1):
            problems.append({"field": "start_date", "message": "must not be in the past"})
        elif start > today + dt.timedelta(days=MAX_DAYS_AHEAD):
            problems.append({"field": "start_date", "message": f"must be within {MAX_DAYS_AHEAD} days from today"})
    if start is not None and end is not None:
        days = (end - start).days + 1
        if end < start:
            problems.append({"field": "end_date", "message": "must not be before start_date"})
        elif not settings.min_trip_duration_days <= days <= settings.max_trip_duration_days:
            problems.append(
                {
                    "field": "end_date",
                    "message": f"the trip must last {settings.min_trip_duration_days} to "
                    f"{settings.max_trip_duration_days} days (inclusive); this one lasts {days}",
                }
            )
    problems += _city_problems(body, settings, start, end)
    language = body.get("language", "en")
    if isinstance(language, str) and len(language) <= 35:
        if not _LANGUAGE_TAG.match(language):
            problems.append({"field": "language", "message": "must be a BCP-47 language tag"})
        elif language.lower() not in {supported.lower() for supported in settings.supported_languages}:
            problems.append(
                {"field": "language", "message": f"must be one of {', '.join(settings.supported_languages)}"}
            )
    return problems


def parse_trip_request(body: Any, settings: Settings, today: dt.date) -> TripRequest:
    """Validate a request body against the contract and the configured trip rules; every problem is listed."""
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object", details=[{"field": "body", "message": "not an object"}])
    problems: list[dict[str, str]] = []
    request: TripRequest | None = None
    try:
        request = TripRequest.model_validate(body)
    except ValidationError as error:
        problems = _problems_from(error)
    for problem in _rule_problems(body, settings, today, request):
        if problem not in problems:
            problems.append(problem)
    if problems or request is None:
        raise InvalidRequest("the trip request is not valid", details=problems)
    return request


# ----- the trip document ----------------------------------------------------------------------------------------
#
# One typed model per part of the stored ``trips/{id}`` document; every writer builds these and the store module is
# the only place that turns them into Firestore dicts and back. The API shows the same models without the fields a
# model names in ``SERVER_ONLY`` (bookkeeping of the services; not in the OpenAPI document either).


class DocumentPart(BaseModel):
    """A part of the stored trip. Unknown stored keys are ignored (older documents stay readable)."""

    model_config = ConfigDict(extra="ignore")
    SERVER_ONLY: ClassVar[frozenset[str]] = frozenset()


class LatLng(DocumentPart):
    lat: float
    lng: float


class Money(DocumentPart):
    amount: float
    currency: str


class TripDestination(DocumentPart):
    name: str
    place_id: str
    location: LatLng
    time_zone: str


class TripCity(DocumentPart):
    """One city of the trip, in the order travelled (a single-city trip has one): its days are ``first_day`` to
    ``last_day`` (1-based, inclusive; a travel day counts for the city it arrives in)."""

    name: str
    place_id: str
    location: LatLng
    time_zone: str
    lodging: str | None = Field(None, description="The lodging asked for (days start and end there when found)")
    nights: int
    first_day: int = Field(ge=1)
    last_day: int = Field(ge=1)

    def as_destination(self) -> TripDestination:
        return TripDestination(name=self.name, place_id=self.place_id, location=self.location, time_zone=self.time_zone)


TransferMode = Literal["transit", "drive", "flight"]
TRANSFER_WORDS: dict[str, str] = {"transit": "Train", "drive": "Drive", "flight": "Flight"}  # as a traveller reads it


class Transfer(DocumentPart):
    """The move from one city to the next on a travel day. ``depart`` is local time in the city left, ``arrive``
    local time in the city reached; stops before it are in the city left, stops after it in the city reached."""

    from_city: int = Field(ge=0, description="Index in the trip's cities")
    to_city: int = Field(ge=0)
    from_name: str
    to_name: str
    mode: TransferMode
    depart: str = Field(pattern=r"^\d{2}:\d{2}$")
    arrive: str = Field(pattern=r"^\d{2}:\d{2}$")
    duration_min: int = Field(ge=0)
    distance_m: int = Field(ge=0)
    cost_estimate: Money = Field(description="For the whole group; counted in the budget's transfers")
    estimated: bool = Field(description="True when the Routes API had no route and the time is our estimate")
    source: Literal["routes_api", "estimate"]
    label: str = Field(description="What the traveller reads, e.g. 'Train, about 2 h 30 min (Routes API)'")


class TravelLeg(DocumentPart):
    mode: Transport
    duration_min: int
    distance_m: int


MealKind = Literal["lunch", "dinner"]
Timing = Literal["auto", "fixed"]
MAX_KEEP_SKIP = 20  # stops named in a re-plan's keep or skip
_HH_MM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
StopPlaceId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-]{1,512}$")]


class Position(BaseModel):
    """A point given by an app (where the traveller is)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)


class ReplanFrom(BaseModel):
    """Where and when the traveller is when they ask to re-plan the rest of the day."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time: str = Field(pattern=_HH_MM, description="HH:MM, local time at the destination")
    location: Position


class ReplanOptions(BaseModel):
    """The body of ``POST /trips/{id}/days/{n}/replan`` (every field optional). Stops are named by ``place_id``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    wishes: str | None = Field(None, max_length=MAX_WISHES, description="What this day should have, in a few words")
    from_: ReplanFrom | None = Field(
        None,
        alias="from",
        description="Re-plan only the rest of the day, from this time and place: the stops behind it stay as they are",
    )
    keep: list[StopPlaceId] = Field(
        default_factory=list, max_length=MAX_KEEP_SKIP, description="Place ids of stops of the day that must stay"
    )
    skip: list[StopPlaceId] = Field(
        default_factory=list,
        max_length=MAX_KEEP_SKIP,
        description="Place ids of stops of the day to drop (not planned again that day)",
    )


class Stop(DocumentPart):
    place_id: str | None
    name: str
    category: str
    location: LatLng | None
    arrive: str = Field(pattern=r"^\d{2}:\d{2}$", description="Local time at the destination")
    depart: str = Field(pattern=r"^\d{2}:\d{2}$")
    duration_min: int
    cost_estimate: Money
    description: str
    travel_from_previous: TravelLeg | None
    warnings: list[str] = Field(default_factory=list)
    meal: MealKind | None = Field(None, description="Set when the stop is the day's lunch or dinner")
    timing: Timing | None = Field(
        None, description="After an edit: times given by the user (fixed) or computed (auto); unset when planned"
    )
    outdoor: bool | None = Field(
        None, description="An open-air place (park, garden, viewpoint, beach, open-air market): weather matters"
    )
    locked: bool = Field(
        False, description="Kept at its place and times by re-plans and enrichment (set with PATCH); never moved"
    )


ForecastStatus = Literal["known", "not_yet_known", "unavailable"]


class DayForecast(DocumentPart):
    """The day's weather where the traveller is that day (Weather API, daytime 07:00-19:00), or why it is missing:
    ``not_yet_known`` beyond the forecast horizon (10 days; a re-plan nearer the date picks it up), ``unavailable``
    when the Weather API is switched off or failed (the trip's warnings say so)."""

    status: ForecastStatus
    condition: str | None = Field(None, description="Weather API condition type, e.g. LIGHT_RAIN, PARTLY_CLOUDY")
    description: str | None = Field(None, description="e.g. 'Light rain', or why the forecast is missing")
    precipitation_probability: int | None = Field(None, ge=0, le=100, description="Daytime chance of rain or snow, %")
    high_c: float | None = Field(None, description="Highest temperature, degrees Celsius")
    low_c: float | None = Field(None, description="Lowest temperature, degrees Celsius")
    wet: bool = Field(False, description="Planned as a wet day: outdoor places moved to drier days where possible")
    moved: list[str] = Field(
        default_factory=list, description="What the weather moved off this day, e.g. 'X moved to Thu for drier weather'"
    )


class DayChanges(DocumentPart):
    """What the last re-plan of a day changed, by stop name."""

    kept: list[str] = Field(default_factory=list, description="Same place, same times")
    retimed: list[str] = Field(default_factory=list, description="Same place, other times")
    dropped: list[str] = Field(default_factory=list, description="No longer on the day")
    added: list[str] = Field(default_factory=list, description="New on the day")


class ReplanStart(DocumentPart):
    """Where the rest of a day was re-planned from: stops from ``first_stop`` on start there and then."""

    time: str
    location: LatLng
    first_stop: int = Field(description="Index of the first stop planned from that point")


class Day(DocumentPart):
    date: dt.date
    theme: str
    summary: str
    stops: list[Stop]
    travel_min: int
    cost_estimate: Money
    warnings: list[str] = Field(default_factory=list)
    cost_by_category: dict[str, float] | None = Field(
        None, description="The day's cost split as the trip budget's by_category"
    )
    forecast: DayForecast | None = Field(None, description="The day's weather forecast; unset on older trips")
    city: int = Field(
        0, ge=0, description="Index in the trip's cities: where the day is spent (a travel day: the city it arrives in)"
    )
    transfer: Transfer | None = Field(None, description="Set on a travel day: the move to the next city")
    changes: DayChanges | None = Field(None, description="What the last re-plan of this day changed")
    replanned_from: ReplanStart | None = Field(
        None, description="Set when only the rest of the day was re-planned, from this time and place"
    )

    def stops_around_transfer(self) -> tuple[list[Stop], list[Stop]]:
        """A travel day's stops in the city left (before the transfer) and in the city reached (after it), split
        where a stop first starts at or after the departure; on other days every stop is 'after'."""
        if self.transfer is None:
            return [], list(self.stops)
        departure = self.transfer.depart
        for position, stop in enumerate(self.stops):
            if stop.arrive >= departure:
                return list(self.stops[:position]), list(self.stops[position:])
        return list(self.stops), []


class TripBudget(DocumentPart):
    currency: str
    limit: float | None
    estimated_total: float
    by_category: dict[str, float]


class Dropped(DocumentPart):
    name: str
    reason: str


class Tokens(DocumentPart):
    prompt: int
    output: int
    thinking: int = Field(0, description="Thinking tokens (billed as output; not included in output)")


class PlannerReport(DocumentPart):
    provider: str
    model: str | None
    llm_calls: int
    function_calls: int
    tokens: Tokens
    maps_calls: int
    cache_hits: int
    duration_ms: int
    maps_elements: int = Field(0, description="Route-matrix elements billed by this planning")


class Progress(DocumentPart):
    stage: ProgressStage
    updated_at: dt.datetime


class Failure(DocumentPart):
    """Why a trip ended ``failed``: an error code of the API and a message an app can show."""

    code: str
    message: str


class SolverReport(DocumentPart):
    produced_by: str
    solve_seconds: float


class EnrichmentReport(DocumentPart):
    """What the ``enrich_places`` trigger last did after an edit (``pending`` until it has run)."""

    # Server-only: the hashes of the inputs enrichment depends on (common.services.trips.day_inputs) as it last saw
    # them, and what its last run did.

    SERVER_ONLY: ClassVar[frozenset[str]] = frozenset(
        {"input_hash", "day_hashes", "transport", "source_update_time", "event_id", "changed_dates", "maps_calls"}
    )

    status: Literal["pending", "enriched", "failed"] = "pending"
    reason: str | None = None
    enriched_at: dt.datetime | None = None
    runs: int = 0
    input_hash: SkipJsonSchema[str | None] = None
    day_hashes: SkipJsonSchema[dict[str, str] | None] = None
    transport: SkipJsonSchema[str | None] = None
    source_update_time: SkipJsonSchema[dt.datetime | None] = None
    event_id: SkipJsonSchema[str | None] = None
    changed_dates: SkipJsonSchema[list[str]] = Field(default_factory=list)
    maps_calls: SkipJsonSchema[int] = 0


class Replanning(DocumentPart):
    """The last asynchronous re-plan of a day (``POST .../days/{n}/replan`` with ``Prefer: respond-async``), as an
    app watches it: ``queued`` -> ``planning`` -> ``done`` (the day is replaced, ``version`` + 1) or ``failed``."""

    SERVER_ONLY: ClassVar[frozenset[str]] = frozenset({"wishes", "options", "session_id", "attempts", "requested_by"})

    day: int = Field(description="The re-planned day, 1 for the first")
    status: Literal["queued", "planning", "done", "failed"]
    failure: Failure | None = None
    requested_at: dt.datetime
    updated_at: dt.datetime
    changes: DayChanges | None = Field(None, description="When done: what the re-plan changed on the day")
    wishes: SkipJsonSchema[str | None] = None
    options: SkipJsonSchema[ReplanOptions | None] = None
    session_id: SkipJsonSchema[str | None] = None
    attempts: SkipJsonSchema[int] = 0
    requested_by: SkipJsonSchema[str | None] = None


class Trip(DocumentPart):
    """A trip as returned and as stored in ``trips/{id}`` (a failed or planning trip has no days yet)."""

    SERVER_ONLY: ClassVar[frozenset[str]] = frozenset({"shared_with_uids", "solver", "planning_attempts"})

    id: str
    user_id: str
    status: TripStatus
    version: int
    destination: TripDestination | None = Field(description="The (first) city")
    cities: list[TripCity] = Field(default_factory=list, description="The cities in order (one for a one-city trip)")
    start_date: dt.date
    end_date: dt.date
    travelers: int
    pace: Pace
    transport: Transport
    language: str
    request: TripRequest = Field(description="What was asked")
    days: list[Day]
    budget: TripBudget | None
    dropped: list[Dropped]
    warnings: list[str]
    planner: PlannerReport | None
    progress: Progress
    failure: Failure | None = None
    tips: list[str] = Field(default_factory=list, description="Practical tips from the planner")
    title: str | None = None
    notes: str | None = None
    shared_with: dict[str, Literal["viewer", "editor"]] = Field(default_factory=dict, description="uid -> role")
    link_sharing: LinkSharing = Field(
        "owner", description="Who may create read-only share links: the owner only, or editors too (owner sets it)"
    )
    enrichment: EnrichmentReport | None = None
    replanning: Replanning | None = None
    created_at: dt.datetime
    updated_at: dt.datetime
    shared_with_uids: SkipJsonSchema[list[str]] = Field(
        default_factory=list, description="The uids of shared_with, queryable with array_contains"
    )
    solver: SkipJsonSchema[SolverReport | None] = None
    planning_attempts: SkipJsonSchema[int] = Field(
        0, description="Claims of a queued trip by the planning worker (a redelivered task after a crash adds one)"
    )

    def api_view(self) -> dict[str, Any]:
        """The trip as the API shows it (JSON types, server-only fields left out)."""
        hidden: dict[str, Any] = dict.fromkeys(self.SERVER_ONLY, True)
        hidden["enrichment"] = set(EnrichmentReport.SERVER_ONLY)
        hidden["replanning"] = set(Replanning.SERVER_ONLY)
        return self.model_dump(mode="json", exclude=hidden)

    @property
    def currency(self) -> str | None:
        return self.budget.currency if self.budget else None

    def city_of(self, day_index: int) -> TripCity | None:
        """THE way to find where day ``day_index`` (0-based) is spent: its city's name, location and time zone. On
        a travel day it is the city arrived in (``day.transfer.from_city`` is the one left, and stops before the
        transfer are there). One-city trips, and trips stored before multi-city ones, answer their destination;
        ``None`` only for a trip not yet planned."""
        if self.cities:
            index = self.days[day_index].city if 0 <= day_index < len(self.days) else 0
            return self.cities[min(index, len(self.cities) - 1)]
        if self.destination is None:
            return None
        days = max(1, len(self.days))
        return TripCity(
            name=self.destination.name,
            place_id=self.destination.place_id,
            location=self.destination.location,
            time_zone=self.destination.time_zone,
            lodging=self.request.lodging,
            nights=days - 1,
            first_day=1,
            last_day=days,
        )


# ----- share links (``share_links/{id}``) -------------------------------------------------------------------------


class ShareLink(BaseModel):
    """A read-only link to a trip, as stored in ``share_links/{id}`` (with ``expire_at``, the TTL field, beside it:
    see ``store.create_link``). The id is the SHA-256 of the link's token; the token itself is shown once, when the
    link is created, and never stored."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(description="The link id (a digest of its token), for listing and revoking")
    trip_id: str
    created_by: str = Field(description="uid of the owner or editor who created it")
    created_at: dt.datetime
    expires_at: dt.datetime | None = Field(None, description="When the link stops working; null: until revoked")
