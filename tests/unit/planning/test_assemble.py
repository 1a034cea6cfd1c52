from __future__ import annotations

from common.services.planning.assemble import _derived_theme, _matching_theme


def test_a_proposed_theme_is_used_only_for_the_day_it_fits() -> None:
    themes = ["Gardens and tea houses", "Temples of the eastern hills"]
    used: set[int] = set()
    day_one = _matching_theme(themes, used, ["religious_site", "religious_site"], ["Kiyomizu-dera", "Temples walk"])
    assert day_one == "Temples of the eastern hills"
    day_two = _matching_theme(themes, used, ["religious_site"], ["Another temple"])
    assert day_two is None, "a theme is not used twice"
    assert _matching_theme(themes, used, ["park"], ["Imperial gardens"]) == "Gardens and tea houses"


def test_derived_theme_names_the_dominant_categories_but_not_meals() -> None:
    assert _derived_theme(["museum", "restaurant", "museum", "park", "cafe"]) == "Museums and parks"
    assert _derived_theme(["restaurant", "cafe"]) == "The city"
