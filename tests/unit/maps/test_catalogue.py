"""Checks of the bundled Maps stand-in catalogue (scripts/maps_standin/catalogue), and of the checker itself."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from scripts.maps_standin.loader import (
    CATEGORY_MINIMUMS,
    DEFAULT_CATALOGUE_DIR,
    EXPECTED_CITIES,
    LANDMARK_CATEGORIES,
    MIN_PLACES_PER_CITY,
    Names,
    check_catalogue,
    load_catalogue,
)
from scripts.maps_standin.travel_model import haversine_m

FIXTURE_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "maps_catalogue"


def test_all_twelve_cities_are_present() -> None:
    catalogue = load_catalogue(DEFAULT_CATALOGUE_DIR)
    assert sorted(catalogue.cities) == sorted(EXPECTED_CITIES)


def test_the_bundled_catalogue_has_no_problems() -> None:
    catalogue = load_catalogue(DEFAULT_CATALOGUE_DIR)
    assert check_catalogue(catalogue) == []


def test_every_city_has_enough_places_of_every_category() -> None:
    catalogue = load_catalogue(DEFAULT_CATALOGUE_DIR)
    for city_id in catalogue.cities:
        places = catalogue.places_of(city_id)
        assert len(places) >= MIN_PLACES_PER_CITY, city_id
        for category, minimum in CATEGORY_MINIMUMS.items():
            assert sum(1 for place in places if place.category == category) >= minimum, (city_id, category)


def test_every_place_is_within_30_km_of_its_city_centre() -> None:
    catalogue = load_catalogue(DEFAULT_CATALOGUE_DIR)
    for place in catalogue.places.values():
        city = catalogue.cities[place.city_id]
        assert haversine_m(city.center.lat, city.center.lng, place.location.lat, place.location.lng) <= 30_000, place.id


def test_every_landmark_has_an_english_name_and_every_entry_its_listed_name() -> None:
    catalogue = load_catalogue(DEFAULT_CATALOGUE_DIR)
    landmarks = [place for place in catalogue.places.values() if place.category in LANDMARK_CATEGORIES]
    assert len(landmarks) >= 21 * len(EXPECTED_CITIES)
    assert [place.id for place in landmarks if "en" not in place.names.by_language] == []
    for place in catalogue.places.values():
        assert place.names.own == place.name, place.id
    for city in catalogue.cities.values():
        assert city.names.own == city.name, city.id
    assert catalogue.places["rome-colosseum"].names.by_language == {"it": "Colosseo", "en": "Colosseum"}
    assert catalogue.cities["rome"].language == "it"


def test_a_file_without_languages_still_loads_with_one_english_name_per_entry() -> None:
    catalogue = load_catalogue(FIXTURE_DIR)
    assert catalogue.problems == []
    kyoto = catalogue.cities["kyoto"]
    assert (kyoto.language, kyoto.names.by_language) == ("en", {"en": "Kyoto"})
    for place in catalogue.places.values():
        assert place.names.by_language == {"en": place.name}


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ("it", ("Colosseo", "it")),
        ("IT", ("Colosseo", "it")),
        ("it-CH", ("Colosseo", "it")),
        ("pt", ("Coliseu", "pt-BR")),
        ("en-GB", ("Colosseum", "en")),
        ("de", ("Colosseum", "en")),
        (None, ("Colosseum", "en")),
    ],
)
def test_a_name_in_the_asked_language_else_its_base_language_else_english(
    requested: str | None, expected: tuple[str, str]
) -> None:
    names = Names({"it": "Colosseo", "en": "Colosseum", "pt-BR": "Coliseu"}, own_language="it")
    assert names.in_language(requested) == expected


def test_without_an_english_name_the_own_name_is_shown() -> None:
    names = Names({"fr": "Le Procope"}, own_language="fr")
    assert names.in_language("en") == ("Le Procope", "fr")
    assert names.in_language(None) == ("Le Procope", "fr")
    assert not names.has("en")
    assert Names({"en-GB": "Kew Gardens"}, own_language="en-GB").has("en")


def test_the_small_fixture_loads_and_only_lacks_size() -> None:
    catalogue = load_catalogue(FIXTURE_DIR)
    problems = check_catalogue(catalogue, expected_cities=("kyoto", "mexico-city"), min_places=3)
    assert catalogue.problems == []
    assert problems, "the fixture is deliberately below the category minimums"
    assert all("required" in problem or "restaurant" in problem for problem in problems)


def _broken_copy(tmp_path: Path, mutate: object) -> list[str]:
    target = tmp_path / "catalogue"
    shutil.copytree(FIXTURE_DIR, target)
    document = json.loads((target / "kyoto.json").read_text(encoding="utf-8"))
    mutate(document)  # type: ignore[operator]
    (target / "kyoto.json").write_text(json.dumps(document), encoding="utf-8")
    catalogue = load_catalogue(target)
    return check_catalogue(catalogue, expected_cities=("kyoto",), min_places=1)


def test_the_checker_finds_a_place_far_from_the_centre(tmp_path: Path) -> None:
    def move(document: dict) -> None:  # type: ignore[type-arg]
        document["places"][0]["location"] = {"lat": 34.69, "lng": 135.50}  # Osaka

    assert any("km from the centre" in problem for problem in _broken_copy(tmp_path, move))


def test_the_checker_finds_bad_hours(tmp_path: Path) -> None:
    def break_hours(document: dict) -> None:  # type: ignore[type-arg]
        document["places"][1]["hours"]["mon"] = ["9am-5pm"]
        document["places"][2]["hours"].pop("sun")

    problems = _broken_copy(tmp_path, break_hours)
    assert any("hours.mon" in problem for problem in problems)
    assert any("exactly the keys" in problem for problem in problems)


def test_the_checker_finds_duplicate_ids_across_files(tmp_path: Path) -> None:
    def duplicate(document: dict) -> None:  # type: ignore[type-arg]
        document["places"].append(dict(document["places"][0]))

    assert any("duplicate place id" in problem for problem in _broken_copy(tmp_path, duplicate))


def test_the_checker_wants_an_english_name_for_every_landmark(tmp_path: Path) -> None:
    def japanese_only(document: dict) -> None:  # type: ignore[type-arg]
        document["city"]["language"] = "ja"
        document["places"][1]["names"] = {"ja": "金閣寺", "en": document["places"][1]["name"]}

    problems = _broken_copy(tmp_path, japanese_only)
    landmarks_without_english = [problem for problem in problems if "needs an English name" in problem]
    assert landmarks_without_english, "the other landmarks are now named in Japanese only"
    assert not any(problem.startswith("kyoto-kinkakuji:") for problem in landmarks_without_english)


@pytest.mark.parametrize(
    ("names", "complaint"),
    [
        ({"ja": "金閣寺"}, "must include the name"),
        ({"English": "Kinkaku-ji"}, "not a language code"),
        ({"en": "Kinkaku-ji", "pt-BR": "Kinkaku-ji", "pt-br": "Kinkakuji"}, "given twice"),
        ({"en": "Kinkaku-ji", "ja": ""}, "non-empty string"),
        ([["en", "Kinkaku-ji"]], "non-empty object"),
    ],
)
def test_the_loader_refuses_bad_names(tmp_path: Path, names: object, complaint: str) -> None:
    def rename(document: dict) -> None:  # type: ignore[type-arg]
        document["places"][1]["names"] = names

    problems = _broken_copy(tmp_path, rename)
    assert any("kyoto-kinkakuji" in problem and complaint in problem for problem in problems), problems
