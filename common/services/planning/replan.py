"""Re-plan one day of a stored trip: the other days stay as they are and their places are never reused.

The same planning session as a new plan (quota admission, finish or fail with the same codes); the new day is
written in a transaction that checks the trip did not change meanwhile.
"""

from __future__ import annotations

from typing import Any

from common.domain.maps import Destination, LatLng
from common.domain.maps.names import names_match
from common.foundation.errors import Conflict, InvalidRequest, NotFound
from common.services.planning.assemble import stops_costs, transport_costs
from common.services.planning.cities import arrival_window, rejoined_day
from common.services.planning.replan_from import (
    check_options,
    day_changes,
    day_constraints,
    joined_day,
    with_locks_marked,
)
from common.services.planning.service import PlanningDeps, PlanningRun, choose_and_schedule
from common.services.planning.session import PlanningSession, failure_cause
from common.services.trips import access, day_inputs, store
from common.services.trips.models import MAX_WISHES, Day, EnrichmentReport, Replanning, ReplanOptions, Trip


def _destination(trip: Trip, day_index: int) -> Destination:
    """The city of the day (``Trip.city_of``): a multi-city trip's day is re-planned within its city."""
    stored = trip.city_of(day_index)
    if stored is None or not stored.place_id:
        raise InvalidRequest("this trip has no resolved destination to re-plan from")
    return Destination(
        place_id=stored.place_id,
        name=stored.name or trip.request.first_city,
        location=LatLng(latitude=stored.location.lat, longitude=stored.location.lng),
        time_zone=stored.time_zone,
        types=("locality",),
    )


def replanned_fields(
    trip: Trip, day_index: int, wishes: str | None, deps: PlanningDeps, options: ReplanOptions | None = None
) -> Trip:
    """The trip after re-planning day ``day_index`` (days, budget, dropped, warnings, planner changed).

    ``wishes`` (free text, bounded) is passed to the planner as one more interest for that day. ``options`` (the
    request's ``from``, ``keep`` and ``skip``; ``replan_from``) re-plan only the rest of the day, keep or drop
    stops; locked stops keep their place and times. Quotas and the session are the caller's business.
    """
    days = list(trip.days)
    if not 0 <= day_index < len(days):
        raise InvalidRequest("no such day", details=[{"field": "day", "message": f"must be 0 to {len(days) - 1}"}])
    options = options or ReplanOptions(wishes=wishes)
    wishes = options.wishes if options.wishes is not None else wishes
    old_day = days[day_index]
    constraints, behind = day_constraints(trip, old_day, options, deps.settings)
    request = trip.request
    date = days[day_index].date
    interests = list(request.interests)
    if wishes and wishes.strip():
        interests = [" ".join(wishes.split())[:MAX_WISHES], *interests][:10]
    used_elsewhere = frozenset(
        stop.place_id for index, day in enumerate(days) if index != day_index for stop in day.stops if stop.place_id
    )
    not_again = used_elsewhere | {stop.place_id for stop in behind if stop.place_id} | set(options.skip)
    # Must-includes already on another day stay there; those on this day must stay on it (unless skipped or behind).
    behind_ids = {stop.place_id for stop in behind}
    this_day_names = [
        stop.name for stop in old_day.stops if stop.place_id not in options.skip and stop.place_id not in behind_ids
    ]
    still_wanted = [name for name in request.must_include if any(names_match(name, other) for other in this_day_names)]
    city = trip.city_of(day_index)
    update: dict[str, Any] = {
        "start_date": date,
        "end_date": date,
        "interests": interests,
        "must_include": still_wanted,
        "destination": city.name if city else request.first_city,
        "destinations": None,
        "lodging": city.lodging if city else request.lodging,
    }
    if request.budget is not None:
        spent_elsewhere = sum(day.cost_estimate.amount for index, day in enumerate(days) if index != day_index)
        spent_elsewhere += sum(stop.cost_estimate.amount for stop in behind)
        update["budget"] = request.budget.model_copy(
            update={"amount": max(0.0, request.budget.amount - spent_elsewhere)}
        )
    day_request = request.model_copy(update=update)
    run = PlanningRun(trip_id=trip.id, request=day_request)
    window = arrival_window(trip, day_index, deps.settings)  # a travel day: the part after the transfer
    morning = frozenset(stop.place_id for stop in old_day.stops_around_transfer()[0] if stop.place_id)
    parts = choose_and_schedule(
        run,
        deps,
        _destination(trip, day_index),
        exclude_ids=not_again | morning,
        day_window=window,
        constraints=constraints,
    )
    new_day = with_locks_marked(parts.days[0], constraints.locks)
    transport = transport_costs(request.transport, parts.budget.currency)
    if options.from_ is not None and constraints.window is not None:
        # The stops behind (on a travel day the morning in the city left among them) as they were, the transfer kept.
        behind_costs = stops_costs(behind, transport, request.travelers)
        new_day = joined_day(old_day, behind, new_day, options, constraints.window.start, behind_costs).model_copy(
            update={"city": old_day.city, "transfer": old_day.transfer}
        )
    else:
        new_day = rejoined_day(old_day, new_day, transport, request.travelers, request.skip_meals)
    days[day_index] = new_day.model_copy(update={"changes": day_changes(old_day.stops, new_day.stops)})

    by_category = {"activities": 0.0, "food": 0.0, "local_transport": 0.0}
    for day in days:
        for name, amount in (day.cost_by_category or {}).items():
            by_category[name] = round(by_category.get(name, 0.0) + amount, 2)
    budget = (trip.budget or parts.budget).model_copy(
        update={
            "by_category": by_category,
            "estimated_total": round(sum(day.cost_estimate.amount for day in days), 2),
        }
    )
    warnings = [warning for warning in trip.warnings if not warning.startswith("Day ")]
    if budget.limit is not None and budget.estimated_total > budget.limit:
        warnings.append(f"Day {day_index + 1} re-planned: the trip now costs more than the budget")
    return trip.model_copy(
        update={
            "days": days,
            "budget": budget,
            "dropped": parts.dropped,
            "warnings": warnings,
            "planner": parts.planner,
        }
    )


