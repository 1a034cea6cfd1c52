"""Weather in the engine: outdoor sights go on the drier days, rainy days favour indoor places (issue 16).

The planning service marks the wet dates of a trip (``TripProblem.wet_dates``, from the forecast) and each place
whether it is open-air (``Place.outdoor``). Within the other constraints:

- Areas: the sights are split into one geographic area per day (``PlanningContext.area_costs``); a wet day takes the
  area with the fewest outdoor sights among the days that start from the same place (``wet_area_order``), so the
  parks and viewpoints of the city fall on the dry days at no cost in travel.
- An outdoor sight on a wet day costs ``WET_OUTDOOR_COST`` more (minutes of travel, as the area cost), so it is
  allowed there only when no dry day it is open on is near (``PlanningContext.home_days``); an indoor sight may also
  go on any wet day it is open on. Must-includes are never dropped for weather: they pay the cost and so prefer a
  dry day, but stay in the plan.
- ``moved_warnings`` says what the weather moved: an outdoor sight planned on a dry day whose own area (the
  split without weather) lay on a wet day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from common.domain.itinerary.models import Itinerary, PlanWarning, WarningCode

WET_OUTDOOR_COST = 240  # minutes of travel (60 km away from the day's area at AREA_COST_PER_KM): above most detours


def wet_area_order(outdoor_per_group: Sequence[int], start_nodes: Sequence[str], wet: Sequence[bool]) -> list[int]:
    """The area (group) each day takes, by position: the k-th day the k-th area, except that each wet day swaps its
    area with the dry day (starting from the same place) whose area has the fewest outdoor sights, when fewer."""
    group_of_day = list(range(len(start_nodes)))
    for position, is_wet in enumerate(wet):
        if not is_wet:
            continue
        candidates = [
            other for other in range(len(start_nodes)) if not wet[other] and start_nodes[other] == start_nodes[position]
        ]
        if not candidates:
            continue
        best = min(candidates, key=lambda other: (outdoor_per_group[group_of_day[other]], other))
        if outdoor_per_group[group_of_day[best]] < outdoor_per_group[group_of_day[position]]:
            group_of_day[position], group_of_day[best] = group_of_day[best], group_of_day[position]
    return group_of_day


def moved_warnings(
    planned_on: dict[str, int],
    natural_day: dict[str, int],
    names: dict[str, str],
    dates: dict[int, dt.date],
    wet_days: set[int],
) -> list[PlanWarning]:
    """A ``weather_moved`` warning on the wet day each outdoor sight left: ``planned_on`` and ``natural_day`` map the
    outdoor sights to the day index they are planned on and the one their area (without weather) gave them."""
    warnings = []
    for place_id, day_index in sorted(planned_on.items(), key=lambda item: (item[1], item[0])):
        home = natural_day.get(place_id)
        if home is None or home == day_index or home not in wet_days or day_index in wet_days:
            continue
        warnings.append(
            PlanWarning(
                code=WarningCode.WEATHER_MOVED,
                message=f"{names[place_id]} moved to {dates[day_index].strftime('%a')} for drier weather",
                day_index=home,
                place_id=place_id,
            )
        )
    return warnings


def with_previous_moves(previous: Itinerary, current: Itinerary) -> Itinerary:
    """``current`` (a re-timed or repaired ``previous``) keeping the ``weather_moved`` warnings of ``previous``
    whose sight is still planned on the same day."""
    planned = {(stop.place_id, day.date) for day in current.days for stop in day.stops}
    planned_before = {stop.place_id: day.date for day in previous.days for stop in day.stops}
    known = {warning.place_id for warning in current.warnings if warning.code == WarningCode.WEATHER_MOVED}
    kept = [
        warning
        for warning in previous.warnings
        if warning.code == WarningCode.WEATHER_MOVED
        and warning.place_id not in known
        and (warning.place_id, planned_before.get(warning.place_id or "")) in planned
    ]
    return current.model_copy(update={"warnings": [*current.warnings, *kept]}) if kept else current
