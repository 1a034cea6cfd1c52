"""Multi-city trips: which days each city gets, the transfer between two cities and how a travel day is shared.

The cities come in the order travelled, each with its nights (``TripRequest.stays``). City ``i`` is reached on the
day after city ``i - 1``'s last night: that *travel day* counts for the city reached (``Day.city``) and carries the
``Transfer``. The engine plans each city on its own (its full days, and the part of a travel day spent in it, with
a shortened day window), so a transfer never overlaps a stop:

- a short move (up to ``MORNING_TRANSFER_MAX_MIN``) or a long one leaves after breakfast (the start of the pace's
  day window) and the afternoon and evening are spent in the city reached, lunch and dinner included;
- a middling move (up to six hours) leaves after lunch: the morning is spent in the city left, with lunch, and the
  evening, with dinner, in the city reached.

Transfer times come from the Routes API (city centre to city centre, by train for ``transit`` and ``walk`` trips, by
road for ``drive``). Where Routes has no route (across the sea, or beyond long-distance rail), the move is a flight
whose time and distance are our estimate, labelled as such. A move longer than ``MAX_TRANSFER_HOURS`` by its mode,
or that would arrive after midnight, is refused with the request.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

from common.domain.ai import ModelUsage
from common.domain.itinerary import Pace, TimeWindow, TransportCosts, with_day_windows
from common.domain.maps import Destination, MapsService, MapsUsage, TravelMode, Waypoint
from common.domain.maps.legs import straight_metres
from common.foundation import currency
from common.foundation.config import Settings
from common.foundation.errors import InvalidRequest
from common.foundation.times import clock_minutes, clock_text
from common.services.planning.assemble import stops_costs, warnings_about
from common.services.trips.models import (
    TRANSFER_WORDS,
    CityStay,
    Day,
    LatLng,
    Money,
    Stop,
    Transfer,
    TransferMode,
    Trip,
    TripBudget,
    TripCity,
    TripRequest,
)

RAIL_FARE_USD_PER_KM = 0.20  # per traveller: Tokyo-Kyoto about 90 USD (the Nozomi is about 95), London-Paris 86
ROAD_COST_USD_PER_KM = 0.35  # for the car: fuel, tolls and wear, as planning's local driving
FLIGHT_FARE_USD = (60.0, 0.12)  # per traveller: a base plus per straight-line km (Rome-Paris about 190 USD)
FLIGHT_SPEED_M_PER_MIN = 12_500.0  # 750 km/h in the air
FLIGHT_OVERHEAD_MIN = 180  # to the airport, check-in and security, and from the airport at the other end
MORNING_TRANSFER_MAX_MIN = 240
AFTERNOON_DEPARTURE = 14 * 60  # a middling move leaves after lunch in the city left
MIDDLING_TRANSFER_MAX_MIN = 360
SETTLE_MIN = 20  # from the station to the lodging, bags dropped
MIN_MORNING_MIN = 150  # a morning worth planning: a sight or two and lunch
MIN_EVENING_MIN = 90  # an evening worth planning: dinner


@dataclass(frozen=True)
class PlannedCity:
    """A city of the trip resolved on Maps, with its days (0-based, inclusive; its first day is the travel day
    that reaches it, except for the first city)."""

    index: int
    stay: CityStay
    destination: Destination
    first_day: int
    last_day: int

    def as_trip_city(self, settings: Settings) -> TripCity:
        location = self.destination.location
        return TripCity(
            name=self.destination.name,
            place_id=self.destination.place_id,
            location=LatLng(lat=location.latitude, lng=location.longitude),
            time_zone=self.destination.time_zone or settings.default_timezone,
            lodging=self.stay.lodging,
            nights=self.stay.nights or 0,
            first_day=self.first_day + 1,
            last_day=self.last_day + 1,
        )


@dataclass(frozen=True)
class TransferRoute:
    """The move between two consecutive cities: Routes API's time and distance, or our flight estimate."""

    from_index: int
    to_index: int
    mode: TransferMode
    duration_min: int
    distance_m: int
    estimated: bool


@dataclass(frozen=True)
class CityRoute:
    """The trip's cities in order and the transfers between them (none for a one-city trip)."""

    cities: list[PlannedCity]
    transfers: list[TransferRoute]

    def leaving(self, city: PlannedCity) -> TransferRoute | None:
        return next((item for item in self.transfers if item.from_index == city.index), None)


@dataclass(frozen=True)
class TravelDay:
    """How a travel day is shared: the departure (local to the city left), the arrival (local to the city reached)
    and the day windows left for sights at each end (``None``: too short to plan)."""

    depart_minute: int
    arrive_minute: int
    before: TimeWindow | None
    after: TimeWindow | None


