"""What the public trip page (``trip_page``) shows of a trip, computed from the typed ``Trip``: the days, their stops
and legs, costs and warnings, a sketch of each day's route (stops projected into an SVG view box), and, when
configured, a Google Static Maps URL of the day.

Nothing about the owner or the people the trip is shared with gets in here: no uid, no e-mail, no notes, no share
map, no planner or AI bookkeeping. All text is kept as text: the template escapes it (``common.api.trip_page``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import math
import urllib.parse
from dataclasses import dataclass

from common.services.trips.models import (
    TRANSFER_WORDS,
    Day,
    DayForecast,
    LatLng,
    Money,
    Stop,
    Transfer,
    TravelLeg,
    Trip,
    TripCity,
)

SKETCH_WIDTH = 320
SKETCH_HEIGHT = 200
SKETCH_MARGIN = 18
MARKER_SPACING = 19.0  # view-box units between marker centres (a marker's radius is 10)
STATIC_MAP_HOST = "https://maps.googleapis.com"
STATIC_MAP_PATH = "/maps/api/staticmap"
MAPS_SEARCH_URL = "https://www.google.com/maps/search/"
STATIC_MAP_LABELS = "123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MODE_WORDS = {"walk": "On foot", "transit": "By transit", "drive": "By car"}
CATEGORY_WORDS = {"restaurant": "Meal", "other": "Stop"}


@dataclass(frozen=True)
class SketchPoint:
    number: int
    x: float
    y: float
    name: str


@dataclass(frozen=True)
class Sketch:
    """A day's stops in order, projected into ``0 0 SKETCH_WIDTH SKETCH_HEIGHT`` (north up)."""

    points: tuple[SketchPoint, ...]
    width: int = SKETCH_WIDTH
    height: int = SKETCH_HEIGHT

    @property
    def polyline(self) -> str:
        return " ".join(f"{point.x:.1f},{point.y:.1f}" for point in self.points)


@dataclass(frozen=True)
class StopView:
    number: int
    arrive: str
    depart: str
    name: str
    kind: str
    description: str
    cost: str | None
    leg: str | None
    warnings: tuple[str, ...]
    maps_url: str | None


@dataclass(frozen=True)
class DayView:
    number: int
    date_text: str
    short_date: str
    iso_date: str
    theme: str
    summary: str
    stops: tuple[StopView, ...]
    hours: str | None
    travel: str | None
    cost: str | None
    warnings: tuple[str, ...]
    sketch: Sketch | None
    static_map_url: str | None
    city: str | None = None
    transfer: str | None = None
    forecast: str | None = None
    weather_moved: tuple[str, ...] = ()


@dataclass(frozen=True)
class TripView:
    title: str
    destination: str
    dates: str
    summary: str
    travellers: str
    days: tuple[DayView, ...]
    budget: str | None
    warnings: tuple[str, ...]
    tips: tuple[str, ...]
    status_note: str | None
    language: str


@dataclass(frozen=True)
class StaticMapOptions:
    """A Static Maps key (restricted to that API) and, optionally, its URL signing secret (base64url)."""

    key: str
    signing_secret: str | None = None


def money_text(money: Money | None) -> str | None:
    """``about 1,200 JPY``; ``None`` for no estimate or nothing to pay."""
    if money is None or money.amount <= 0:
        return None
    return f"about {money.amount:,.0f} {money.currency}"


def leg_text(leg: TravelLeg | None) -> str | None:
    if leg is None:
        return None
    distance = f"{leg.distance_m / 1000:.1f} km" if leg.distance_m >= 1000 else f"{leg.distance_m} m"
    return f"{MODE_WORDS.get(leg.mode, leg.mode)}: {duration_text(leg.duration_min)}, {distance}"


