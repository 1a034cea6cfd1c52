"""Turn the engine's itinerary and the model's descriptions into the stored trip's fields."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from common.domain.ai import Proposal
from common.domain.itinerary import DayPlan, DropReason, Itinerary, TransportCosts, TravelMode, TripProblem, WarningCode
from common.domain.itinerary.models import Leg
from common.domain.itinerary.planning import leg_cost
from common.domain.maps import Destination, Place
from common.domain.maps.names import casefolded
from common.domain.maps_engine import MAX_DESCRIPTION, fallback_description
from common.foundation import currency
from common.services.trips.models import (
    Day,
    DayForecast,
    Dropped,
    LatLng,
    Money,
    PlannerReport,
    SolverReport,
    Stop,
    TravelLeg,
    TripBudget,
    TripCity,
    TripDestination,
)

TRANSIT_FARE_USD = 2.5
DRIVE_COST_PER_KM_USD = 0.35
DROP_REASONS: dict[DropReason, str] = {
    DropReason.CLOSED: "closed on the days of the trip",
    DropReason.NO_TIME: "no time left in the days",
    DropReason.OVER_BUDGET: "over budget",
    DropReason.AVOIDED: "you asked to avoid it",
    DropReason.UNREACHABLE: "no route to it by the chosen transport",
    DropReason.MEAL_NOT_NEEDED: "no meal slot left for it",
}
OFFLINE_WARNING = (
    "Planned by the offline planner (no Gemini credentials configured): choices follow ratings and your interests, "
    "descriptions are plain."
)
CATEGORY_WORDS: dict[str, str] = {
    "attraction": "sights",
    "museum": "museums",
    "park": "parks",
    "viewpoint": "views",
    "market": "markets",
    "religious_site": "sacred sites",
    "neighbourhood": "neighbourhood walks",
    "restaurant": "food",
    "cafe": "cafes",
    "bar": "bars",
}


def _money(amount: float, currency: str) -> Money:
    return Money(amount=round(amount, 2), currency=currency)


@dataclass(frozen=True)
class PlannedParts:
    """What planning adds to a trip: the fields of ``common.services.trips.store.READY_FIELDS``."""

    destination: TripDestination
    days: list[Day]
    budget: TripBudget
    dropped: list[Dropped]
    warnings: list[str]
    tips: list[str]
    planner: PlannerReport
    solver: SolverReport
    cities: list[TripCity] = field(default_factory=list)


def _keywords(text: str) -> set[str]:
    """Content words of ``text``, folded and crudely singularised (enough to compare themes with places)."""
    words = text.casefold().replace("-", " ").replace("_", " ").split()
    return {word.rstrip("s") for word in words if len(word) > 3}


def _matching_theme(themes: list[str], used: set[int], categories: list[str], names: list[str]) -> str | None:
    """The proposed theme that best fits what the day actually holds (themes are proposed before scheduling)."""
    words = _keywords(" ".join([*(CATEGORY_WORDS.get(category, category) for category in categories), *names]))
    best, best_score = None, 0
    for position, theme in enumerate(themes):
        if position in used:
            continue
        score = len(words & _keywords(theme))
        if score > best_score:
            best, best_score = position, score
    if best is None:
        return None
    used.add(best)
    return themes[best]


def _derived_theme(categories: list[str]) -> str:
    words = [
        CATEGORY_WORDS[category] for category, _ in Counter(categories).most_common() if category in CATEGORY_WORDS
    ]
    words = [word for word in words if word not in ("food", "cafes")][:2] or ["the city"]
    return " and ".join(words).capitalize()


def assemble_trip(
    *,
    itinerary: Itinerary,
    problem: TripProblem,
    destination: Destination,
    places: dict[str, Place],
    proposal: Proposal,
    budget_currency: str,
    budget_limit: float | None,
    time_zone: str,
    extra_dropped: list[Dropped],
    extra_warnings: list[str],
    planner: PlannerReport,
    offline: bool,
    forecasts: dict[dt.date, DayForecast] | None = None,
) -> PlannedParts:
    """The fields of a ``ready`` trip (days, budget, dropped, warnings, destination, planner)."""
    descriptions: dict[str, str] = {}
    for proposed in proposal.places:
        if proposed.place_id and proposed.description:
            descriptions.setdefault(proposed.place_id, proposed.description)
    by_name = {casefolded(p.name): p.description for p in proposal.places if p.description}
    engine_places = {place.id: place for place in problem.places}
    days: list[Day] = []
    used_themes: set[int] = set()
    for index, day in enumerate(itinerary.days):
        stops: list[Stop] = []
        for stop in day.stops:
            place = places[stop.place_id]
            description = descriptions.get(place.id) or by_name.get(casefolded(place.name))
            leg = stop.leg_from_previous
            stops.append(
                Stop(
                    place_id=place.id,
                    name=place.name[:120],
                    category=place.category,
                    location=LatLng(lat=place.location.latitude, lng=place.location.longitude),
                    arrive=stop.arrive,
                    depart=stop.depart,
                    duration_min=stop.depart_minute - stop.arrive_minute,
                    cost_estimate=_money(stop.cost, budget_currency),
                    description=(description or fallback_description(place))[:MAX_DESCRIPTION],
                    travel_from_previous=None
                    if leg is None
                    else TravelLeg(mode=leg.mode.value, duration_min=leg.minutes, distance_m=leg.metres),
                    meal=stop.meal.value if stop.meal else None,
                    warnings=[],
                    outdoor=place.exposure == "outdoor",
                )
            )
        categories = [engine_places[stop.place_id].category for stop in day.stops]
        names = [places[stop.place_id].name for stop in day.stops]
        theme = _matching_theme(proposal.day_themes, used_themes, categories, names) or _derived_theme(categories)
        days.append(
            Day(
                date=day.date,
                theme=theme[:80],
                summary=day_summary(len(stops), day.travel_minutes, day.cost, budget_currency),
                stops=stops,
                travel_min=day.travel_minutes,
                cost_estimate=_money(day.cost, budget_currency),
                cost_by_category=_day_costs(day),
                warnings=[
                    w.message
                    for w in itinerary.warnings
                    if w.day_index == index and w.code != WarningCode.WEATHER_MOVED
                ],
                forecast=_day_forecast(forecasts, itinerary, index, day.date),
            )
        )
    dropped = list(extra_dropped)
    for item in itinerary.dropped:
        name = places[item.place_id].name if item.place_id in places else item.place_id
        if all(existing.name != name for existing in dropped):
            dropped.append(Dropped(name=name[:120], reason=DROP_REASONS.get(item.reason, item.reason.value)))
    warnings = list(extra_warnings) + [w.message for w in itinerary.warnings if w.day_index is None]
    if offline:
        warnings.insert(0, OFFLINE_WARNING)
    costs = itinerary.costs
    return PlannedParts(
        destination=TripDestination(
            name=destination.name,
            place_id=destination.place_id,
            location=LatLng(lat=destination.location.latitude, lng=destination.location.longitude),
            time_zone=time_zone,
        ),
        days=days,
        budget=TripBudget(
            currency=budget_currency,
            limit=budget_limit,
            estimated_total=costs.total,
            by_category={
                "activities": round(costs.activities, 2),
                "food": round(costs.food, 2),
                "local_transport": round(costs.local_transport, 2),
            },
        ),
        dropped=dropped,
        warnings=warnings,
        tips=list(proposal.tips),
        planner=planner,
        solver=SolverReport(produced_by=itinerary.produced_by.value, solve_seconds=round(itinerary.solve_seconds, 3)),
    )


def _day_forecast(
    forecasts: dict[dt.date, DayForecast] | None, itinerary: Itinerary, index: int, date: dt.date
) -> DayForecast | None:
    """The day's forecast with what the weather moved off it (the engine's ``weather_moved`` warnings)."""
    forecast = (forecasts or {}).get(date)
    if forecast is None:
        return None
    moved = [w.message for w in itinerary.warnings if w.day_index == index and w.code == WarningCode.WEATHER_MOVED]
    return forecast.model_copy(update={"moved": moved}) if moved else forecast


def _day_costs(day: DayPlan) -> dict[str, float]:
    """A day's cost split like the trip's budget (kept on the day so one day can be re-planned alone)."""
    food = sum(stop.cost for stop in day.stops if stop.meal is not None)
    activities = sum(stop.cost for stop in day.stops if stop.meal is None)
    return {
        "activities": round(activities, 2),
        "food": round(food, 2),
        "local_transport": round(max(0.0, day.cost - food - activities), 2),
    }


def day_summary(stops: int, travel_minutes: int, cost: float, currency: str) -> str:
    if stops == 0:
        return "A free day: nothing scheduled."
    return f"{stops} stop{'s' if stops != 1 else ''}, {travel_minutes} min of travel, about {cost:.0f} {currency}."


def transport_costs(transport: str, budget_currency: str) -> TransportCosts:
    """How a plan prices local transport by ``transport`` (the engine's ``leg_cost`` applies it to each leg)."""
    return TransportCosts(
        transit_fare_per_person_per_leg=currency.convert(TRANSIT_FARE_USD, "USD", budget_currency)
        if transport == "transit"
        else 0.0,
        drive_cost_per_km=currency.convert(DRIVE_COST_PER_KM_USD, "USD", budget_currency)
        if transport == "drive"
        else 0.0,
    )


def stops_costs(stops: Iterable[Stop], transport: TransportCosts, travellers: int) -> dict[str, float]:
    """What some stored stops of a day cost, split like a planned day's ``cost_by_category`` (``_day_costs``): their
    own costs, and the local transport of the legs to them priced as planning prices a leg (``leg_cost``). A stored
    day does not keep its last leg (back to the lodging): part of a day is priced by the legs to its stops."""
    food = activities = local = 0.0
    for stop in stops:
        if stop.meal is not None:
            food += stop.cost_estimate.amount
        else:
            activities += stop.cost_estimate.amount
        travel = stop.travel_from_previous
        if travel is not None:
            leg = Leg(mode=TravelMode(travel.mode), minutes=travel.duration_min, metres=travel.distance_m)
            local += leg_cost(leg, transport, travellers)
    return {"activities": round(activities, 2), "food": round(food, 2), "local_transport": round(local, 2)}


def warnings_about(warnings: Iterable[str], stops: list[Stop], others: list[Stop]) -> list[str]:
    """The day-level ``warnings`` that still apply to ``stops`` kept from a day whose ``others`` are re-planned:
    those naming one of ``stops`` and none of ``others`` (a wait before a re-planned stop no longer holds)."""
    kept_names = {stop.name for stop in stops}
    other_names = {stop.name for stop in others} - kept_names
    return [
        warning
        for warning in warnings
        if any(name in warning for name in kept_names) and not any(name in warning for name in other_names)
    ]
