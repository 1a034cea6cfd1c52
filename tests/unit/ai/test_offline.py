"""The offline planner: deterministic ranking over the ToolBox, no model."""

from __future__ import annotations

import pytest

from common.domain.ai.models import candidate_targets
from common.domain.ai.offline import DEFAULT_INTERESTS, OfflinePlanner, score
from common.foundation.errors import UpstreamUnavailable
from tests.unit.ai.fakes import CatalogueEntry, FakeToolBox, make_brief


def test_same_brief_and_answers_give_the_same_proposal() -> None:
    brief = make_brief(interests=["museums", "parks", "sights"], must_include=["Eiffel Tower"])
    first, _ = OfflinePlanner().propose(brief, FakeToolBox())
    second, _ = OfflinePlanner().propose(brief, FakeToolBox())
    assert first.model_dump() == second.model_dump()


def test_usage_says_offline_without_a_model() -> None:
    tools = FakeToolBox()
    _, usage = OfflinePlanner().propose(make_brief(), tools)
    assert usage.provider == "offline"
    assert usage.model is None
    assert usage.llm_calls == 0
    assert usage.function_calls == len(tools.calls) > 0
    assert [entry["tool"] for entry in usage.tool_log] == tools.tool_names()


def test_candidates_rank_by_rating_times_log_count_within_an_interest() -> None:
    one_day = make_brief(interests=["parks"], end_date=make_brief().start_date)
    tools = FakeToolBox()
    proposal, _ = OfflinePlanner().propose(one_day, tools)
    visits = [place.place_id for place in proposal.places if place.kind == "visit"]
    # 4 stops x 1 day x 1.5 = 6 wanted; 5 parks exist, more than the day's 4 stops can hold, so no general search
    # is bought to top them up (issue 13: every search is billed); the unrated one comes last.
    assert visits == ["park_luxembourg", "park_tuileries", "park_buttes", "park_vincennes", "park_unrated"]
    queries = [args[0] for name, args in tools.calls if name == "search_places"]
    assert not any(query.startswith(("top sights", "museums", "viewpoints")) for query in queries)
    assert score({"rating": 4.7, "user_rating_count": 100000}) > score({"rating": 4.8, "user_rating_count": 100})
    assert score({"rating": None}) == 0.0


def test_visits_alternate_between_interests() -> None:
    proposal, _ = OfflinePlanner().propose(make_brief(interests=["museums", "parks"]), FakeToolBox())
    visits = [place.place_id or "" for place in proposal.places if place.kind == "visit"]
    assert visits[:4] == ["museum_louvre", "park_luxembourg", "museum_orsay", "park_tuileries"]


def test_avoided_names_and_categories_are_never_proposed() -> None:
    brief = make_brief(interests=["sights", "museums"], avoid=["church", "Louvre", "night_club"])
    proposal, _ = OfflinePlanner().propose(brief, FakeToolBox())
    ids = {place.place_id for place in proposal.places}
    assert ids.isdisjoint({"sight_notre", "sight_sacre", "museum_louvre", "night_club"})
    assert "museum_orsay" in ids


def test_must_includes_come_first_with_top_priority() -> None:
    brief = make_brief(must_include=["Eiffel Tower", "Café de Flore", "Nowhere Palace"])
    proposal, _ = OfflinePlanner().propose(brief, FakeToolBox())
    first_three = proposal.places[:3]
    assert [place.place_id for place in first_three] == ["sight_eiffel", "food_cafe", None]
    assert [place.kind for place in first_three] == ["visit", "meal", "visit"]
    assert all(place.must_include and place.priority == 5 for place in first_three)
    assert first_three[2].name == "Nowhere Palace"
    assert not any(place.must_include for place in proposal.places[3:])
    assert all(place.priority < 5 for place in proposal.places[3:])


@pytest.mark.parametrize(("pace", "days"), [("relaxed", 1), ("moderate", 2), ("packed", 3)])
def test_candidate_counts_follow_pace_and_days(pace: str, days: int) -> None:
    start = make_brief().start_date
    brief = make_brief(pace=pace, start_date=start, end_date=start.replace(day=start.day + days - 1))
    visits_wanted, meals_wanted = candidate_targets(brief)
    proposal, _ = OfflinePlanner().propose(brief, FakeToolBox(entries=_big_catalogue()))
    assert sum(place.kind == "visit" for place in proposal.places) == visits_wanted
    assert sum(place.kind == "meal" for place in proposal.places) == meals_wanted
    assert len(proposal.day_themes) == days
    assert len({place.place_id for place in proposal.places}) == len(proposal.places)


def test_candidate_targets_stay_within_sixty_places() -> None:
    start = make_brief().start_date
    brief = make_brief(pace="packed", start_date=start, end_date=start.replace(day=start.day + 20))
    visits, meals = candidate_targets(brief)
    assert visits + meals == 60
    assert meals >= brief.days


def test_vegetarian_places_are_preferred_for_meals() -> None:
    proposal, _ = OfflinePlanner().propose(make_brief(dietary=["Vegetarian"]), FakeToolBox())
    meals = [place.place_id for place in proposal.places if place.kind == "meal"]
    assert meals[:2] == ["food_veg", "food_green"]
    plain, _ = OfflinePlanner().propose(make_brief(), FakeToolBox())
    assert next(place.place_id for place in plain.places if place.kind == "meal") == "food_steak"


def test_default_interests_are_searched_when_none_are_given() -> None:
    tools = FakeToolBox()
    proposal, _ = OfflinePlanner().propose(make_brief(interests=[]), tools)
    queries = [args[0] for name, args in tools.calls if name == "search_places"]
    assert queries[: len(DEFAULT_INTERESTS)] == [f"{interest} in Paris" for interest in DEFAULT_INTERESTS]
    assert any(place.place_id == "sight_eiffel" for place in proposal.places)


def test_descriptions_are_built_from_maps_data() -> None:
    proposal, _ = OfflinePlanner().propose(make_brief(interests=["museums"]), FakeToolBox())
    louvre = next(place for place in proposal.places if place.place_id == "museum_louvre")
    assert louvre.description == "Museum, rated 4.7 by 300,000 visitors."
    assert proposal.tips
    assert all(len(tip) <= 200 for tip in proposal.tips)
    # The museums search finds too few places for two days: top-up searches add parks and sights, and the themes
    # follow the categories chosen, most common first.
    assert proposal.day_themes[0].startswith("Museum and ")
    assert len(proposal.day_themes) == 2


def test_maps_down_everywhere_is_unavailable() -> None:
    with pytest.raises(UpstreamUnavailable):
        OfflinePlanner().propose(make_brief(), FakeToolBox(unavailable=True))


def _big_catalogue() -> list[CatalogueEntry]:
    entries = []
    for index in range(40):
        entries += [
            CatalogueEntry(f"m{index:02d}", f"Museum {index}", "museum", 4.0, 100 + index, ("museums",)),
            CatalogueEntry(f"p{index:02d}", f"Park {index}", "park", 4.2, 50 + index, ("parks",)),
            CatalogueEntry(f"r{index:02d}", f"Resto {index}", "restaurant", 4.1, 10 + index, ("restaurants",)),
        ]
    return entries