def duration_text(minutes: int) -> str:
    """``45 min``, ``1 h``, ``3 h 11 min``."""
    hours, rest = divmod(max(0, minutes), 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def date_text(date: dt.date) -> str:
    return f"{date:%a} {date.day} {date:%b %Y}"


def range_text(start: dt.date, end: dt.date) -> str:
    if start == end:
        return date_text(start)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {end:%b %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%b} – {end.day} {end:%b %Y}"
    return f"{date_text(start)} – {date_text(end)}"


def sketch_of(stops: list[Stop]) -> Sketch | None:
    """The stops with a location, projected equirectangularly (longitude scaled by the cosine of the mean latitude)
    to fit the view box with a margin, keeping the aspect ratio; ``None`` when no stop has a location."""
    located = [(number, stop.name, stop.location) for number, stop in enumerate(stops, 1) if stop.location]
    if not located:
        return None
    mean_lat = math.radians(sum(location.lat for _, _, location in located) / len(located))
    xs = [location.lng * math.cos(mean_lat) for _, _, location in located]
    ys = [location.lat for _, _, location in located]
    span_x, span_y = max(xs) - min(xs), max(ys) - min(ys)
    inner_w, inner_h = SKETCH_WIDTH - 2 * SKETCH_MARGIN, SKETCH_HEIGHT - 2 * SKETCH_MARGIN
    scales = [size / span for size, span in ((inner_w, span_x), (inner_h, span_y)) if span > 0]
    scale = min(scales) if scales else 0.0  # one place (or all at one point): drawn in the middle
    offset_x = (SKETCH_WIDTH - span_x * scale) / 2
    offset_y = (SKETCH_HEIGHT - span_y * scale) / 2
    placed: list[SketchPoint] = []
    for (number, name, _), x, y in zip(located, xs, ys, strict=True):
        spot = _clear_spot(offset_x + (x - min(xs)) * scale, offset_y + (max(ys) - y) * scale, placed)
        placed.append(SketchPoint(number, spot[0], spot[1], name))
    return Sketch(tuple(placed))


def _clear_spot(x: float, y: float, placed: list[SketchPoint]) -> tuple[float, float]:
    """``(x, y)``, or the nearest spot on rings around it where the marker does not cover one already placed (two
    stops at one place, such as a sight and lunch beside it, stay readable), kept inside the view box."""

    def free(cx: float, cy: float) -> bool:
        return all(math.hypot(cx - point.x, cy - point.y) >= MARKER_SPACING for point in placed)

    if free(x, y):
        return x, y
    for ring in range(1, 6):
        for step in range(12):
            angle = math.pi / 6 * step - math.pi / 4
            cx = min(max(x + ring * MARKER_SPACING * math.cos(angle), 11.0), SKETCH_WIDTH - 11.0)
            cy = min(max(y + ring * MARKER_SPACING * math.sin(angle), 11.0), SKETCH_HEIGHT - 11.0)
            if free(cx, cy):
                return cx, cy
    return x, y


def static_map_url(stops: list[Stop], options: StaticMapOptions) -> str | None:
    """A Static Maps URL of the day: numbered markers and the path through the stops in order (signed when a
    signing secret is given, so the key needs no referrer restriction: the page sends no referrer)."""
    locations: list[LatLng] = [stop.location for stop in stops if stop.location]
    if not locations:
        return None
    points = [f"{location.lat:.6f},{location.lng:.6f}" for location in locations]
    params: list[tuple[str, str]] = [("size", "640x360"), ("scale", "2")]
    for index, point in enumerate(points[: len(STATIC_MAP_LABELS)]):
        params.append(("markers", f"color:0x1d4ed8|label:{STATIC_MAP_LABELS[index]}|{point}"))
    if len(points) > 1:
        params.append(("path", "color:0x1d4ed8cc|weight:4|" + "|".join(points)))
    params.append(("key", options.key))
    path = f"{STATIC_MAP_PATH}?{urllib.parse.urlencode(params)}"
    if options.signing_secret:
        secret = base64.urlsafe_b64decode(options.signing_secret + "=" * (-len(options.signing_secret) % 4))
        signature = hmac.new(secret, path.encode(), hashlib.sha1).digest()
        path += "&signature=" + base64.urlsafe_b64encode(signature).decode()
    return STATIC_MAP_HOST + path


def maps_link(stop: Stop) -> str | None:
    """A Google Maps URL (the documented ``api=1`` search form) that opens the stop in the traveller's Maps app or
    site: a link the traveller follows, not a request the page makes."""
    if not stop.place_id and stop.location is None:
        return None
    params = {"api": "1", "query": stop.name}
    if stop.place_id:
        params["query_place_id"] = stop.place_id
    elif stop.location is not None:
        params["query"] = f"{stop.location.lat:.6f},{stop.location.lng:.6f}"
    return f"{MAPS_SEARCH_URL}?{urllib.parse.urlencode(params)}"


def _stop_view(number: int, stop: Stop) -> StopView:
    kind = stop.meal.capitalize() if stop.meal else CATEGORY_WORDS.get(stop.category, stop.category.replace("_", " "))
    return StopView(
        number=number,
        arrive=stop.arrive,
        depart=stop.depart,
        name=stop.name,
        kind=kind[:1].upper() + kind[1:],
        description=stop.description,
        cost=money_text(stop.cost_estimate),
        leg=leg_text(stop.travel_from_previous),
        warnings=tuple(stop.warnings),
        maps_url=maps_link(stop),
    )


def transfer_text(transfer: Transfer) -> str:
    """``Train 09:00-11:28, Tokyo to Kyoto (2 h 28 min, about 167 EUR)``; an estimate says so."""
    cost = money_text(transfer.cost_estimate)
    parts = [duration_text(transfer.duration_min), *([cost] if cost else [])]
    estimated = ", our estimate: no route on Google Maps" if transfer.estimated else ""
    return (
        f"{TRANSFER_WORDS[transfer.mode]} {transfer.depart}–{transfer.arrive} (local times), {transfer.from_name}"
        f" to {transfer.to_name} ({', '.join(parts)}{estimated})"
    )


def forecast_text(forecast: DayForecast | None) -> str | None:
    """``Light rain, 60% chance of rain or snow, 8–14 °C``; the reason when there is no forecast."""
    if forecast is None:
        return None
    if forecast.status != "known":
        return forecast.description
    parts = [forecast.description or (forecast.condition or "").replace("_", " ").capitalize()]
    if forecast.precipitation_probability is not None:
        parts.append(f"{forecast.precipitation_probability}% chance of rain or snow")
    if forecast.low_c is not None and forecast.high_c is not None:
        parts.append(f"{forecast.low_c:.0f}–{forecast.high_c:.0f} °C")
    return ", ".join(part for part in parts if part)


def _day_view(number: int, day: Day, static_map: StaticMapOptions | None, city: TripCity | None = None) -> DayView:
    return DayView(
        city=city.name if city is not None else None,
        transfer=transfer_text(day.transfer) if day.transfer is not None else None,
        forecast=forecast_text(day.forecast),
        weather_moved=tuple(day.forecast.moved) if day.forecast is not None else (),
        number=number,
        date_text=date_text(day.date),
        short_date=f"{day.date:%a} {day.date.day}",
        iso_date=day.date.isoformat(),
        theme=day.theme,
        summary=day.summary,
        stops=tuple(_stop_view(index, stop) for index, stop in enumerate(day.stops, 1)),
        hours=f"{day.stops[0].arrive}–{day.stops[-1].depart}" if day.stops else None,
        travel=f"{duration_text(day.travel_min)} on the way" if day.travel_min else None,
        cost=money_text(day.cost_estimate),
        warnings=tuple(day.warnings),
        sketch=sketch_of(day.stops),
        static_map_url=static_map_url(day.stops, static_map) if static_map else None,
    )


STATUS_NOTES = {
    "queued": "This trip is still being planned. Open the link again in a minute.",
    "planning": "This trip is still being planned. Open the link again in a minute.",
    "failed": "This trip could not be planned.",
}


def trip_view(trip: Trip, static_map: StaticMapOptions | None = None) -> TripView:
    destination = " → ".join(city.name for city in trip.cities) if len(trip.cities) > 1 else None
    destination = destination or (trip.destination.name if trip.destination else None) or trip.request.destination
    destination = destination or " → ".join(stay.destination for stay in trip.request.destinations or ())
    day_count = (trip.end_date - trip.start_date).days + 1
    multi_city = len(trip.cities) > 1
    days = tuple(
        _day_view(number, day, static_map, trip.city_of(number - 1) if multi_city else None)
        for number, day in enumerate(trip.days, 1)
    )
    stop_count = sum(len(day.stops) for day in days)
    plural = "s" if day_count != 1 else ""
    summary = f"{day_count}-day trip to {destination}, {range_text(trip.start_date, trip.end_date)}"
    if stop_count:
        summary += f": {stop_count} stops"
    budget = None
    if trip.budget is not None and trip.budget.estimated_total > 0:
        limit = f" (budget {trip.budget.limit:,.0f})" if trip.budget.limit is not None else ""
        budget = f"About {trip.budget.estimated_total:,.0f} {trip.budget.currency} in all{limit}"
    return TripView(
        title=trip.title or f"{destination}, {day_count} day{plural}",
        destination=destination,
        dates=range_text(trip.start_date, trip.end_date),
        summary=summary,
        travellers=f"{trip.travelers} traveller{'s' if trip.travelers != 1 else ''} · {trip.pace} pace",
        days=days,
        budget=budget,
        warnings=tuple(trip.warnings),
        tips=tuple(trip.tips),
        status_note=STATUS_NOTES.get(trip.status),
        language=trip.language,
    )
