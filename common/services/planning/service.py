"""Planning a trip end to end: admit, resolve, choose (model), schedule (engine), validate, describe, store.

The model chooses and describes places; every place it names is resolved through the Maps layer or dropped with a
reason; the engine decides order and times; the validator must find nothing before a trip is stored ``ready``.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from common.domain.ai import DayOutlook, ModelUsage, Planner, Proposal, TripBrief
from common.domain.itinerary import (
    DayAnchor,
    Itinerary,
    Pace,
    Preferences,
    TimeWindow,
    TripProblem,
    validate,
    with_day_windows,
)
from common.domain.maps import Destination, MapsService, MapsUsage, Place, Waypoint
from common.domain.maps.errors import MapsPlaceNotFound
from common.domain.maps.estimates import category_for_types
from common.domain.maps.legs import straight_metres
from common.domain.maps.names import casefolded, names_match
from common.domain.maps.weather import ForecastQuery, WeatherService
from common.domain.maps_engine import MEAL_CATEGORIES, engine_place, estimated_matrix
from common.domain.needs import needs_step_free, wants_vegetarian
from common.foundation import currency
from common.foundation.clients import Lazy
from common.foundation.concurrency import fan_out
from common.foundation.config import Settings
from common.foundation.errors import AppError, InternalError, InvalidRequest
from common.foundation.log import get_logger
from common.foundation.times import utc_now
from common.services.planning.assemble import OFFLINE_WARNING, PlannedParts, assemble_trip, transport_costs
from common.services.planning.cities import (
    CityRoute,
    PlannedCity,
    TransferRoute,
    TravelDay,
    city_days,
    city_request,
    combined_usage,
    find_transfer,
    plan_travel_day,
    transfer_cost,
    transfer_document,
    transfer_problems,
    travel_day,
    trip_budget,
)
from common.services.planning.legs import plan_on_real_legs
from common.services.planning.meals import cover_meal_areas
from common.services.planning.session import PlanningSession, failure_cause
from common.services.planning.toolbox import MapsToolBox
from common.services.planning.weather import TripWeather, trip_weather
from common.services.trips import store
from common.services.trips.models import (
    Day,
    DayForecast,
    Dropped,
    PlannerReport,
    ProgressStage,
    SolverReport,
    Tokens,
    Trip,
    TripRequest,
    parse_trip_request,
)

if TYPE_CHECKING:
    from google.cloud import firestore

    from common.services.planning.replan_from import DayConstraints

logger = get_logger(__name__)

MAX_CANDIDATES = 60  # the solver's matrix is estimated (no Maps call); only the legs a plan uses are fetched
NOT_A_STOP = {"hotel", "locality", "other"}
NOT_A_DESTINATION = {"hotel", "restaurant", "cafe", "bar"}
AVOID_KEYWORDS: dict[str, str] = {
    "nightlife": "bar",
    "bar": "bar",
    "bars": "bar",
    "pubs": "bar",
    "clubs": "bar",
    "museum": "museum",
    "museums": "museum",
    "park": "park",
    "parks": "park",
    "market": "market",
    "markets": "market",
    "shopping": "market",
    "temples": "religious_site",
    "churches": "religious_site",
    "religious sites": "religious_site",
    "viewpoints": "viewpoint",
    "cafes": "cafe",
    "restaurants": "restaurant",
    "neighbourhoods": "neighbourhood",
    "neighborhoods": "neighbourhood",
}


@dataclass(frozen=True)
class PlanningDeps:
    """What planning talks to; tests pass stand-ins (real clients on the local stack, or fakes for pure logic)."""

    settings: Settings
    firestore: firestore.Client
    maps: MapsService
    planner: Planner
    clock: Callable[[], dt.datetime] = utc_now
    weather: WeatherService | None = None  # None: plan without forecasts (and say so)


@dataclass
class PlanningRun:
    """State of one planning: the trip, what was asked, counters, and what was dropped or noted along the way."""

    trip_id: str
    request: TripRequest
    started: float = field(default_factory=time.monotonic)
    maps_usage: MapsUsage = field(default_factory=MapsUsage)
    model_usage: ModelUsage | None = None
    dropped: list[Dropped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Per date, as the days show them: fetched once and shared by choosing places and scheduling (a run plans one
    # destination: each city of a multi-city trip has a run of its own).
    forecasts: dict[dt.date, DayForecast] = field(default_factory=dict)
    other_cities: tuple[str, ...] = ()  # a city's run of a multi-city trip: the trip's other cities
    weather_warnings: list[str] = field(default_factory=list)

    @property
    def vegetarian(self) -> bool:
        """The dietary wishes ask for vegetarian food (``common.domain.needs``)."""
        return wants_vegetarian(self.request.dietary)

    @property
    def step_free(self) -> bool:
        """The accessibility wishes ask for step-free places and less walking."""
        return needs_step_free(self.request.accessibility)

    def drop(self, name: str, reason: str) -> None:
        if all(item.name != name for item in self.dropped):
            self.dropped.append(Dropped(name=name[:120], reason=reason))

    def planner_report(self) -> PlannerReport:
        usage = self.model_usage
        return PlannerReport(
            provider=usage.provider if usage else "none",
            model=usage.model if usage else None,
            llm_calls=usage.llm_calls if usage else 0,
            function_calls=usage.function_calls if usage else 0,
            tokens=Tokens(**usage.token_counts()) if usage else Tokens(prompt=0, output=0),
            maps_calls=self.maps_usage.total_upstream_calls,
            cache_hits=sum(self.maps_usage.cache_hits.values()),
            maps_elements=self.maps_usage.billable_elements,
            duration_ms=int((time.monotonic() - self.started) * 1000),
        )

    def tool_log(self) -> list[dict[str, Any]]:
        return self.model_usage.tool_log if self.model_usage else []


def plan_new_trip(user_id: str, body: Any, deps: PlanningDeps) -> dict[str, Any]:
    """Validate, admit against quotas, plan and store a trip; return it as the API shows it.

    Raises ``InvalidRequest`` (an unknown destination, or cities too far apart, included) and ``QuotaExceeded``
    before anything is stored; after the trip exists, any failure stores it as ``failed`` with the reason and is
    raised again (with the trip id in its details).
    """
    run, session, route = admit_new_trip(user_id, body, deps)
    planning = store.planning_trip(run.trip_id, user_id, run.request, deps.clock())
    store.create_trip(deps.firestore, planning)
    return plan_stored_trip(run, session, planning, route, deps).api_view()


def admit_new_trip(user_id: str, body: Any, deps: PlanningDeps) -> tuple[PlanningRun, PlanningSession, CityRoute]:
    """Validate the request, admit it against the quotas and resolve its cities and transfers, before anything is
    stored (``InvalidRequest``, ``QuotaExceeded``); the session of a refused destination is closed ``failed``."""
    settings, client = deps.settings, deps.firestore
    request = parse_trip_request(body, settings, deps.clock().date())
    if request.budget is not None:
        currency.require_supported(request.budget.currency)
    trip_id = store.new_trip_id()
    session = PlanningSession.admit(client, settings, deps.clock, user_id=user_id, trip_id=trip_id, kind="plan")
    run = PlanningRun(trip_id=trip_id, request=request)
    try:
        # Bad input stores nothing: the cities (and the moves between them) are resolved before the trip exists.
        route = resolve_route(run, deps)
    except Exception as error:
        session.fail(failure_cause(error).failure, run.planner_report())
        raise
    return run, session, route


def plan_stored_trip(
    run: PlanningRun,
    session: PlanningSession,
    planning: Trip,
    route: CityRoute | None,
    deps: PlanningDeps,
) -> Trip:
    """Plan a stored ``planning`` trip (``planning`` as stored) and end it ``ready``, or ``failed`` with the reason
    (the error is raised again, with the trip id in its details). The synchronous path and the worker share it;
    the worker passes no route (it is resolved again, from the Maps cache)."""
    try:
        session.progress("resolving")
        if route is None:
            route = resolve_route(run, deps)
        if len(route.cities) == 1:
            city = route.cities[0]
            if run.request.destinations:  # a one-city list is the single form
                run.request = city_request(run.request, city, city.last_day, None)
            parts = choose_and_schedule(run, deps, city.destination, on_stage=session.progress)
            parts = replace(parts, cities=[city.as_trip_city(deps.settings)])
        else:
            parts = plan_cities(run, deps, route, on_stage=session.progress)
    except Exception as error:
        _record_failure(run, session, deps, error)
        if isinstance(error, AppError):
            error.details.append({"trip_id": run.trip_id})
        raise
    planned = planning.model_copy(update={name: getattr(parts, name) for name in store.READY_FIELDS})
    trip = store.complete_trip(deps.firestore, planning, planned, deps.clock())
    session.finish(parts.planner, run.tool_log())
    logger.info(
        "trip planned",
        extra={
            "fields": _outcome_fields(run, parts.planner, "ready")
            | {"user_id": planning.user_id, "days": len(trip.days)}
        },
    )
    return trip


def _outcome_fields(run: PlanningRun, report: PlannerReport, outcome: str, code: str | None = None) -> dict[str, Any]:
    """The fields of the line that ends a planning (deploy/observability.json's plan metrics read them)."""
    return {
        "trip_id": run.trip_id,
        "outcome": outcome,
        "error_code": code,
        "provider": report.provider,
        "model": report.model,
        "duration_ms": report.duration_ms,
        "llm_calls": report.llm_calls,
        "tokens": report.tokens.model_dump(),
        "maps_calls": report.maps_calls,
        "cache_hits": report.cache_hits,
        "maps_elements": report.maps_elements,
    }


def _record_failure(run: PlanningRun, session: PlanningSession, deps: PlanningDeps, error: Exception) -> None:
    cause = failure_cause(error)
    code = cause.failure.code
    report = run.planner_report()
    (logger.warning if cause.expected else logger.error)(
        "planning failed: %s",
        code,
        exc_info=not cause.expected,
        extra={"fields": _outcome_fields(run, report, "failed", code)},
    )
    try:
        # With Firestore itself down, one quick attempt: waiting out the client's retry deadline again would most
        # likely fail the same way. If it does, cleanup_sessions fails the trip once its planning times out.
        store.fail_trip(
            deps.firestore,
            run.trip_id,
            cause.failure,
            now=deps.clock(),
            planner=report,
            dropped=run.dropped,
            warnings=run.warnings,
            quick=cause.firestore_down,
        )
        if not cause.firestore_down:
            session.fail(cause.failure, report, run.tool_log())
    except Exception:
        logger.exception("could not record the failure of trip %s; the cleanup sweep will", run.trip_id)


def _find_destination(run: PlanningRun, deps: PlanningDeps, name: str) -> Destination | None:
    """A city or area of that name on Google Maps, or ``None``."""
    try:
        destination = deps.maps.resolve_destination(name, language_code=run.request.language, usage=run.maps_usage)
    except MapsPlaceNotFound:
        return None
    if category_for_types(None, destination.types) in NOT_A_DESTINATION:
        return None
    return destination


def resolve_destination(run: PlanningRun, deps: PlanningDeps) -> Destination:
    """The request's (first) city as a city or area on Google Maps (400 when there is none)."""
    destination = _find_destination(run, deps, run.request.first_city)
    if destination is None:
        raise InvalidRequest(
            "the destination was not found",
            details=[{"field": "destination", "message": "no city or area of that name on Google Maps"}],
        )
    return destination


def resolve_route(run: PlanningRun, deps: PlanningDeps) -> CityRoute:
    """The request's cities on Google Maps with their days, and the transfers between them; every unknown city and
    every move too long for one travel day in one 400."""
    request, settings = run.request, deps.settings
    stays = request.stays
    ranges = city_days(stays, request.day_count)
    if not request.destinations:
        city = PlannedCity(0, stays[0], resolve_destination(run, deps), *ranges[0])
        return CityRoute(cities=[city], transfers=[])
    problems: list[dict[str, str]] = []
    found: list[Destination | None] = []
    for index, stay in enumerate(stays):
        destination = _find_destination(run, deps, stay.destination)
        if destination is None:
            problems.append(
                {
                    "field": f"destinations.{index}.destination",
                    "message": f"{stay.destination[:80]!r}: no city or area of that name on Google Maps",
                }
            )
        found.append(destination)
    cities = [
        PlannedCity(index, stay, destination, *ranges[index])
        for index, (stay, destination) in enumerate(zip(stays, found, strict=True))
        if destination is not None
    ]
    transfers: list[TransferRoute] = []
    window = _day_window(request, settings)
    by_index = {city.index: city for city in cities}
    for index in range(len(stays) - 1):
        origin, reached = by_index.get(index), by_index.get(index + 1)
        if origin is None or reached is None:
            continue
        if origin.destination.place_id == reached.destination.place_id:
            problems.append(
                {"field": f"destinations.{index + 1}", "message": "the same city as the one before: add its nights"}
            )
            continue
        transfer = find_transfer(deps.maps, origin, reached, request.transport, run.maps_usage)
        problems += transfer_problems(transfer, origin, reached, request, settings, window)
        transfers.append(transfer)
    if problems:
        raise InvalidRequest("the trip's cities are not valid", details=problems)
    return CityRoute(cities=cities, transfers=transfers)


def _day_window(request: TripRequest, settings: Settings) -> TimeWindow:
    return with_day_windows(settings.day_windows())[Pace(request.pace)].day_window


def plan_cities(
    run: PlanningRun,
    deps: PlanningDeps,
    route: CityRoute,
    *,
    on_stage: Callable[[ProgressStage], None] | None = None,
) -> PlannedParts:
    """A multi-city trip: each city's places chosen for it, its full days and its parts of travel days scheduled
    by the engine (each validated), then the days put together around the transfers (``planning.cities``)."""
    request, settings = run.request, deps.settings
    budget_currency = request.budget.currency if request.budget else settings.default_budget_currency
    window = _day_window(request, settings)
    cities = {city.index: city for city in route.cities}
    travel: dict[int, tuple[TransferRoute, TravelDay, float]] = {}
    for transfer in route.transfers:
        reached = cities[transfer.to_index]
        travel[reached.first_day] = (
            transfer,
            plan_travel_day(
                transfer,
                request.start_date + dt.timedelta(days=reached.first_day),
                cities[transfer.from_index].destination.time_zone or settings.default_timezone,
                reached.destination.time_zone or settings.default_timezone,
                window,
            ),
            transfer_cost(transfer, request.travelers, budget_currency),
        )
    share: dict[int, float] = {}
    if request.budget is not None:
        left = request.budget.amount - sum(cost for _, _, cost in travel.values())
        share = {city.index: left * (city.last_day - city.first_day + 1) / request.day_count for city in route.cities}

    if on_stage:
        on_stage("choosing")
    runs: dict[int, PlanningRun] = {}
    radius = min(settings.default_search_radius * 1000, 50_000.0)
    for city in route.cities:
        last = city.last_day + 1 if route.leaving(city) is not None else city.last_day
        runs[city.index] = PlanningRun(
            trip_id=run.trip_id,
            request=city_request(request, city, last, share.get(city.index)),
            started=run.started,
            maps_usage=run.maps_usage,
            other_cities=tuple(
                dict.fromkeys(
                    other.destination.name for other in route.cities if other.destination.name != city.destination.name
                )
            ),
        )
    # The cities' proposals at once: with Gemini each is a model conversation of its own.
    chosen = dict(
        zip(
            runs,
            fan_out(
                lambda city: choose_places(runs[city.index], deps, city.destination, within_m=radius),
                route.cities,
                len(route.cities),
            ),
            strict=True,
        )
    )

    if on_stage:
        on_stage("scheduling")
    days: dict[int, Day] = {}
    before: dict[int, Day] = {}
    after: dict[int, Day] = {}
    produced_by, solve_seconds = "solver", 0.0
    used: set[str] = set()  # across cities: a city visited twice (Tokyo, Kyoto, Tokyo) does not repeat its sights
    for city in route.cities:
        city_run, city_chosen = runs[city.index], chosen[city.index]
        pieces: list[tuple[int, int, TimeWindow | None, dict[int, Day]]] = []
        first_full = city.first_day + (1 if city.first_day in travel else 0)
        if first_full <= city.last_day:
            pieces.append((first_full, city.last_day, None, days))
        if city.first_day in travel and travel[city.first_day][1].after is not None:
            pieces.append((city.first_day, city.first_day, travel[city.first_day][1].after, after))
        departure = city.last_day + 1
        if departure in travel and travel[departure][1].before is not None:
            pieces.append((departure, departure, travel[departure][1].before, before))
        for first, last, day_window, into in pieces:
            problem, itinerary = schedule_chosen(
                city_run,
                deps,
                city_chosen,
                request.start_date + dt.timedelta(days=first),
                request.start_date + dt.timedelta(days=last),
                day_window=day_window,
                exclude_ids=frozenset(used),
            )
            parts = describe_schedule(city_run, deps, city_chosen, problem, itinerary)
            if parts.solver.produced_by != "solver":
                produced_by = parts.solver.produced_by
            solve_seconds += parts.solver.solve_seconds
            for offset, day in enumerate(parts.days):
                into[first + offset] = day.model_copy(update={"city": city.index})
                used.update(stop.place_id for stop in day.stops if stop.place_id)
            for name, reason in ((item.name, item.reason) for item in parts.dropped):
                city_run.drop(name, reason)
            city_run.warnings[:] = list(dict.fromkeys(parts.warnings))

    if on_stage:
        on_stage("describing")
    ordered: list[Day] = []
    for index in range(request.day_count):
        date = request.start_date + dt.timedelta(days=index)
        if index in travel:
            transfer, shared, cost = travel[index]
            document = transfer_document(
                transfer, cities[transfer.from_index], cities[transfer.to_index], shared, cost, budget_currency
            )
            ordered.append(
                travel_day(date, transfer.to_index, document, before.get(index), after.get(index), request.skip_meals)
            )
        else:
            ordered.append(days[index])
    run.model_usage = combined_usage(city_run.model_usage for city_run in runs.values())
    run.dropped, run.warnings = _merged_notes(list(runs.values()), ordered, request.must_include)
    if run.model_usage is not None and run.model_usage.provider == "offline":
        run.warnings.insert(0, OFFLINE_WARNING)
    tips = list(dict.fromkeys(tip for city in route.cities for tip in chosen[city.index].proposal.tips))[:10]
    budget = trip_budget(ordered, budget_currency, request.budget.amount if request.budget else None)
    if budget.limit is not None and budget.estimated_total > budget.limit:
        run.warnings.append(
            f"the trip is estimated at {budget.estimated_total:.0f} {budget_currency}, over the budget of "
            f"{budget.limit:.0f}, transfers between cities ({budget.by_category['transfers']:.0f}) included"
        )
    return PlannedParts(
        destination=route.cities[0].as_trip_city(settings).as_destination(),
        days=ordered,
        budget=budget,
        dropped=run.dropped,
        warnings=run.warnings,
        tips=tips,
        planner=run.planner_report(),
        solver=SolverReport(produced_by=produced_by, solve_seconds=round(solve_seconds, 3)),
        cities=[city.as_trip_city(settings) for city in route.cities],
    )


def _merged_notes(runs: list[PlanningRun], days: list[Day], must_include: list[str]) -> tuple[list[Dropped], list[str]]:
    """Every city's drops and warnings once; a must-include is missing only if no city has it, and a place some
    city scheduled is not dropped."""
    names = {stop.name for day in days for stop in day.stops}
    planned = {casefolded(name) for name in names}
    missing = {
        wanted
        for wanted in must_include
        if all(any(names_match(wanted, item.name) for item in city_run.dropped) for city_run in runs)
        and not any(names_match(wanted, name) for name in planned)
    }
    dropped: list[Dropped] = []
    for city_run in runs:
        for item in city_run.dropped:
            if casefolded(item.name) in planned or any(existing.name == item.name for existing in dropped):
                continue
            if item.reason.startswith("not in "):
                continue  # a place of another city: that city plans it or drops it itself
            if any(names_match(wanted, item.name) and wanted not in missing for wanted in must_include):
                continue
            dropped.append(item)
    warnings: list[str] = []
    for city_run in runs:
        for warning in city_run.warnings:
            if warning == OFFLINE_WARNING or warning in warnings:
                continue
            if any(warning.startswith(f"{name} could not be planned") for name in names):
                continue  # a must-include one part of the city's days had no room for, planned in another
            if warning.startswith("must-include ") and not any(repr(wanted) in warning for wanted in missing):
                continue
            warnings.append(warning)
    return dropped, warnings


@dataclass(frozen=True)
class ChosenPlaces:
    """What the planner chose for one city, resolved on Maps: the candidates the engine schedules from."""

    destination: Destination
    lodging: Place | None
    proposal: Proposal
    candidates: list[Place]
    priorities: dict[str, float]
    must_ids: set[str]
    avoid_ids: set[str]
    avoid_categories: set[str]
    budget_currency: str


def choose_and_schedule(
    run: PlanningRun,
    deps: PlanningDeps,
    destination: Destination,
    *,
    exclude_ids: frozenset[str] = frozenset(),
    on_stage: Callable[[ProgressStage], None] | None = None,
    day_window: TimeWindow | None = None,
    constraints: DayConstraints | None = None,
) -> PlannedParts:
    """Ask the planner for places, resolve them, schedule the request's dates, validate, and describe.

    ``exclude_ids`` are places the plan must not use (e.g. the other days of a trip when one day is re-planned);
    ``day_window`` replaces the pace's day window (the part of a travel day spent in the city); ``constraints``
    what a re-plan of one day must respect (``replan_from``: start, kept and locked stops).
    """
    chosen = choose_places(run, deps, destination, exclude_ids=exclude_ids, on_stage=on_stage, constraints=constraints)
    if on_stage:
        on_stage("scheduling")
    problem, itinerary = schedule_chosen(
        run,
        deps,
        chosen,
        run.request.start_date,
        run.request.end_date,
        day_window=day_window,
        constraints=constraints,
    )
    if on_stage:
        on_stage("describing")
    return describe_schedule(run, deps, chosen, problem, itinerary)


def choose_places(
    run: PlanningRun,
    deps: PlanningDeps,
    destination: Destination,
    *,
    exclude_ids: frozenset[str] = frozenset(),
    on_stage: Callable[[ProgressStage], None] | None = None,
    within_m: float | None = None,
    constraints: DayConstraints | None = None,
) -> ChosenPlaces:
    """The planner's proposal for ``run.request`` resolved to Maps places and filtered by the request's needs.

    ``within_m``: places farther from the destination's centre are dropped (a city of a multi-city trip must not
    schedule a sight of the next city)."""
    request, settings = run.request, deps.settings
    budget_currency = request.budget.currency if request.budget else settings.default_budget_currency
    tools = MapsToolBox(
        deps.maps,
        destination,
        language=request.language,
        radius_m=min(settings.default_search_radius * 1000, 50_000.0),
        usage=run.maps_usage,
    )
    lodging = _resolve_lodging(run, tools)

    if on_stage:
        on_stage("choosing")
    weather = _city_weather(run, deps, destination, request.start_date, request.end_date)
    proposal, run.model_usage = deps.planner.propose(_brief(run, destination, weather), tools)

    candidates, priorities, must_ids = _resolve_candidates(run, tools, proposal)
    if within_m is not None:
        candidates = _near(run, destination, candidates, within_m)
        must_ids &= {place.id for place in candidates}
    avoid_ids, avoid_categories = _resolve_avoid(run, tools)
    candidates = [place for place in candidates if place.id not in exclude_ids]
    if constraints is not None:
        candidates = _with_required(run, tools, candidates, constraints.required_ids | constraints.pool_ids)
        must_ids |= constraints.required_ids
    candidates = cover_meal_areas(run, tools, candidates, exclude_ids)
    candidates = _filter_candidates(run, _with_needed_details(run, tools, candidates), must_ids)
    return ChosenPlaces(
        destination=destination,
        lodging=lodging,
        proposal=proposal,
        candidates=candidates,
        priorities=priorities,
        must_ids=must_ids,
        avoid_ids=avoid_ids,
        avoid_categories=avoid_categories,
        budget_currency=budget_currency,
    )


def _near(run: PlanningRun, destination: Destination, candidates: list[Place], within_m: float) -> list[Place]:
    centre = Waypoint.of(destination)
    kept = []
    for place in candidates:
        if straight_metres(centre, Waypoint.of(place)) <= within_m:
            kept.append(place)
        else:
            run.drop(place.name, f"not in {destination.name[:60]}")
    return kept


def schedule_chosen(
    run: PlanningRun,
    deps: PlanningDeps,
    chosen: ChosenPlaces,
    start_date: dt.date,
    end_date: dt.date,
    *,
    day_window: TimeWindow | None = None,
    exclude_ids: frozenset[str] = frozenset(),
    constraints: DayConstraints | None = None,
) -> tuple[TripProblem, Itinerary]:
    """Order and time ``start_date`` to ``end_date`` from the chosen places (without ``exclude_ids``), on the real
    legs, and validate: ``InternalError`` when the validator finds anything."""
    candidates = [place for place in chosen.candidates if place.id not in exclude_ids]
    extra_nodes = constraints.extra_nodes() if constraints is not None else []
    problem = _problem(
        run,
        deps,
        chosen.destination,
        chosen.lodging,
        candidates,
        chosen.priorities,
        chosen.must_ids - exclude_ids,
        chosen.avoid_ids,
        chosen.avoid_categories,
        chosen.budget_currency,
        extra_nodes,
    )
    weather = _city_weather(run, deps, chosen.destination, start_date, end_date)
    problem = problem.model_copy(
        update={"start_date": start_date, "end_date": end_date, "wet_dates": weather.wet_dates}
    )
    if day_window is not None:
        problem = problem.model_copy(
            update={"preferences": problem.preferences.model_copy(update={"day_window": day_window})}
        )
    if constraints is not None:
        problem = constraints.shape(problem)
        constraints.check_locks(problem, {place.id: place.name for place in candidates})
    problem, itinerary = _schedule_on_real_legs(
        run, deps, chosen.destination, _nodes(chosen.destination, chosen.lodging, candidates) + extra_nodes, problem
    )
    violations = validate(problem, itinerary)
    if violations and constraints is not None:
        constraints.check_kept(violations)
    if violations:
        logger.error(
            "the plan failed validation",
            extra={
                "fields": {
                    "trip_id": run.trip_id,
                    "violations": [violation.model_dump() for violation in violations[:20]],
                }
            },
        )
        raise InternalError("the scheduled plan failed validation")
    return problem, itinerary


def describe_schedule(
    run: PlanningRun, deps: PlanningDeps, chosen: ChosenPlaces, problem: TripProblem, itinerary: Itinerary
) -> PlannedParts:
    """The trip's fields from a validated schedule (descriptions, themes, costs, drops, warnings)."""
    request = run.request
    destination = chosen.destination
    return assemble_trip(
        itinerary=itinerary,
        problem=problem,
        destination=destination,
        places={place.id: place for place in chosen.candidates},
        proposal=chosen.proposal,
        budget_currency=chosen.budget_currency,
        budget_limit=request.budget.amount if request.budget else None,
        time_zone=destination.time_zone or deps.settings.default_timezone,
        extra_dropped=run.dropped,
        extra_warnings=run.warnings,
        planner=run.planner_report(),
        offline=run.model_usage.provider == "offline" if run.model_usage else False,
        forecasts=run.forecasts,
    )


def _city_weather(
    run: PlanningRun, deps: PlanningDeps, destination: Destination, start_date: dt.date, end_date: dt.date
) -> TripWeather:
    """The forecast of each date from ``start_date`` to ``end_date`` at ``destination`` (a multi-city trip asks per
    city for its own dates); kept on the run for the days it describes, its warnings among the run's. Dates already
    on the run (choosing places asks first, scheduling reuses) are not asked again."""
    time_zone = destination.time_zone or deps.settings.default_timezone
    dates = [start_date + dt.timedelta(days=offset) for offset in range((end_date - start_date).days + 1)]
    missing = [date for date in dates if date not in run.forecasts]
    if missing:
        queries = [ForecastQuery(date=date, location=destination.location, time_zone=time_zone) for date in missing]
        fetched = trip_weather(deps.weather, deps.settings, queries, run.maps_usage)
        run.forecasts.update(fetched.forecasts)
        run.weather_warnings.extend(warning for warning in fetched.warnings if warning not in run.weather_warnings)
    forecasts = {date: run.forecasts[date] for date in dates}
    run.warnings.extend(warning for warning in run.weather_warnings if warning not in run.warnings)
    return TripWeather(
        forecasts=forecasts,
        wet_dates=[date for date, forecast in forecasts.items() if forecast.wet],
        warnings=list(run.weather_warnings),
    )


def _brief(run: PlanningRun, destination: Destination, weather: TripWeather) -> TripBrief:
    """What the planner is told: the request for ``destination``, the trip's other cities and the known forecast."""
    request = run.request
    return TripBrief(
        destination=destination.name,
        destination_place_id=destination.place_id,
        time_zone=destination.time_zone,
        start_date=request.start_date,
        end_date=request.end_date,
        travelers=request.travelers,
        pace=request.pace,
        transport=request.transport,
        interests=list(request.interests),
        must_include=list(request.must_include),
        avoid=list(request.avoid),
        dietary=list(request.dietary),
        accessibility=list(request.accessibility),
        budget_amount=request.budget.amount if request.budget else None,
        budget_currency=request.budget.currency if request.budget else None,
        language=request.language,
        lodging=request.lodging,
        other_cities=list(run.other_cities),
        forecast=[
            DayOutlook(
                date=date,
                condition=forecast.condition,
                precipitation_probability=forecast.precipitation_probability,
                wet=forecast.wet,
            )
            for date, forecast in sorted(weather.forecasts.items())
            if forecast.status == "known"
        ],
    )


def _resolve_lodging(run: PlanningRun, tools: MapsToolBox) -> Place | None:
    if not run.request.lodging:
        return None
    found = tools.find(run.request.lodging, max_results=1)
    if not found:
        run.warnings.append(
            f"the lodging {run.request.lodging[:80]!r} was not found on Google Maps; days in "
            f"{tools.destination.name[:60]} start and end at its centre"
        )
        return None
    return found[0]


def _resolve_by_name(tools: MapsToolBox, name: str) -> Place | None:
    """The place a name designates near the destination, or ``None`` (never a loose match)."""
    for place in tools.seen.values():
        if names_match(name, place.name):
            return place
    found = tools.find(name, max_results=3)
    return next((place for place in found if names_match(name, place.name)), None)


def _resolve_candidates(
    run: PlanningRun, tools: MapsToolBox, proposal: Proposal
) -> tuple[list[Place], dict[str, float], set[str]]:
    """Every proposed or required place as a real Maps place; the rest dropped with a reason."""
    chosen: dict[str, Place] = {}
    priorities: dict[str, float] = {}
    must_ids: set[str] = set()
    for wanted in run.request.must_include:
        try:
            place = _resolve_by_name(tools, wanted)
        except MapsPlaceNotFound:
            place = None
        if place is None:
            run.drop(wanted, "must-include not found on Google Maps near the destination")
            run.warnings.append(f"must-include {wanted!r} was not found on Google Maps")
            continue
        chosen[place.id] = place
        must_ids.add(place.id)
        priorities[place.id] = 10.0
    for proposed in proposal.places:
        seen = tools.seen
        place = seen.get(proposed.place_id) if proposed.place_id else None
        if place is None:
            try:
                place = _resolve_by_name(tools, proposed.name)
            except MapsPlaceNotFound:
                place = None
        if place is None:
            run.drop(proposed.name, "not found on Google Maps near the destination")
            continue
        chosen.setdefault(place.id, place)
        if proposed.must_include:
            must_ids.add(place.id)
        priorities[place.id] = max(priorities.get(place.id, 0.0), float(proposed.priority))
    return list(chosen.values()), priorities, must_ids


def _resolve_avoid(run: PlanningRun, tools: MapsToolBox) -> tuple[set[str], set[str]]:
    ids: set[str] = set()
    categories: set[str] = set()
    for wanted in run.request.avoid:
        keyword = casefolded(wanted)
        if keyword in AVOID_KEYWORDS:
            categories.add(AVOID_KEYWORDS[keyword])
            continue
        try:
            place = _resolve_by_name(tools, wanted)
        except MapsPlaceNotFound:
            place = None
        if place is not None and names_match(wanted, place.name):
            ids.add(place.id)
    return ids, categories


def _with_required(run: PlanningRun, tools: MapsToolBox, candidates: list[Place], ids: frozenset[str]) -> list[Place]:
    """``candidates`` and the places of ``ids`` (stops a re-plan keeps, locks or may plan again), fetched when
    missing."""
    missing = sorted(ids - {place.id for place in candidates})
    if not missing:
        return candidates
    found = tools.maps.get_places(missing, language_code=run.request.language, usage=run.maps_usage)
    return [*candidates, *(found[place_id] for place_id in missing if place_id in found)]


def _with_needed_details(run: PlanningRun, tools: MapsToolBox, candidates: list[Place]) -> list[Place]:
    """Fetch details only where a stated need depends on them: searches do not ask for the vegetarian and
    accessibility fields (they would raise the price of every search)."""
    vegetarian, step_free = run.vegetarian, run.step_free
    wanted = [
        place.id
        for place in candidates
        if step_free or (vegetarian and place.category in MEAL_CATEGORIES and place.serves_vegetarian_food is None)
    ]
    if not wanted:
        return candidates
    details = tools.maps.get_places(wanted, language_code=run.request.language, usage=run.maps_usage)
    return [details.get(place.id, place) for place in candidates]


def _filter_candidates(run: PlanningRun, candidates: list[Place], must_ids: set[str]) -> list[Place]:
    """Drop what cannot be a stop or breaks a stated need; keep at most ``MAX_CANDIDATES`` (must-includes first)."""
    vegetarian, step_free = run.vegetarian, run.step_free
    kept: list[Place] = []
    for place in candidates:
        if place.category in NOT_A_STOP and place.id not in must_ids:
            run.drop(place.name, f"a {place.category} is not a place to visit")
        elif vegetarian and place.category in MEAL_CATEGORIES and place.serves_vegetarian_food is False:
            run.drop(place.name, "does not serve vegetarian food")
        elif step_free and place.wheelchair_accessible is False:
            run.drop(place.name, "not wheelchair accessible")
        else:
            kept.append(place)
    kept.sort(key=lambda place: (place.id not in must_ids,))
    for place in kept[MAX_CANDIDATES:]:
        run.drop(place.name, "more candidates than one plan considers")
    return kept[:MAX_CANDIDATES]


def _problem(
    run: PlanningRun,
    deps: PlanningDeps,
    destination: Destination,
    lodging: Place | None,
    candidates: list[Place],
    priorities: dict[str, float],
    must_ids: set[str],
    avoid_ids: set[str],
    avoid_categories: set[str],
    budget_currency: str,
    extra_nodes: list[Waypoint] | None = None,
) -> TripProblem:
    """The trip's problem on estimated travel (no Maps call): ``_schedule_on_real_legs`` verifies it."""
    request, settings = run.request, deps.settings
    nodes = _nodes(destination, lodging, candidates) + (extra_nodes or [])
    anchor = nodes[0]
    matrix, _ = estimated_matrix(deps.maps, nodes, request.transport)
    fallback = None
    if _fallback_mode(run) is not None:
        fallback, _ = estimated_matrix(deps.maps, nodes, "transit")
    return TripProblem(
        start_date=request.start_date,
        end_date=request.end_date,
        anchors=[DayAnchor(start_node_id=anchor.id, end_node_id=anchor.id)],
        places=[
            engine_place(place, priorities.get(place.id, 1.0), budget_currency)
            for place in candidates
            if place.id != anchor.id
        ],
        matrix=matrix,
        fallback_matrix=fallback,
        preferences=Preferences(
            pace=Pace(request.pace),
            max_places_per_day=settings.max_places_per_day,
            must_include_ids=sorted(must_ids - {anchor.id}),
            avoid_place_ids=sorted(avoid_ids),
            avoid_categories=sorted(avoid_categories),
            travellers=request.travelers,
            budget_limit=request.budget.amount if request.budget else None,
            reduced_walking=fallback is not None,
            skip_meals=list(request.skip_meals),
        ),
        transport_costs=transport_costs(request.transport, budget_currency),
        pace_policies=with_day_windows(settings.day_windows()),
        solver_time_limit_seconds=settings.solver_time_limit_seconds,
    )


def _nodes(destination: Destination, lodging: Place | None, candidates: list[Place]) -> list[Waypoint]:
    """The lodging (else the destination centre) first, then every candidate: the matrices' nodes."""
    anchor = Waypoint.of(lodging) if lodging else Waypoint.of(destination)
    return [anchor] + [Waypoint.of(place) for place in candidates if place.id != anchor.id]


def _fallback_mode(run: PlanningRun) -> str | None:
    return "transit" if run.step_free and run.request.transport == "walk" else None


def _schedule_on_real_legs(
    run: PlanningRun, deps: PlanningDeps, destination: Destination, nodes: list[Waypoint], problem: TripProblem
) -> tuple[TripProblem, Itinerary]:
    """Plan on estimates, then fetch, re-time and repair on the real legs the plan uses (``planning.legs``); the
    problem returned holds only those real legs, for the validator."""
    verified = plan_on_real_legs(
        problem,
        deps.maps,
        nodes,
        mode=run.request.transport,
        fallback_mode=_fallback_mode(run),
        time_zone=destination.time_zone or deps.settings.default_timezone,
        usage=run.maps_usage,
    )
    logger.info(
        "plan verified on real legs",
        extra={
            "fields": {
                "trip_id": run.trip_id,
                "rounds": verified.rounds,
                "repaired_days": sorted(verified.repaired_days),
                "legs": verified.legs_checked,
            }
        },
    )
    if verified.emptied_days:
        logger.warning(
            "days left empty: they did not fit their real legs after repairs",
            extra={"fields": {"trip_id": run.trip_id, "days": verified.emptied_days}},
        )
    return verified.problem, verified.itinerary


def _build_default_deps() -> PlanningDeps:
    from common.domain.ai import build_planner
    from common.domain.maps import maps_service
    from common.domain.maps.factory import weather_service
    from common.foundation.clients import firestore_client
    from common.foundation.config import get_settings
    from common.foundation.secrets import gemini_api_key

    settings = get_settings()
    planner = build_planner(settings, api_key=lambda: gemini_api_key(settings))
    weather = weather_service.get() if settings.weather_api_enabled else None
    return PlanningDeps(
        settings=settings, firestore=firestore_client.get(), maps=maps_service.get(), planner=planner, weather=weather
    )


default_deps: Lazy[PlanningDeps] = Lazy(_build_default_deps)
"""The process's planning dependencies, built on the first plan."""
