"""A deterministic planner with no model: it searches Maps through the ToolBox and ranks what it finds.

- One search per interest (or "top sights", "museums", "parks" when there are none) and one per must-include; when
  those find fewer places than the days can hold, one general search ("top sights", else the next of
  ``TOP_UP_INTERESTS`` not asked already) tops them up (every search is billed). Places
  to eat: "vegetarian restaurants" first when the dietary wishes mention vegetarian or vegan, then "restaurants"
  and "cafes" until there are enough. At most ``MAX_SEARCHES`` searches in all.
- Candidates are ranked by rating x log(1 + number of ratings) (no rating ranks last); ties break on place id. Visits
  are picked round-robin across the interests, best first in each, so every interest is represented.
- A candidate whose name or category contains an "avoid" term is skipped; so is a duplicate place.
- Places to eat: when the dietary wishes mention vegetarian or vegan, places flagged ``serves_vegetarian_food`` come
  first (places without the flag are not penalised beyond that).
- Must-includes come first with priority 5; a must-include Maps cannot find is still proposed by name, without a
  place id (the caller resolves or drops it).
- Counts: ``candidate_targets`` (pace stops a day x days x 1.5 visits, 2 meals a day, at most 60 places).
- Day themes come from the most common visit categories; tips are generic and in English.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import Any, Literal

from common.domain.ai.deadline import Deadline
from common.domain.ai.models import (
    CANDIDATE_FACTOR,
    DAY_THEME_MAX_CHARS,
    DESCRIPTION_MAX_CHARS,
    MAX_PLACES,
    ModelUsage,
    Proposal,
    ProposedPlace,
    ToolBox,
    TripBrief,
    candidate_targets,
)
from common.domain.ai.sanitize import clean_description, clean_text, looks_like_injection
from common.domain.ai.tools import ERROR_UNAVAILABLE, SEARCH_PLACES, ToolRunner
from common.domain.needs import wants_vegetarian
from common.foundation.errors import UpstreamUnavailable
from common.foundation.log import get_logger

logger = get_logger(__name__)
PlaceKind = Literal["visit", "meal"]

DEFAULT_INTERESTS = ("top sights", "museums", "parks")
TOP_UP_INTERESTS = ("top sights", "museums", "parks", "viewpoints", "markets", "neighbourhoods")
MAX_SEARCHES = 20
MAX_INTEREST_SEARCHES = 8
MAX_TOP_UP_SEARCHES = 1
MAX_MUST_INCLUDES = 15
SEARCH_RESULTS = 20
SUMMARY_MAX_CHARS = 220
MEAL_WORDS = ("restaurant", "cafe", "café", "bakery", "food", "bistro", "brasserie", "diner", "eatery", "meal_")
OFFLINE_TIPS = (
    "Check opening hours before you go: they change with holidays and seasons.",
    "Book popular museums and attractions ahead; many sell timed tickets.",
    "Keep some time free each day for rest and for what you discover on the way.",
    "Check local public transport passes: they often cost less than single tickets.",
)


def score(place: dict[str, Any]) -> float:
    """Rating x log(1 + number of ratings); 0 without a rating."""
    rating = place.get("rating")
    count = place.get("user_rating_count")
    if isinstance(rating, bool) or not isinstance(rating, int | float) or not math.isfinite(rating):
        return 0.0
    ratings = count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 0
    return float(rating) * math.log1p(ratings)


def _ranked(places: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(places, key=lambda place: (-score(place), str(place.get("place_id", ""))))


def _text(place: dict[str, Any], key: str) -> str:
    value = place.get(key)
    return value if isinstance(value, str) else ""


def _is_meal(place: dict[str, Any]) -> bool:
    category = _text(place, "category").casefold()
    return any(word in category for word in MEAL_WORDS)


def _diet_rank(place: dict[str, Any], matched_diet: set[str]) -> int:
    """0: flagged vegetarian-friendly; 1: unflagged but found by the vegetarian search; 2: the rest."""
    flag = place.get("serves_vegetarian_food")
    if flag is True:
        return 0
    return 1 if flag is None and place["place_id"] in matched_diet else 2


def _humanize(category: str) -> str:
    words = category.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else ""


def describe(place: dict[str, Any]) -> str:
    """A plain description from Maps data: category, rating and a bounded summary."""
    parts: list[str] = []
    category = _humanize(_text(place, "category"))
    rating = place.get("rating")
    count = place.get("user_rating_count")
    if category:
        parts.append(category)
    if isinstance(rating, int | float) and not isinstance(rating, bool):
        rated = f"rated {rating:.1f}"
        if isinstance(count, int) and not isinstance(count, bool) and count > 0:
            rated += f" by {count:,} visitors"
        parts.append(rated)
    text = ", ".join(parts)
    text = text[:1].upper() + text[1:] + "." if text else ""
    summary = clean_text(_text(place, "summary"), SUMMARY_MAX_CHARS)
    if summary:
        text = f"{text} {summary}".strip()
    return clean_description(text[:DESCRIPTION_MAX_CHARS]) if text else ""


class OfflinePlanner:
    """Deterministic: the same brief and the same ToolBox answers give the same proposal."""

    name = "offline"

    def __init__(self, *, max_places_per_day: int = 8) -> None:
        self._max_places_per_day = max_places_per_day

    def propose(
        self, brief: TripBrief, tools: ToolBox, *, deadline: Deadline | None = None
    ) -> tuple[Proposal, ModelUsage]:
        """``deadline`` is accepted for the ``Planner`` protocol; the offline ranker makes no model calls."""
        usage = ModelUsage(provider="offline", model=None)
        runner = ToolRunner(tools, usage, max_results_limit=SEARCH_RESULTS)
        avoid = [term.casefold().strip() for term in brief.avoid if term.strip()]
        vegetarian = wants_vegetarian(brief.dietary)
        searches = 0
        unavailable = 0

        def search(query: str) -> list[dict[str, Any]]:
            nonlocal searches, unavailable
            searches += 1
            answer = runner.run(SEARCH_PLACES, {"query": query[:200], "max_results": SEARCH_RESULTS})
            if answer.get("error") == ERROR_UNAVAILABLE:
                unavailable += 1
            result = answer.get("result")
            return [place for place in result if isinstance(place, dict)] if isinstance(result, list) else []

        def allowed(place: dict[str, Any]) -> bool:
            name, category = _text(place, "name").casefold(), _text(place, "category").casefold()
            if not name or not _text(place, "place_id") or looks_like_injection(name):
                return False
            return not any(term in name or term in category for term in avoid)

        destination = " ".join(brief.destination.split())[:100]
        chosen: list[ProposedPlace] = []
        used_ids: set[str] = set()

        for request in [" ".join(item.split()) for item in brief.must_include[:MAX_MUST_INCLUDES]]:
            if not request:
                continue
            found = [place for place in search(f"{request} {destination}") if allowed(place)]
            found = [place for place in found if place["place_id"] not in used_ids]
            if found:
                best = found[0]
                used_ids.add(best["place_id"])
                kind: PlaceKind = "meal" if _is_meal(best) else "visit"
                chosen.append(self._proposed(best, priority=5, kind=kind, must_include=True))
            else:
                chosen.append(
                    ProposedPlace(
                        name=clean_text(request, 120),
                        kind="visit",
                        priority=5,
                        must_include=True,
                        description="Requested by the traveller.",
                    )
                )

        interests = [" ".join(item.split()) for item in brief.interests if item.strip()] or list(DEFAULT_INTERESTS)
        per_interest: list[list[dict[str, Any]]] = []
        meal_pool: list[dict[str, Any]] = []
        for interest in interests[:MAX_INTEREST_SEARCHES]:
            found = [place for place in search(f"{interest} in {destination}") if allowed(place)]
            per_interest.append(_ranked(place for place in found if not _is_meal(place)))
            meal_pool.extend(place for place in found if _is_meal(place))
        visits_wanted, meals_wanted = candidate_targets(brief, self._max_places_per_day)
        visits_wanted = max(0, visits_wanted - sum(1 for place in chosen if place.kind == "visit"))
        # Too few places for the interests to fill the days: widen with general searches, as a local friend would.
        # Each search is billed: at most ``MAX_TOP_UP_SEARCHES``, and none once the days could be filled (the 1.5
        # margin of ``candidate_targets`` is offered from what the searches found, not bought with more searches); a
        # search asked as an interest is not asked again, and meal venues a search finds feed the meal pool.
        days_can_hold = math.ceil(visits_wanted / CANDIDATE_FACTOR)
        top_up: list[list[dict[str, Any]]] = []
        asked = {interest.casefold() for interest in interests[:MAX_INTEREST_SEARCHES]}
        for extra in [extra for extra in TOP_UP_INTERESTS if extra not in asked][:MAX_TOP_UP_SEARCHES]:
            found_ids = {place["place_id"] for pool in per_interest + top_up for place in pool} - used_ids
            if len(found_ids) >= days_can_hold or searches >= MAX_SEARCHES:
                break
            found = [place for place in search(f"{extra} in {destination}") if allowed(place)]
            top_up.append(_ranked(place for place in found if not _is_meal(place)))
            meal_pool.extend(place for place in found if _is_meal(place))
        meal_queries = ["vegetarian restaurants", "restaurants"] if vegetarian else ["restaurants"]
        matched_diet: set[str] = set()
        for meal_query in [*meal_queries, "cafes"]:
            enough = len({place["place_id"] for place in meal_pool}) >= meals_wanted
            if (enough and not meal_query.startswith("vegetarian")) or searches >= MAX_SEARCHES:
                break
            found = [place for place in search(f"{meal_query} in {destination}") if allowed(place)]
            if meal_query.startswith("vegetarian"):
                matched_diet.update(place["place_id"] for place in found)
            meal_pool.extend(found)

        if searches and unavailable == searches:
            raise UpstreamUnavailable("Google Maps is unavailable: the offline planner found no places")
        visits = self._round_robin(per_interest, visits_wanted, used_ids)
        visits += self._round_robin(top_up, visits_wanted - len(visits), used_ids)
        for rank, place in enumerate(visits):
            priority = 4 if rank < len(visits) / 3 else 3 if rank < 2 * len(visits) / 3 else 2
            chosen.append(self._proposed(place, priority=priority, kind="visit"))

        meals = _ranked(meal_pool)
        if vegetarian:
            # Search results rarely carry the vegetarian flag: what the vegetarian search found counts as a match.
            meals.sort(key=lambda place: _diet_rank(place, matched_diet))
        meal_count = 0
        for place in meals:
            if meal_count >= meals_wanted:
                break
            if place["place_id"] in used_ids:
                continue
            used_ids.add(place["place_id"])
            chosen.append(self._proposed(place, priority=3, kind="meal"))
            meal_count += 1

        proposal = Proposal(
            places=chosen[:MAX_PLACES],
            day_themes=self._day_themes(visits, brief.days),
            tips=list(OFFLINE_TIPS),
        )
        logger.info(
            "offline proposal: %d places from %d searches",
            len(proposal.places),
            searches,
        )
        return proposal, usage

    @staticmethod
    def _round_robin(pools: list[list[dict[str, Any]]], wanted: int, used_ids: set[str]) -> list[dict[str, Any]]:
        picked: list[dict[str, Any]] = []
        positions = [0] * len(pools)
        while len(picked) < wanted:
            progressed = False
            for index, pool in enumerate(pools):
                while positions[index] < len(pool) and pool[positions[index]]["place_id"] in used_ids:
                    positions[index] += 1
                if positions[index] < len(pool) and len(picked) < wanted:
                    place = pool[positions[index]]
                    positions[index] += 1
                    used_ids.add(place["place_id"])
                    picked.append(place)
                    progressed = True
            if not progressed:
                break
        return picked

    @staticmethod
    def _proposed(
        place: dict[str, Any], *, priority: int, kind: PlaceKind, must_include: bool = False
    ) -> ProposedPlace:
        return ProposedPlace(
            name=clean_text(_text(place, "name"), 120),
            place_id=place["place_id"],
            kind=kind,
            priority=priority,
            description=describe(place),
            must_include=must_include,
        )

    @staticmethod
    def _day_themes(visits: list[dict[str, Any]], days: int) -> list[str]:
        counts = Counter(_humanize(_text(place, "category")) for place in visits)
        counts.pop("", None)
        dominant = [category for category, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
        if not dominant:
            return ["Explore the city"] * min(days, 31)
        themes: list[str] = []
        for day in range(min(days, 31)):
            first = dominant[(2 * day) % len(dominant)]
            second = dominant[(2 * day + 1) % len(dominant)]
            theme = first if first == second else f"{first} and {second.lower()}"
            themes.append(clean_text(theme, DAY_THEME_MAX_CHARS))
        return themes
