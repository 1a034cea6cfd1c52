"""One fixture per validator rule that breaks exactly that rule, plus the clean plan it was derived from."""

from __future__ import annotations

import datetime as dt

import pytest

from common.domain.itinerary import (
    DayPlan,
    Itinerary,
    Leg,
    MealKind,
    PlanWarning,
    Preferences,
    Stop,
    TimeWindow,
    TravelMode,
    TripProblem,
    Violation,
    WarningCode,
    validate,
)
from tests.unit.itinerary.factories import MONDAY, daily_periods, place, problem

# Monday only; 800 m apart = 10 walking minutes. Moderate pace: 09:00-22:00, 5 sights (meals apart); lunch required
# only.
PLACES = [
    place("museum", 800, periods=daily_periods("10:00", "18:00", days=[1, 3, 4, 5, 6, 0]), cost=10),  # shut Tuesday
    place("park", 1600, cost=0),
    place("bistro", 2400, meals=[MealKind.LUNCH], category="restaurant", cost=20, visit_minutes=60),
    place("tower", 3200, cost=5),
]
PREFERENCES = Preferences(
    lunch_window=TimeWindow(start="11:30", end="14:30"), dinner_window=None, must_include_ids=["tower"]
)


def base_problem(**preference_changes: object) -> TripProblem:
    preferences = PREFERENCES.model_copy(update=preference_changes)
    return problem(PLACES, days=2, preferences=preferences)


def stop(place_id: str, arrive: str, depart: str, meal: MealKind | None = None) -> Stop:
    def minutes(text: str) -> int:
        hours, mins = text.split(":")
        return int(hours) * 60 + int(mins)

    return Stop(place_id=place_id, arrive_minute=minutes(arrive), depart_minute=minutes(depart), meal=meal)


def clean_days() -> list[DayPlan]:
    return [
        DayPlan(
            date=MONDAY,
            stops=[
                stop("museum", "10:00", "11:00"),
                stop("park", "11:10", "12:00"),
                stop("bistro", "12:10", "13:10", MealKind.LUNCH),
            ],
        ),
        DayPlan(
            date=MONDAY + dt.timedelta(days=1),
            stops=[stop("tower", "10:00", "11:00")],
        ),
    ]


def clean_plan(**changes: object) -> Itinerary:
    second_day_warning = PlanWarning(
        code=WarningCode.MEAL_MISSING, message="no lunch", day_index=1, meal=MealKind.LUNCH
    )
    plan = Itinerary(days=clean_days(), warnings=[second_day_warning])
    return plan.model_copy(update=changes)


def rules(found: list[Violation]) -> list[str]:
    return sorted({violation.rule for violation in found})


def test_clean_plan_has_no_violation() -> None:
    assert validate(base_problem(), clean_plan()) == []


def replace_day(index: int, day: DayPlan) -> Itinerary:
    days = clean_days()
    days[index] = day
    return clean_plan(days=days)


def test_stop_outside_opening_hours() -> None:
    day = clean_days()[0].model_copy(update={"stops": [stop("museum", "09:30", "10:30"), *clean_days()[0].stops[1:]]})
    assert rules(validate(base_problem(), replace_day(0, day))) == ["closed"]


def test_stop_on_a_closed_weekday() -> None:
    monday = clean_days()[0].model_copy(update={"stops": clean_days()[0].stops[1:]})
    tuesday = clean_days()[1].model_copy(
        update={"stops": [stop("tower", "10:00", "11:00"), stop("museum", "11:40", "12:30")]}
    )
    plan = clean_plan(days=[monday, tuesday])
    found = validate(base_problem(), plan)
    assert rules(found) == ["closed"]
    assert (found[0].day_index, found[0].stop_index) == (1, 1)


def test_overlapping_stops() -> None:
    day = clean_days()[0].model_copy(
        update={"stops": [stop("museum", "10:00", "11:00"), stop("park", "10:50", "12:00"), clean_days()[0].stops[2]]}
    )
    assert rules(validate(base_problem(), replace_day(0, day))) == ["overlap"]


def test_leg_shorter_than_the_matrix() -> None:
    day = clean_days()[0].model_copy(
        update={"stops": [stop("museum", "10:00", "11:00"), stop("park", "11:05", "12:00"), clean_days()[0].stops[2]]}
    )
    assert rules(validate(base_problem(), replace_day(0, day))) == ["travel_too_short"]


def test_day_window_exceeded_at_the_end() -> None:
    day = clean_days()[1].model_copy(update={"stops": [stop("tower", "20:00", "21:55")]})
    assert rules(validate(base_problem(), replace_day(1, day))) == ["day_window"]


def test_day_window_exceeded_at_the_start() -> None:
    day = clean_days()[1].model_copy(update={"stops": [stop("tower", "09:10", "10:00")]})
    assert rules(validate(base_problem(), replace_day(1, day))) == ["day_window"]


def test_more_stops_than_the_pace_allows() -> None:
    # Day 1 has two sights and a lunch: meals are not counted, so a cap of 1 sight is broken, a cap of 2 is not.
    assert rules(validate(base_problem(max_places_per_day=1), clean_plan())) == ["too_many_stops"]
    assert validate(base_problem(max_places_per_day=2), clean_plan()) == []


def test_a_stop_marked_as_a_meal_its_venue_does_not_serve_counts_as_a_sight() -> None:
    day = clean_days()[0].model_copy(
        update={"stops": [*clean_days()[0].stops[:2], stop("tower", "12:10", "13:10", MealKind.LUNCH)]}
    )
    plan = replace_day(0, day).model_copy(update={"days": [day, clean_days()[1].model_copy(update={"stops": []})]})
    assert "too_many_stops" in rules(validate(base_problem(max_places_per_day=2), plan))