def city_days(stays: list[CityStay], day_count: int) -> list[tuple[int, int]]:
    """Each city's first and last day (0-based, inclusive): a travel day belongs to the city it reaches."""
    ranges = []
    first, nights = 0, 0
    for index, stay in enumerate(stays):
        nights += stay.nights or 0
        last = day_count - 1 if index == len(stays) - 1 else nights - 1
        ranges.append((first, last))
        first = last + 1
    return ranges


def transfer_mode(transport: str) -> TravelMode:
    """Between cities, walkers take the train too."""
    return TravelMode.DRIVE if transport == "drive" else TravelMode.TRANSIT


def find_transfer(
    maps: MapsService,
    origin: PlannedCity,
    destination: PlannedCity,
    transport: str,
    usage: MapsUsage,
) -> TransferRoute:
    """The move from ``origin`` to ``destination`` by the trip's mode (Routes API), else an estimated flight."""
    mode = transfer_mode(transport)
    route = maps.route(origin.destination, destination.destination, mode, usage=usage)
    if route is not None:
        return TransferRoute(
            from_index=origin.index,
            to_index=destination.index,
            mode="drive" if mode is TravelMode.DRIVE else "transit",
            duration_min=max(1, round(route.duration_s / 60)),
            distance_m=route.distance_m,
            estimated=False,
        )
    straight = straight_metres(Waypoint.of(origin.destination), Waypoint.of(destination.destination))
    return TransferRoute(
        from_index=origin.index,
        to_index=destination.index,
        mode="flight",
        duration_min=FLIGHT_OVERHEAD_MIN + round(straight / FLIGHT_SPEED_M_PER_MIN),
        distance_m=straight,
        estimated=True,
    )


