"""Enrich the changed days of a trip: resolve places through the Maps layer, recompute travel legs and automatic
times, then run the itinerary validator and turn its violations into warnings on the stops and days.

Pure of Firestore: takes the stored trip and a ``MapsService``, returns the new days. Transient Maps errors
(``RetryableError``) propagate; a name or place id Maps does not know becomes a warning on its stop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from common.domain.itinerary import DayAnchor, DayPlan, Itinerary, Pace, Preferences, Producer, TripProblem, validate
from common.domain.itinerary import Stop as EngineStop
from common.domain.itinerary.models import Leg, TimeWindow, TravelMode, with_day_windows
from common.domain.maps import LatLng, MapsService, MapsUsage, Place, PlaceSearch, Waypoint
from common.domain.maps.errors import MapsPlaceNotFound
from common.domain.maps.names import names_match
from common.domain.maps_engine import engine_day_matrix, engine_place, fallback_description
from common.foundation.concurrency import fan_out
from common.foundation.config import Settings
from common.foundation.errors import PermanentError
from common.foundation.log import get_logger
from common.foundation.times import clock_minutes, clock_text
from common.services.trips.models import Day, Money, Stop, TravelLeg, Trip, TripCity
from common.services.trips.models import LatLng as StopLocation

logger = get_logger(__name__)
SEARCH_RESULTS = 3
ENRICH_FAN_OUT = 8  # days, and name lookups within a day, resolved at once
MIN_VISIT_MIN = 15
RULE_WORDS = {
    "closed": "closed",
    "overlap": "overlaps",
    "travel_too_short": "too little time to get there",
    "day_window": "outside the day",
    "too_many_stops": "too many stops",
    "meal_missing": "no meal",
    "place_repeated": "planned twice",
    "avoided": "avoided",
    "unknown_place": "unknown place",
    "idle_gap": "idle time",
}


class EnrichmentFailed(PermanentError):
    """The trip cannot be enriched as it is (no destination...): stored on the trip, not retried."""

    code = "enrichment_failed"


@dataclass
class DayEnrichment:
    """Working state of one day (or of the part of a travel day in one city): the stored stops, the Maps place of
    each (None while unresolved), and where and when that part of the day is spent."""

    day: Day
    anchor: Waypoint
    window: TimeWindow
    city_name: str
    places: list[Place | None] = field(default_factory=list)


class TripEnricher:
    """Enriches the days of one trip; ``usage`` counts the Maps work."""

    def __init__(self, trip: Trip, maps: MapsService, usage: MapsUsage, settings: Settings, fan_out: int = 8) -> None:
        destination = trip.destination
        if destination is None or not destination.place_id:
            raise EnrichmentFailed("the trip has no resolved destination")
        self.trip = trip
        self.fan_out = max(1, fan_out)
        self.maps = maps
        self.usage = usage
        self.settings = settings
        self.language = trip.language
        self.transport = trip.transport
        self.travellers = trip.travelers
        self.currency = trip.currency or settings.default_budget_currency
        self.anchor = Waypoint(
            id=destination.place_id,
            location=LatLng(latitude=destination.location.lat, longitude=destination.location.lng),
        )
        self.destination_name = destination.name or "the destination"
        self.pace = Pace(trip.pace)
        self.pace_policies = with_day_windows(settings.day_windows())
        self.window = self.pace_policies[self.pace].day_window

    # ----- resolving ------------------------------------------------------------------------------------------

    def _place_by_id(self, place_id: str) -> Place | None:
        try:
            return self.maps.get_place(place_id, language_code=self.language, usage=self.usage)
        except MapsPlaceNotFound:
            return None

    def _city(self, city: TripCity | None) -> tuple[Waypoint, str]:
        """The anchor and name of a day's city (``Trip.city_of``), else of the trip's destination."""
        if city is None or not city.place_id:
            return self.anchor, self.destination_name
        location = LatLng(latitude=city.location.lat, longitude=city.location.lng)
        return Waypoint(id=city.place_id, location=location), city.name or self.destination_name

    def _place_by_name(self, name: str, near: Waypoint) -> Place | None:
        search = PlaceSearch(
            text=name[:200],
            near=near.location,
            radius_m=min(self.settings.default_search_radius * 1000, 50_000.0),
            page_size=SEARCH_RESULTS,
            language_code=self.language,
        )
        try:
            found = self.maps.search_places(search, usage=self.usage)
        except MapsPlaceNotFound:
            return None
        return next((place for place in found if names_match(name, place.name)), None)

    def resolve(self, day: Day, city: TripCity | None = None, window: TimeWindow | None = None) -> DayEnrichment:
        anchor, city_name = self._city(city)
        ids = [stop.place_id for stop in day.stops if stop.place_id]
        known: dict[str, Place] = {}
        if ids:
            try:
                known = self.maps.get_places(ids, language_code=self.language, usage=self.usage)
            except MapsPlaceNotFound:
                known = {place_id: found for place_id in ids if (found := self._place_by_id(place_id)) is not None}
        named = [stop.name for stop in day.stops if not stop.place_id]
        looked_up = fan_out(lambda name: self._place_by_name(name, anchor), named, self.fan_out)
        by_name = dict(zip(named, looked_up, strict=True))
        working = DayEnrichment(day=day, anchor=anchor, window=window or self.window, city_name=city_name)
        for stop in day.stops:
            stop.warnings = []
            place: Place | None
            if stop.place_id:
                place = known.get(stop.place_id)
                if place is None:
                    stop.warnings.append("Google Maps does not know this place id")
            else:
                place = by_name.get(stop.name)
                if place is None:
                    stop.warnings.append(f"not found on Google Maps near {city_name}")
            if place is not None:
                self._fill_details(stop, place)
            working.places.append(place)
        return working

    def _fill_details(self, stop: Stop, place: Place) -> None:
        engine = engine_place(place, 1.0, self.currency)
        stop.place_id = place.id
        stop.name = place.name[:120]
        stop.category = place.category
        stop.location = StopLocation(lat=place.location.latitude, lng=place.location.longitude)
        stop.cost_estimate = Money(amount=round(engine.cost_per_person * self.travellers, 2), currency=self.currency)
        if not stop.description:
            stop.description = fallback_description(place)

    # ----- travel and times -----------------------------------------------------------------------------------

    def schedule(self, working: DayEnrichment) -> TripProblem:
        """Legs of the day in its order (only those: ``engine_day_matrix``); automatic stops timed from them; the
        day's problem."""
        resolved = {place.id: place for place in working.places if place is not None}
        anchor = working.anchor
        nodes = [anchor] + [Waypoint.of(place) for place in resolved.values() if place.id != anchor.id]
        order = [anchor.id] + [place.id for place in working.places if place is not None] + [anchor.id]
        matrix = engine_day_matrix(self.maps, nodes, order, self.transport, self.usage)
        position = matrix.position()
        mode = TravelMode(self.transport)

        def leg(origin: str, target: str) -> Leg | None:
            seconds = matrix.seconds[position[origin]][position[target]]
            if seconds is None:
                return None
            return Leg(
                mode=mode,
                minutes=math.ceil(seconds / 60),
                metres=matrix.metres[position[origin]][position[target]] or 0,
            )

        at, free_from, travel_total = anchor.id, working.window.start, 0
        for stop, place in zip(working.day.stops, working.places, strict=True):
            if place is None:
                stop.travel_from_previous = None
                if stop.timing == "auto" and not stop.locked:
                    stop.arrive = clock_text(free_from)
                    stop.depart = clock_text(free_from + (stop.duration_min or 60))
                free_from = clock_minutes(stop.depart)
                continue
            travel = leg(at, place.id)
            stop.travel_from_previous = (
                None
                if travel is None
                else TravelLeg(mode=travel.mode.value, duration_min=travel.minutes, distance_m=travel.metres)
            )
            travel_total += travel.minutes if travel else 0
            if stop.timing == "auto" and not stop.locked:  # a locked stop keeps its times: never moved
                arrive = free_from + (travel.minutes if travel else 0)
                stop.arrive = clock_text(arrive)
                stop.depart = clock_text(arrive + max(MIN_VISIT_MIN, place.visit_minutes))
            stop.duration_min = max(0, clock_minutes(stop.depart) - clock_minutes(stop.arrive))
            at, free_from = place.id, clock_minutes(stop.depart)
        if at != anchor.id:
            back = leg(at, anchor.id)
            travel_total += back.minutes if back else 0
        working.day.travel_min = travel_total
        working.day.cost_estimate = Money(
            amount=round(sum(stop.cost_estimate.amount for stop in working.day.stops), 2), currency=self.currency
        )
        return TripProblem(
            start_date=self.trip.start_date,
            end_date=self.trip.end_date,
            anchors=[DayAnchor(start_node_id=anchor.id, end_node_id=anchor.id)],
            places=[engine_place(place, 1.0, self.currency) for place in resolved.values() if place.id != anchor.id],
            matrix=matrix,
            preferences=Preferences(
                pace=self.pace,
                day_window=working.window if working.window != self.window else None,
                max_places_per_day=self.settings.max_places_per_day,
                travellers=self.travellers,
                skip_meals=list(self.trip.request.skip_meals),
            ),
            pace_policies=self.pace_policies,
        )

    # ----- validation -----------------------------------------------------------------------------------------

    def check(self, working: DayEnrichment, problem: TripProblem) -> None:
        """Run the validator over the day's resolved stops; store its findings as stop and day warnings."""
        stops = working.day.stops
        planned = [index for index, place in enumerate(working.places) if place is not None]
        plan = Itinerary(
            days=[
                DayPlan(
                    date=working.day.date,
                    stops=[
                        EngineStop(
                            place_id=str(stops[index].place_id),
                            name=stops[index].name,
                            arrive_minute=clock_minutes(stops[index].arrive),
                            depart_minute=clock_minutes(stops[index].depart),
                        )
                        for index in planned
                    ],
                )
            ],
            produced_by=Producer.USER,
        )
        names = {str(stops[index].place_id): stops[index].name for index in planned}
        day_warnings: list[str] = []
        for violation in validate(problem, plan):
            message = violation.message
            for place_id, name in names.items():
                message = message.replace(place_id, name)
            if violation.rule == "place_repeated":
                message = "already on this day"
            text = f"{RULE_WORDS.get(violation.rule, violation.rule)}: {message}"
            if violation.stop_index is not None and violation.stop_index < len(planned):
                stop = stops[planned[violation.stop_index]]
                stop.warnings.append(f"locked, not moved: {text}" if stop.locked else text)
            else:
                day_warnings.append(text)
        working.day.warnings = day_warnings

    def _enrich_part(self, day: Day, city: TripCity | None, window: TimeWindow | None = None) -> Day:
        working = self.resolve(day, city, window)
        problem = self.schedule(working)
        self.check(working, problem)
        return working.day

    def enrich_day(self, day: Day, day_index: int | None = None) -> Day:
        """The day enriched in its city (``Trip.city_of``); a travel day's parts each in their own city and time
        (before the transfer's departure, after its arrival), the transfer kept as planned."""
        day = day.model_copy(deep=True)
        city = self.trip.city_of(day_index) if day_index is not None else None
        transfer = day.transfer
        if transfer is None:
            return self._enrich_part(day, city)
        before, after = day.stops_around_transfer()
        left = self.trip.cities[transfer.from_city] if transfer.from_city < len(self.trip.cities) else city
        departure, arrival = clock_minutes(transfer.depart), clock_minutes(transfer.arrive)
        parts = []
        if before and departure > self.window.start:
            morning = TimeWindow(start=self.window.start, end=departure)
            parts.append(self._enrich_part(day.model_copy(update={"stops": before}), left, morning))
        elif before:
            after = before + after
        if after and arrival < self.window.end:
            evening = TimeWindow(start=max(self.window.start, arrival), end=self.window.end)
            parts.append(self._enrich_part(day.model_copy(update={"stops": after}), city, evening))
        elif after:
            parts.append(self._enrich_part(day.model_copy(update={"stops": after}), city))
        stops = [stop for part in parts for stop in part.stops]
        total = sum(stop.cost_estimate.amount for stop in stops) + transfer.cost_estimate.amount
        return day.model_copy(
            update={
                "stops": stops,
                "travel_min": sum(part.travel_min for part in parts),
                "cost_estimate": Money(amount=round(total, 2), currency=self.currency),
                "warnings": [warning for part in parts for warning in part.warnings],
            }
        )