def test_missing_meal_without_warning() -> None:
    assert rules(validate(base_problem(), clean_plan(warnings=[]))) == ["meal_missing"]


def test_meal_outside_its_window_does_not_count() -> None:
    day = clean_days()[0].model_copy(
        update={
            "stops": [
                stop("museum", "10:00", "11:00"),
                stop("park", "11:10", "12:00"),
                stop("bistro", "14:40", "15:40", MealKind.LUNCH),
            ]
        }
    )
    # The 160 minutes between the park and the late lunch are also an unexplained idle gap.
    assert rules(validate(base_problem(), replace_day(0, day))) == ["idle_gap", "meal_missing"]


def test_no_meal_required_when_the_day_barely_touches_the_window() -> None:
    short_day = TimeWindow(start="13:30", end="20:00")  # 60 minutes of lunch window < 90 required
    plan = clean_plan(days=[DayPlan(date=MONDAY, stops=[stop("park", "14:00", "15:00")])], warnings=[])
    assert validate(base_problem(day_window=short_day, must_include_ids=[]), plan) == []


def test_must_include_missing_without_warning() -> None:
    days = clean_days()
    days[1] = days[1].model_copy(update={"stops": []})
    assert rules(validate(base_problem(), clean_plan(days=days))) == ["must_include_missing"]


def test_must_include_missing_with_warning_is_accepted() -> None:
    days = clean_days()
    days[1] = days[1].model_copy(update={"stops": []})
    warning = PlanWarning(code=WarningCode.MUST_INCLUDE_DROPPED, message="closed", place_id="tower")
    plan = clean_plan(days=days, warnings=[*clean_plan().warnings, warning])
    assert validate(base_problem(), plan) == []


@pytest.mark.parametrize("avoid", [{"avoid_place_ids": ["park"]}, {"avoid_categories": ["attraction"]}])
def test_avoided_place_or_category(avoid: dict[str, list[str]]) -> None:
    found = validate(base_problem(**avoid), clean_plan())
    assert {violation.rule for violation in found} == {"avoided"}


def test_place_repeated() -> None:
    day = clean_days()[1].model_copy(
        update={"stops": [stop("tower", "10:00", "11:00"), stop("park", "11:20", "12:00")]}
    )
    found = validate(base_problem(), replace_day(1, day))
    assert rules(found) == ["place_repeated"]
    assert (found[0].day_index, found[0].stop_index) == (1, 1)


def test_budget_exceeded_without_warning() -> None:
    # Tickets 10 + 0 + 20 + 5 = 35 for one traveller; walking costs nothing.
    assert rules(validate(base_problem(budget_limit=30), clean_plan())) == ["budget_exceeded"]
    assert validate(base_problem(budget_limit=35), clean_plan()) == []


def test_budget_counts_travellers_and_transit_fares() -> None:
    transit_problem = base_problem(budget_limit=80, travellers=2).model_copy(
        update={
            "matrix": base_problem().matrix.model_copy(update={"mode": TravelMode.TRANSIT}),
            "transport_costs": base_problem().transport_costs.model_copy(
                update={"transit_fare_per_person_per_leg": 1.0}
            ),
        }
    )
    # 35 * 2 = 70 in tickets; 4 legs on day 1 + 2 on day 2 = 6 legs * 2 people = 12 in fares: 82 > 80.
    assert rules(validate(transit_problem, clean_plan())) == ["budget_exceeded"]


def test_budget_exceeded_with_warning_is_accepted() -> None:
    warning = PlanWarning(code=WarningCode.BUDGET_EXCEEDED, message="over")
    plan = clean_plan(warnings=[*clean_plan().warnings, warning])
    assert validate(base_problem(budget_limit=30), plan) == []


def test_date_outside_the_trip() -> None:
    days = [*clean_days(), DayPlan(date=MONDAY + dt.timedelta(days=5), stops=[])]
    assert rules(validate(base_problem(), clean_plan(days=days))) == ["date_outside_trip"]


def test_unknown_place() -> None:
    day = clean_days()[1].model_copy(
        update={"stops": [stop("tower", "10:00", "11:00"), stop("nowhere", "12:00", "13:00")]}
    )
    assert rules(validate(base_problem(), replace_day(1, day))) == ["unknown_place"]


def test_after_midnight_closing_counts_as_open_early_on_the_next_day() -> None:
    night_bar = place("bar", 800, periods=daily_periods("18:00", "02:00"), visit_minutes=60)
    night_problem = problem(
        [night_bar],
        preferences=Preferences(
            day_window=TimeWindow(start="00:00", end="24:00"), lunch_window=None, dinner_window=None
        ),
    )
    early = Itinerary(days=[DayPlan(date=MONDAY, stops=[stop("bar", "00:30", "01:30")])])
    late = Itinerary(days=[DayPlan(date=MONDAY, stops=[stop("bar", "01:30", "02:30")])])
    assert validate(night_problem, early) == []
    assert rules(validate(night_problem, late)) == ["closed"]


def test_leg_field_is_not_trusted_over_the_matrix() -> None:
    lying_leg = Leg(mode=TravelMode.WALK, minutes=1, metres=10)
    day = clean_days()[0].model_copy(
        update={
            "stops": [
                stop("museum", "10:00", "11:00"),
                stop("park", "11:02", "12:00").model_copy(update={"leg_from_previous": lying_leg}),
                clean_days()[0].stops[2],
            ]
        }
    )
    assert rules(validate(base_problem(), replace_day(0, day))) == ["travel_too_short"]