REPLANNED_FIELDS = ("days", "budget", "dropped", "warnings", "planner", "enrichment", "version", "updated_at")


def _with_enrichment_baseline(current: Trip, replanned: Day) -> EnrichmentReport:
    """The planner computed the new day's legs and times: it is a baseline for enrichment, not an edit."""
    enrichment = current.enrichment or EnrichmentReport()
    hashes = dict(enrichment.day_hashes or day_inputs.day_hashes(current.days))
    hashes[replanned.date.isoformat()] = day_inputs.day_hash(replanned)
    return enrichment.model_copy(update={"day_hashes": hashes, "transport": current.transport})


def replan_day(
    deps: PlanningDeps,
    trip: Trip,
    uid: str,
    day_number: int,
    wishes: str | None,
    options: ReplanOptions | None = None,
) -> Trip:
    """Re-plan day ``day_number`` (1-based) of ``trip`` for ``uid`` with the planner; counted against the plan
    quota. Returns the stored trip."""
    check_replannable(trip, day_number, options, deps)
    session = PlanningSession.admit(
        deps.firestore, deps.settings, deps.clock, user_id=uid, trip_id=trip.id, kind="replan"
    )
    return replan_admitted(deps, trip, uid, day_number, wishes, session, options=options)


def check_replannable(
    trip: Trip, day_number: int, options: ReplanOptions | None = None, deps: PlanningDeps | None = None
) -> None:
    """409 unless the trip is ready, 404 without that day, 400 listing every problem of ``options``."""
    if trip.status != "ready":
        raise Conflict("only a ready trip can be re-planned", details=[{"status": trip.status}])
    if day_number > len(trip.days):
        raise NotFound("no such day", details=[{"field": "day", "message": f"the trip has days 1 to {len(trip.days)}"}])
    if options is not None and deps is not None:
        check_options(trip, day_number, options, deps.settings)


def replan_admitted(
    deps: PlanningDeps,
    trip: Trip,
    uid: str,
    day_number: int,
    wishes: str | None,
    session: PlanningSession,
    replanning: Replanning | None = None,
    options: ReplanOptions | None = None,
) -> Trip:
    """Re-plan the day in an admitted ``session`` and store it if the trip did not change meanwhile; with
    ``replanning`` (an asynchronous re-plan), the stored trip's ``replanning`` becomes it, marked ``done``."""
    try:
        replanned = replanned_fields(trip, day_number - 1, wishes, deps, options)
    except Exception as error:
        session.fail(failure_cause(error).failure, None)
        raise
    new_day = replanned.days[day_number - 1]

    def update(current: Trip | None) -> tuple[Trip, tuple[str, ...]]:
        access.authorize(current, uid, "replan")
        assert current is not None
        if current.version != trip.version:
            raise Conflict("the trip changed while the day was re-planned; try again")
        changed = {name: getattr(replanned, name) for name in REPLANNED_FIELDS}
        changed.update(
            enrichment=_with_enrichment_baseline(current, new_day),
            version=trip.version + 1,
            updated_at=deps.clock(),
        )
        if replanning is None:
            return current.model_copy(update=changed), REPLANNED_FIELDS
        changed["replanning"] = replanning.model_copy(
            update={"status": "done", "updated_at": deps.clock(), "changes": new_day.changes}
        )
        return current.model_copy(update=changed), (*REPLANNED_FIELDS, "replanning")

    try:
        stored = store.update_trip(deps.firestore, trip.id, update)
    except Exception as error:
        session.fail(failure_cause(error).failure, replanned.planner)
        raise
    session.finish(replanned.planner)
    return stored
