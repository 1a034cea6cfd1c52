"""The stand-in's answers on the small fixture catalogue, called in process (no HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from scripts.maps_standin import places_api, routes_api
from scripts.maps_standin.fieldmask import FieldMaskError, apply_mask, parse_mask
from scripts.maps_standin.loader import DEFAULT_CATALOGUE_DIR, Catalogue, load_catalogue

FIXTURE_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "maps_catalogue"
WEDNESDAY_NOON_JST = datetime(2025, 6, 4, 3, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(FIXTURE_DIR)


def _search(catalogue: Catalogue, now: datetime = WEDNESDAY_NOON_JST, **body: object) -> list[dict[str, object]]:
    answer = places_api.search_text(catalogue, places_api.parse_search_request(body), now)
    return list(answer.get("places", []))


@pytest.mark.parametrize("text", ["Kyoto", "京都", "kyoto, japan"])
def test_a_city_name_alone_gives_the_locality(catalogue: Catalogue, text: str) -> None:
    (locality,) = _search(catalogue, textQuery=text)
    assert locality["primaryType"] == "locality"
    assert locality["timeZone"] == {"id": "Asia/Tokyo"}
    assert locality["utcOffsetMinutes"] == 540


def test_accents_and_native_names_match(catalogue: Catalogue) -> None:
    (locality,) = _search(catalogue, textQuery="Ciudad de Mexico")
    assert locality["id"] == "city-mexico-city"
    assert locality["utcOffsetMinutes"] == -360


def test_search_filters(catalogue: Catalogue) -> None:
    museums = _search(catalogue, textQuery="museums in Kyoto")
    assert [place["id"] for place in museums] == ["kyoto-national-museum"]
    cheap = _search(catalogue, textQuery="Kyoto", includedType="tourist_attraction", priceLevels=[1], minRating=4.4)
    assert {place["id"] for place in cheap} == {"kyoto-fushimi-inari"}
    open_now = {
        place["id"] for place in _search(catalogue, textQuery="Kyoto", includedType="tourist_attraction", openNow=True)
    }
    assert "kyoto-national-museum" in open_now
    monday = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
    closed = {
        place["id"] for place in _search(catalogue, monday, textQuery="Kyoto", includedType="museum", openNow=True)
    }
    assert closed == set()


def test_paging_with_next_page_token(catalogue: Catalogue) -> None:
    request = {"textQuery": "Kyoto", "includedType": "tourist_attraction", "pageSize": 2}
    first = places_api.search_text(catalogue, places_api.parse_search_request(request), WEDNESDAY_NOON_JST)
    token = first["nextPageToken"]
    second = places_api.search_text(
        catalogue, places_api.parse_search_request({**request, "pageToken": token}), WEDNESDAY_NOON_JST
    )
    seen = [place["id"] for place in first["places"] + second["places"]]
    assert len(seen) == len(set(seen)) == 4
    with pytest.raises(places_api.SearchError):
        places_api.parse_search_request({"textQuery": "other", "pageToken": token})


def test_location_restriction(catalogue: Catalogue) -> None:
    box = {
        "rectangle": {"low": {"latitude": 35.0, "longitude": 135.75}, "high": {"latitude": 35.02, "longitude": 135.785}}
    }
    found = {
        place["id"]
        for place in _search(catalogue, textQuery="Kyoto", includedType="tourist_attraction", locationRestriction=box)
    }
    assert found == {"kyoto-nishiki-market", "kyoto-gion", "kyoto-maruyama-park"}


def test_hours_after_midnight_close_on_the_next_day(catalogue: Catalogue) -> None:
    place = catalogue.places["kyoto-bar-k6"]
    hours = places_api.opening_hours_json(place, WEDNESDAY_NOON_JST, "Asia/Tokyo")
    saturday = [period for period in hours["periods"] if period["open"]["day"] == 6]
    assert saturday == [{"open": {"day": 6, "hour": 17, "minute": 0}, "close": {"day": 0, "hour": 2, "minute": 0}}]
    sunday_1am_jst = datetime(2025, 6, 7, 16, 0, tzinfo=UTC)
    assert places_api.is_open(place, sunday_1am_jst, "Asia/Tokyo")
    assert not places_api.is_open(place, WEDNESDAY_NOON_JST, "Asia/Tokyo")


def test_matrix_limits_and_unreachable_pairs(catalogue: Catalogue) -> None:
    def waypoint(place_id: str) -> dict[str, object]:
        return {"waypoint": {"placeId": place_id}}

    body = {
        "origins": [waypoint("kyoto-gion"), waypoint("mexico-city-zocalo")],
        "destinations": [waypoint("kyoto-kinkakuji")],
        "travelMode": 3,
    }
    gion, zocalo = routes_api.compute_route_matrix(catalogue, body)
    assert gion["condition"] == "ROUTE_EXISTS"
    assert zocalo["condition"] == "ROUTE_NOT_FOUND"
    too_big = {
        "origins": [waypoint("kyoto-gion")] * 11,
        "destinations": [waypoint("kyoto-gion")] * 10,
        "travelMode": "TRANSIT",
    }
    with pytest.raises(routes_api.RoutesError, match="at most 100"):
        routes_api.compute_route_matrix(catalogue, too_big)


def test_field_masks() -> None:
    tree = parse_mask("places.id,places.displayName.text")
    answer = {
        "places": [{"id": "a", "displayName": {"text": "A", "languageCode": "en"}, "rating": 4.0}],
        "nextPageToken": "t",
    }
    assert apply_mask(answer, tree) == {"places": [{"id": "a", "displayName": {"text": "A"}}]}
    assert apply_mask(answer, parse_mask("*")) == answer
    with pytest.raises(FieldMaskError):
        parse_mask(None)


@pytest.mark.parametrize(
    ("typed", "listed"),
    [
        ("St Peters Basilica", "St. Peter's Basilica"),
        ("st peter’s basilica", "St. Peter's Basilica"),
        ("Sagrada Familia", "Sagrada Família"),
        ("SACRE COEUR", "Sacré-Cœur"),
        ("Kapalicarsi", "Kapalıçarşı"),
        ("istiklal caddesi", "İstiklal Caddesi"),
        ("Tokyo", "Tōkyō"),
        ("ＫＹＯＴＯ", "Kyoto"),
    ],
)
def test_normalise_ignores_case_accents_apostrophes_and_punctuation(typed: str, listed: str) -> None:
    assert places_api.normalise(typed) == places_api.normalise(listed)


def test_normalise_keeps_the_marks_that_are_letters_of_their_script() -> None:
    assert places_api.normalise("ガイド") == "ガイド" != places_api.normalise("カイト")
    assert places_api.normalise("วัดโพธิ์") == "วัดโพธิ์"


def test_a_name_is_found_with_or_without_its_apostrophes_and_hyphens() -> None:
    assert set(places_api.name_forms("Musée de l'Orangerie")) == {"musee de lorangerie", "musee de l orangerie"}
    assert "sensoji" in places_api.name_forms("Senso-ji")


@pytest.fixture(scope="module")
def bundled() -> Catalogue:
    return load_catalogue(DEFAULT_CATALOGUE_DIR)


def _first(catalogue: Catalogue, text: str, language: str | None = "en") -> tuple[object, object]:
    found = _search(catalogue, textQuery=text, languageCode=language)
    assert found, text
    return found[0]["id"], found[0]["displayName"]


@pytest.mark.parametrize(
    ("text", "language", "place_id", "display_name"),
    [
        ("Colosseum", "en", "rome-colosseum", {"text": "Colosseum", "languageCode": "en"}),
        ("Colosseo", "en", "rome-colosseum", {"text": "Colosseum", "languageCode": "en"}),
        ("Colosseum", "it", "rome-colosseum", {"text": "Colosseo", "languageCode": "it"}),
        ("Colosseum", None, "rome-colosseum", {"text": "Colosseum", "languageCode": "en"}),
        (
            "Saint Peter's Basilica",
            "en",
            "rome-st-peters-basilica",
            {"text": "St. Peter's Basilica", "languageCode": "en"},
        ),
        ("Sensoji", "ja", "tokyo-sensoji", {"text": "浅草寺", "languageCode": "ja"}),
        (
            "東京都庁",
            "en",
            "tokyo-metropolitan-government-building",
            {"text": "Tokyo Metropolitan Government Building Observatories", "languageCode": "en"},
        ),
        ("Le Procope", "en", "paris-le-procope", {"text": "Le Procope", "languageCode": "fr"}),
    ],
)
def test_search_matches_every_name_and_shows_the_asked_language(
    bundled: Catalogue, text: str, language: str | None, place_id: str, display_name: dict[str, str]
) -> None:
    assert _first(bundled, text, language) == (place_id, display_name)


def test_an_exact_name_comes_before_places_that_only_share_its_words(bundled: Catalogue) -> None:
    found = [place["id"] for place in _search(bundled, textQuery="Tokyo National Museum", languageCode="en")]
    assert found[0] == "tokyo-national-museum"
    assert "tokyo-national-museum-of-western-art" in found, "it holds every word of the query too"


def test_a_place_named_like_another_city_is_found(bundled: Catalogue) -> None:
    assert _first(bundled, "Roma Norte")[0] == "mexico-city-roma-norte"
    assert _first(bundled, "Roma")[0] == "city-rome"


def test_the_locality_is_named_in_the_asked_language(bundled: Catalogue) -> None:
    assert _first(bundled, "Rome", "it") == ("city-rome", {"text": "Roma", "languageCode": "it"})
    assert _first(bundled, "Kyoto", "ja-JP") == ("city-kyoto", {"text": "京都市", "languageCode": "ja"})
    assert _first(bundled, "京都", "en") == ("city-kyoto", {"text": "Kyoto", "languageCode": "en"})