def _offset_minutes(zone_name: str, date: dt.date) -> int:
    try:
        zone = zoneinfo.ZoneInfo(zone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    offset = dt.datetime.combine(date, dt.time(12), tzinfo=zone).utcoffset() or dt.timedelta(0)
    return round(offset.total_seconds() / 60)


def plan_travel_day(route: TransferRoute, date: dt.date, zone_from: str, zone_to: str, window: TimeWindow) -> TravelDay:
    """When to leave and what is left of the day at each end (see the module notes)."""
    shift = _offset_minutes(zone_to, date) - _offset_minutes(zone_from, date)
    depart = window.start
    if MORNING_TRANSFER_MAX_MIN < route.duration_min <= MIDDLING_TRANSFER_MAX_MIN:
        after_lunch = max(window.start, AFTERNOON_DEPARTURE)
        if after_lunch + route.duration_min + shift + SETTLE_MIN + MIN_EVENING_MIN <= window.end:
            depart = after_lunch
    arrive = depart + route.duration_min + shift
    before = TimeWindow(start=window.start, end=depart) if depart - window.start >= MIN_MORNING_MIN else None
    settled = arrive + SETTLE_MIN
    after = (
        TimeWindow(start=settled, end=window.end)
        if settled >= 0 and window.end - max(settled, window.start) >= MIN_EVENING_MIN
        else None
    )
    if after is not None and after.start < window.start:
        after = TimeWindow(start=window.start, end=window.end)
    return TravelDay(depart_minute=depart, arrive_minute=arrive, before=before, after=after)


def _hours_text(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest:02d} min" if rest else f"{hours} h"


def transfer_problems(
    route: TransferRoute,
    origin: PlannedCity,
    destination: PlannedCity,
    request: TripRequest,
    settings: Settings,
    window: TimeWindow,
) -> list[dict[str, str]]:
    """Why this move cannot be a travel day (too long for its mode, or arriving after midnight); none when it can."""
    field = f"destinations.{route.to_index}"
    names = f"{origin.destination.name[:60]} to {destination.destination.name[:60]}"
    limit = round(settings.max_transfer_hours * 60)
    if route.duration_min > limit:
        how = "by road" if route.mode == "drive" else "by train" if route.mode == "transit" else "by air (estimated)"
        advice = (
            "; choose transport transit (a flight is estimated where no train goes)" if route.mode == "drive" else ""
        )
        return [
            {
                "field": field,
                "message": f"{names} is about {_hours_text(route.duration_min)} {how}: too far apart for one travel "
                f"day (at most {_hours_text(limit)}){advice}",
            }
        ]
    date = request.start_date + dt.timedelta(days=destination.first_day)
    zone_from = origin.destination.time_zone or settings.default_timezone
    zone_to = destination.destination.time_zone or settings.default_timezone
    travel = plan_travel_day(route, date, zone_from, zone_to, window)
    if travel.arrive_minute >= 24 * 60:
        return [{"field": field, "message": f"{names} would arrive after midnight local time: too far for one day"}]
    return []


def transfer_cost(route: TransferRoute, travellers: int, budget_currency: str) -> float:
    """The move's cost for the whole group, in the budget's currency (an estimate for every mode)."""
    kilometres = route.distance_m / 1000
    if route.mode == "drive":
        usd = ROAD_COST_USD_PER_KM * kilometres
    elif route.mode == "transit":
        usd = RAIL_FARE_USD_PER_KM * kilometres * travellers
    else:
        base, per_km = FLIGHT_FARE_USD
        usd = (base + per_km * kilometres) * travellers
    return round(currency.convert(usd, "USD", budget_currency), 2)


def transfer_document(
    route: TransferRoute,
    city_from: PlannedCity,
    city_to: PlannedCity,
    travel: TravelDay,
    cost: float,
    budget_currency: str,
) -> Transfer:
    """The stored transfer, with the label a traveller reads."""
    origin, destination = city_from.destination, city_to.destination
    how_long = _hours_text(route.duration_min)
    if route.estimated:
        label = (
            f"{TRANSFER_WORDS[route.mode]} from {origin.name} to {destination.name}, about {how_long} door to door "
            "(our estimate: Google Maps has no train or road route)"
        )
    else:
        label = (
            f"{TRANSFER_WORDS[route.mode]} from {origin.name} to {destination.name}, {how_long} (Google Maps Routes)"
        )
    return Transfer(
        from_city=route.from_index,
        to_city=route.to_index,
        from_name=origin.name[:120],
        to_name=destination.name[:120],
        mode=route.mode,
        depart=clock_text(travel.depart_minute),
        arrive=clock_text(travel.arrive_minute),
        duration_min=route.duration_min,
        distance_m=route.distance_m,
        cost_estimate=Money(amount=cost, currency=budget_currency),
        estimated=route.estimated,
        source="estimate" if route.estimated else "routes_api",
        label=label[:200],
    )


def _meals_on_the_way(transfer: Transfer, stops: list[Stop], skipped: set[str], warnings: list[str]) -> list[str]:
    """A meal the travel day has no room for is eaten on the way: say so (as a day warning, like any meal missing),
    unless a warning already says why it is missing."""
    served = {stop.meal for stop in stops}
    skipped = skipped | {meal for meal in ("lunch", "dinner") if any(f"no {meal}" in text for text in warnings)}
    notes = []
    if "lunch" not in served and "lunch" not in skipped:
        notes.append(f"no lunch planned: the move to {transfer.to_name} takes the middle of the day; eat on the way")
    if "dinner" not in served and "dinner" not in skipped:
        notes.append(f"no dinner planned: you reach {transfer.to_name} at {transfer.arrive}; eat on the way")
    return notes


def travel_day(
    date: dt.date,
    city: int,
    transfer: Transfer,
    before: Day | None,
    after: Day | None,
    skip_meals: Iterable[str] = (),
) -> Day:
    """One day from the morning in the city left (``before``), the transfer, and the rest in the city reached (whose
    forecast the day shows, as ``Trip.city_of`` names it the day's city)."""
    parts = [part for part in (before, after) if part is not None]
    stops: list[Stop] = [stop for part in parts for stop in part.stops]
    skipped = set(skip_meals)
    warnings = [warning for part in parts for warning in part.warnings]
    costs: dict[str, float] = {"transfers": transfer.cost_estimate.amount}
    for part in parts:
        for name, amount in (part.cost_by_category or {}).items():
            costs[name] = round(costs.get(name, 0.0) + amount, 2)
    total = round(sum(part.cost_estimate.amount for part in parts) + transfer.cost_estimate.amount, 2)
    travel_min = sum(part.travel_min for part in parts)
    sights = f"{len(stops)} stop{'s' if len(stops) != 1 else ''}" if stops else "no stops"
    where = (
        f"a morning in {transfer.from_name}, then "
        if before is not None and before.stops
        else f"leave {transfer.from_name} after breakfast, "
    )
    theme = f"{transfer.from_name} to {transfer.to_name}"
    if after is not None and _sights(after):
        theme = f"{theme}: {after.theme}"
    elif before is not None and _sights(before):
        theme = f"{before.theme} in {transfer.from_name}, then {transfer.to_name}"
    summary = (
        f"Travel day: {where}{TRANSFER_WORDS[transfer.mode].lower()} at {transfer.depart}, in {transfer.to_name} at "
        f"{transfer.arrive} ({_hours_text(transfer.duration_min)}{', estimated' if transfer.estimated else ''}). "
        f"{sights}, {travel_min} min of local travel, about {total:.0f} {transfer.cost_estimate.currency} with the "
        "transfer."
    )
    return Day(
        date=date,
        theme=theme[:80],
        summary=summary,
        stops=stops,
        travel_min=travel_min,
        cost_estimate=Money(amount=total, currency=transfer.cost_estimate.currency),
        warnings=[*warnings, *_meals_on_the_way(transfer, stops, skipped, warnings)],
        cost_by_category=costs,
        city=city,
        transfer=transfer,
        forecast=next((part.forecast for part in (after, before) if part is not None and part.forecast), None),
    )


def _sights(day: Day) -> int:
    return sum(1 for stop in day.stops if stop.meal is None)


def transfer_overlaps(day: Day) -> list[str]:
    """Stops that overlap the day's transfer (none on a day planned by ``plan_cities``)."""
    if day.transfer is None:
        return []
    before, after = day.stops_around_transfer()
    clashes = [
        f"{stop.name} ends at {stop.depart}, after the departure"
        for stop in before
        if stop.depart > day.transfer.depart
    ]
    clashes += [
        f"{stop.name} starts at {stop.arrive}, before the arrival"
        for stop in after
        if stop.arrive < day.transfer.arrive
    ]
    return clashes


def trip_budget(days: list[Day], budget_currency: str, limit: float | None) -> TripBudget:
    """The trip's budget as the sum of its days (transfers included)."""
    by_category: dict[str, float] = {"activities": 0.0, "food": 0.0, "local_transport": 0.0, "transfers": 0.0}
    for day in days:
        for name, amount in (day.cost_by_category or {}).items():
            by_category[name] = round(by_category.get(name, 0.0) + amount, 2)
    return TripBudget(
        currency=budget_currency,
        limit=limit,
        estimated_total=round(sum(day.cost_estimate.amount for day in days), 2),
        by_category=by_category,
    )


def combined_usage(usages: Iterable[ModelUsage | None]) -> ModelUsage | None:
    """The model usage of every city's proposal, as one."""
    total: ModelUsage | None = None
    for usage in usages:
        if usage is None:
            continue
        if total is None:
            total = usage.model_copy(deep=True)
            continue
        total.llm_calls += usage.llm_calls
        total.function_calls += usage.function_calls
        total.prompt_tokens += usage.prompt_tokens
        total.output_tokens += usage.output_tokens
        total.thinking_tokens += usage.thinking_tokens
        total.tool_log.extend(usage.tool_log)
        total.notes.extend(note for note in usage.notes if note not in total.notes)
    return total


def city_request(request: TripRequest, city: PlannedCity, last_day: int, budget_share: float | None) -> TripRequest:
    """The request as one city sees it: its name, its lodging, its days (up to ``last_day``) and its budget share."""
    update: dict[str, object] = {
        "destination": city.stay.destination,
        "destinations": None,
        "lodging": city.stay.lodging,
        "start_date": request.start_date + dt.timedelta(days=city.first_day),
        "end_date": request.start_date + dt.timedelta(days=last_day),
    }
    if request.budget is not None and budget_share is not None:
        update["budget"] = request.budget.model_copy(update={"amount": max(0.0, round(budget_share, 2))})
    return request.model_copy(update=update)


def arrival_window(trip: Trip, day_index: int, settings: Settings) -> TimeWindow | None:
    """The part of a travel day a re-plan may change: from settling in after the arrival to the end of the day
    (``None`` on other days: the whole day). ``InvalidRequest`` when the arrival leaves too little of the day."""
    day = trip.days[day_index]
    if day.transfer is None:
        return None
    window = with_day_windows(settings.day_windows())[Pace(trip.pace)].day_window
    start = max(window.start, clock_minutes(day.transfer.arrive) + SETTLE_MIN)
    if window.end - start < MIN_EVENING_MIN:
        raise InvalidRequest(
            "nothing to re-plan on this travel day",
            details=[{"field": "day", "message": f"day {day_index + 1} reaches {day.transfer.to_name} too late"}],
        )
    return TimeWindow(start=start, end=window.end)


def rejoined_day(
    stored: Day, replanned: Day, transport: TransportCosts, travellers: int, skip_meals: Iterable[str] = ()
) -> Day:
    """The re-planned day in its city; on a travel day, the morning before the transfer and the transfer kept, the
    re-planned part after it. The morning keeps its costs, the local transport of its legs priced as planning prices
    them (``stops_costs``), and the warnings about its stops."""
    if stored.transfer is None:
        return replanned.model_copy(update={"city": stored.city})
    before, after = stored.stops_around_transfer()
    costs = stops_costs(before, transport, travellers)
    morning = Day(
        date=stored.date,
        theme=stored.theme,
        summary="",
        stops=before,
        travel_min=sum(stop.travel_from_previous.duration_min for stop in before if stop.travel_from_previous),
        cost_estimate=Money(amount=round(sum(costs.values()), 2), currency=stored.cost_estimate.currency),
        cost_by_category=costs,
        warnings=warnings_about(stored.warnings, before, after),
    )
    return travel_day(stored.date, stored.city, stored.transfer, morning if before else None, replanned, skip_meals)
