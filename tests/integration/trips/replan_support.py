"""Helpers of the re-plan tests: the itinerary validator run on a stored day, and a day printed as a traveller reads
it."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from google.cloud import firestore

from common.domain.itinerary import (
    DayAnchor,
    DayPlan,
    Itinerary,
    Pace,
    PlanWarning,
    Preferences,
    Producer,
    TravelMatrix,
    TravelMode,
    TripProblem,
    Violation,
    WarningCode,
    validate,
    with_day_windows,
)
from common.domain.itinerary import Stop as EngineStop
from common.domain.itinerary.models import MealKind, ResumePoint
from common.domain.maps import LatLng, MapsService, MapsUsage, Waypoint
from common.domain.maps.factory import build_places_client, build_routes_client
from common.domain.maps.legs import LegQuery
from common.domain.maps.service import MapsConfig
from common.domain.maps_engine import MAPS_MODES, engine_place
from common.foundation.config import load_settings
from common.foundation.times import clock_minutes
from common.services.trips import store

HERE = "traveller-position"


def print_day(title: str, day: dict[str, Any]) -> None:
    """The day as a traveller reads it (shown with ``pytest -s``)."""
    print(f"\n--- {title}: {day['date']} ({day['theme']}) ---")
    start = day.get("replanned_from")
    for index, stop in enumerate(day["stops"]):
        if start and index == start["first_stop"]:
            print(f"      ~ re-planned from {start['time']} at {start['location']}")
        leg = stop["travel_from_previous"]
        travel = f"{leg['mode']} {leg['duration_min']:>3} min" if leg else "        ?"
        flags = " ".join(flag for flag in (stop["meal"], "locked" if stop.get("locked") else None) if flag)
        print(f"  {travel} | {stop['arrive']}-{stop['depart']} {stop['name']} [{stop['category']}] {flags}")
        for warning in stop["warnings"]:
            print(f"        ! {warning}")
    for warning in day["warnings"]:
        print(f"  ! {warning}")
    if day.get("changes"):
        print(f"  changes: {day['changes']}")


def _excuses(warnings: list[str]) -> list[PlanWarning]:
    """The engine warnings a stored day's texts stand for (the validator accepts a wait or a missing meal only with
    one)."""
    excuses = []
    for text in warnings:
        if "-minute wait before" in text:
            excuses.append(PlanWarning(code=WarningCode.IDLE_GAP, message=text, day_index=0))
        for meal in MealKind:
            if text.startswith(f"no {meal.value} venue fits"):
                excuses.append(PlanWarning(code=WarningCode.MEAL_MISSING, message=text, day_index=0, meal=meal))
    return excuses


def stored_day_violations(
    client: firestore.Client, stack: dict[str, str], trip_id: str, day_index: int
) -> list[Violation]:
    """The validator's findings on day ``day_index`` of the stored trip: places and opening hours from the Maps
    stand-in, travel as stored on each stop (a re-planned rest of the day from its ``replanned_from`` point), the
    way back to the lodging from Routes."""
    trip = store.read_trip(client, trip_id)
    assert trip is not None
    assert trip.destination is not None
    day = trip.days[day_index]
    settings = load_settings(
        maps_api_endpoint=stack["MAPS_API_ENDPOINT"], google_maps_api_key=stack["GOOGLE_MAPS_API_KEY"]
    )
    maps = MapsService(MapsConfig.from_settings(settings), build_places_client(settings), build_routes_client(settings))
    usage = MapsUsage()
    ids = [str(stop.place_id) for stop in day.stops]
    places = maps.get_places(ids, language_code=trip.language, usage=usage)
    destination = trip.destination
    anchor = Waypoint(
        id=destination.place_id, location=LatLng(latitude=destination.location.lat, longitude=destination.location.lng)
    )
    start = day.replanned_from
    nodes = [anchor.id, *ids] + ([HERE] if start else [])
    size, position = len(nodes), {node: index for index, node in enumerate(nodes)}
    seconds: list[list[int | None]] = [[0 if i == j else None for j in range(size)] for i in range(size)]
    metres: list[list[int | None]] = [[0 if i == j else None for j in range(size)] for i in range(size)]
    previous = anchor.id
    for index, stop in enumerate(day.stops):
        if start is not None and index == start.first_stop:
            previous = HERE
        leg = stop.travel_from_previous
        if leg is not None:
            seconds[position[previous]][position[ids[index]]] = leg.duration_min * 60
            metres[position[previous]][position[ids[index]]] = leg.distance_m
        previous = ids[index]
    last = places[ids[-1]]
    departure = dt.datetime.combine(
        day.date, dt.time(), tzinfo=zoneinfo.ZoneInfo(destination.time_zone)
    ) + dt.timedelta(minutes=clock_minutes(day.stops[-1].depart))
    (back,) = maps.route_legs(
        [LegQuery(origin=Waypoint.of(last), destination=anchor, departure=departure)],
        MAPS_MODES[trip.transport],
        usage=usage,
    )
    seconds[position[ids[-1]]][position[anchor.id]] = back.duration_s
    metres[position[ids[-1]]][position[anchor.id]] = back.distance_m
    problem = TripProblem(
        start_date=day.date,
        end_date=day.date,
        anchors=[DayAnchor(start_node_id=anchor.id, end_node_id=anchor.id)],
        places=[engine_place(place, 1.0, trip.currency or "USD") for place in places.values()],
        matrix=TravelMatrix(mode=TravelMode(trip.transport), node_ids=nodes, seconds=seconds, metres=metres),
        preferences=Preferences(pace=Pace(trip.pace), skip_meals=list(trip.request.skip_meals)),
        pace_policies=with_day_windows(settings.day_windows()),
    )
    resume = (
        ResumePoint(node_id=HERE, minute=clock_minutes(start.time), before_stop=start.first_stop) if start else None
    )
    plan = Itinerary(
        days=[
            DayPlan(
                date=day.date,
                resume=resume,
                stops=[
                    EngineStop(
                        place_id=ids[index],
                        name=stop.name,
                        arrive_minute=clock_minutes(stop.arrive),
                        depart_minute=clock_minutes(stop.depart),
                    )
                    for index, stop in enumerate(day.stops)
                ],
            )
        ],
        warnings=_excuses(day.warnings),
        produced_by=Producer.USER,
    )
    return validate(problem, plan)