def _mark_repeats(days: list[Day], changed: set[str]) -> None:
    """A place planned on two days: warn on its stops of the changed days (the validator sees one day at a time)."""
    first_date: dict[str, str] = {}
    for day in days:
        for stop in day.stops:
            if stop.place_id:
                first_date.setdefault(stop.place_id, day.date.isoformat())
    for day in days:
        if day.date.isoformat() not in changed:
            continue
        for stop in day.stops:
            first = first_date.get(str(stop.place_id))
            if first is not None and first != day.date.isoformat():
                stop.warnings.append(f"planned twice: also on {first}")


def enrich_days(
    trip: Trip,
    dates: list[str],
    maps: MapsService,
    usage: MapsUsage,
    settings: Settings,
    *,
    fan_out_width: int = ENRICH_FAN_OUT,
) -> list[Day]:
    """All of the trip's days, with the days in ``dates`` enriched (the others as stored).

    Days, and the name lookups within a day, run ``fan_out_width`` at a time (1: one after another)."""
    enricher = TripEnricher(trip, maps, usage, settings, fan_out=fan_out_width)
    wanted = set(dates)
    stored = [day.model_copy(deep=True) for day in trip.days]
    changed = [index for index, day in enumerate(stored) if day.date.isoformat() in wanted]
    enriched = fan_out(lambda index: enricher.enrich_day(stored[index], index), changed, fan_out_width)
    days = list(stored)
    for index, day in zip(changed, enriched, strict=True):
        days[index] = day
    _mark_repeats(days, wanted)
    return days
