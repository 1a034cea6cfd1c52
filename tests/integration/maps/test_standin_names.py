"""Names in every language, as Google answers them: the real places_v1 client (REST) against a private Maps stand-in
on a free port, serving the bundled catalogue. A landmark is found by its English name as well as by its local one;
``displayName`` follows the request's ``languageCode``. Then the planner's own lookup (MapsToolBox.find and
names_match, asking in English) on the same server. The local stack is not needed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.maps import places_v1

from common.domain.maps import MapsConfig, MapsService, MapsUsage, build_places_client, build_routes_client
from common.domain.maps.names import names_match
from common.foundation.config import load_settings
from common.services.planning.toolbox import MapsToolBox
from scripts.maps_standin.loader import (
    DEFAULT_CATALOGUE_DIR,
    ENGLISH,
    LANDMARK_CATEGORIES,
    CataloguePlace,
    City,
    load_catalogue,
)
from tests.integration.support import maps_standin

API_KEY = "names-test-key"
SEARCH_MASK = "places.id,places.displayName"
DETAILS_MASK = "id,displayName"
BIAS_RADIUS_M = 30_000.0  # every catalogue place is within 30 km of its city centre
PLANNER_RADIUS_M = 50_000.0  # what planning uses with the default search radius (50 km)
CATALOGUE = load_catalogue(DEFAULT_CATALOGUE_DIR)


def _landmarks(city_id: str) -> list[CataloguePlace]:
    return [place for place in CATALOGUE.places_of(city_id) if place.category in LANDMARK_CATEGORIES]


def _english_name(place: CataloguePlace) -> str:
    text, language = place.names.in_language(ENGLISH)
    assert language == ENGLISH, f"{place.id} has no English name"
    return text


@pytest.fixture(autouse=True)
def integration_env() -> dict[str, str]:
    """Overrides the package-wide fixture: these tests talk only to their own Maps stand-in, not to the stack."""
    return {}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with maps_standin(api_key=API_KEY) as url:
        yield url


@pytest.fixture(scope="module")
def places(endpoint: str) -> places_v1.PlacesClient:
    return places_v1.PlacesClient(transport="rest", client_options={"api_endpoint": endpoint, "api_key": API_KEY})


def _search(
    places: places_v1.PlacesClient, text: str, language: str, near: City | None = None
) -> list[places_v1.Place]:
    request = places_v1.SearchTextRequest(text_query=text, language_code=language)
    if near is not None:
        request.location_bias = places_v1.SearchTextRequest.LocationBias(
            circle=places_v1.Circle(
                center={"latitude": near.center.lat, "longitude": near.center.lng}, radius=BIAS_RADIUS_M
            )
        )
    response = places.search_text(request=request, metadata=[("x-goog-fieldmask", SEARCH_MASK)], retry=None)
    return list(response.places)


def _details(places: places_v1.PlacesClient, place_id: str, language: str) -> tuple[str, str]:
    request = places_v1.GetPlaceRequest(name=f"places/{place_id}", language_code=language)
    place = places.get_place(request=request, metadata=[("x-goog-fieldmask", DETAILS_MASK)], retry=None)
    return place.display_name.text, place.display_name.language_code


def _shown(found: list[places_v1.Place]) -> list[tuple[str, str]]:
    return [(place.id, place.display_name.text) for place in found[:3]]


@pytest.mark.parametrize("city_id", sorted(CATALOGUE.cities))
def test_every_landmark_is_found_first_by_its_english_name(places: places_v1.PlacesClient, city_id: str) -> None:
    city = CATALOGUE.cities[city_id]
    landmarks = _landmarks(city_id)
    assert len(landmarks) >= 21, "the category minimums give every city at least 21 landmarks"
    wrong = []
    for place in landmarks:
        english = _english_name(place)
        found = _search(places, english, "en", near=city)
        first = found[0] if found else None
        if first is None or first.id != place.id:
            wrong.append(f"{english!r} ({place.id}) found {_shown(found)}")
        elif (first.display_name.text, first.display_name.language_code) != (english, "en"):
            wrong.append(f"{english!r} ({place.id}) shown as {first.display_name}")
    assert wrong == []


@pytest.mark.parametrize(
    ("query", "place_id", "english", "local_language", "local"),
    [
        ("Colosseum", "rome-colosseum", "Colosseum", "it", "Colosseo"),
        ("St. Peter's Basilica", "rome-st-peters-basilica", "St. Peter's Basilica", "it", "Basilica di San Pietro"),
        ("St Peters Basilica", "rome-st-peters-basilica", "St. Peter's Basilica", "it", "Basilica di San Pietro"),
        ("Saint Peter’s basilica", "rome-st-peters-basilica", "St. Peter's Basilica", "it", "Basilica di San Pietro"),
        ("Sagrada Familia", "barcelona-sagrada-familia", "Sagrada Família", "ca", "Basílica de la Sagrada Família"),
        ("sagrada família", "barcelona-sagrada-familia", "Sagrada Família", "ca", "Basílica de la Sagrada Família"),
    ],
)
def test_a_landmark_is_found_by_its_common_english_name(
    places: places_v1.PlacesClient, query: str, place_id: str, english: str, local_language: str, local: str
) -> None:
    found = _search(places, query, "en")  # no city in the text and no bias: the name alone is enough
    assert found, query
    assert found[0].id == place_id
    assert (found[0].display_name.text, found[0].display_name.language_code) == (english, "en")
    assert _details(places, place_id, "en") == (english, "en")
    assert _details(places, place_id, local_language) == (local, local_language)
    in_local = _search(places, local, local_language)
    assert in_local[0].id == place_id
    assert (in_local[0].display_name.text, in_local[0].display_name.language_code) == (local, local_language)


def test_display_names_fall_back_to_english_then_to_the_local_name(places: places_v1.PlacesClient) -> None:
    assert _details(places, "rome-colosseum", "de") == ("Colosseum", "en"), "no German name: English"
    assert _details(places, "rome-colosseum", "it-CH") == ("Colosseo", "it"), "a regional tag takes its language"
    assert _details(places, "tokyo-sensoji", "ja") == ("浅草寺", "ja")
    assert _details(places, "tokyo-sensoji", "en-GB") == ("Senso-ji", "en")
    assert _details(places, "paris-le-procope", "en") == ("Le Procope", "fr"), "no English name: the local one"
    assert _details(places, "city-rome", "it") == ("Roma", "it")
    assert _details(places, "city-rome", "en") == ("Rome", "en")


def test_a_name_in_another_script_finds_the_place_shown_in_the_asked_language(places: places_v1.PlacesClient) -> None:
    (sensoji, *_) = _search(places, "浅草寺", "en")
    assert (sensoji.id, sensoji.display_name.text) == ("tokyo-sensoji", "Senso-ji")
    (bazaar, *_) = _search(places, "Kapalicarsi", "en")  # Kapalıçarşı typed without its Turkish letters
    assert (bazaar.id, bazaar.display_name.text) == ("istanbul-grand-bazaar", "Grand Bazaar")
    (pantheon, *_) = _search(places, "Pantheon", "en", near=CATALOGUE.cities["paris"])
    assert (pantheon.id, pantheon.display_name.text) == ("paris-pantheon", "Panthéon")


def test_a_place_named_like_another_city_is_still_found(places: places_v1.PlacesClient) -> None:
    """ "Roma" is an alias of Rome; "Roma Norte" is a neighbourhood of Mexico City."""
    (found, *_) = _search(places, "Roma Norte", "en", near=CATALOGUE.cities["mexico-city"])
    assert found.id == "mexico-city-roma-norte"


@pytest.mark.parametrize("city_id", sorted(CATALOGUE.cities))
def test_the_planner_asking_in_english_resolves_every_landmark_by_its_english_name(endpoint: str, city_id: str) -> None:
    """What planning does with a name (a must-include, a model's proposal) when the trip is in English: a search near
    the destination, then the first result that ``names_match`` accepts."""
    settings = load_settings(maps_api_endpoint=endpoint, google_maps_api_key=API_KEY)
    maps = MapsService(MapsConfig.from_settings(settings), build_places_client(settings), build_routes_client(settings))
    usage = MapsUsage()
    destination = maps.resolve_destination(CATALOGUE.cities[city_id].name, language_code="en", usage=usage)
    assert destination.name == CATALOGUE.cities[city_id].names.in_language("en")[0]
    tools = MapsToolBox(maps, destination, language="en", radius_m=PLANNER_RADIUS_M, usage=usage)
    wrong = []
    for place in _landmarks(city_id):
        english = _english_name(place)
        found = tools.find(english, max_results=3)
        resolved = next((candidate for candidate in found if names_match(english, candidate.name)), None)
        if resolved is None or resolved.id != place.id or resolved.name != english:
            wrong.append(f"{english!r} ({place.id}) resolved to {resolved and (resolved.id, resolved.name)}")
    assert wrong == []
