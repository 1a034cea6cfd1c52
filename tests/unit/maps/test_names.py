"""names_match: whether a Maps result is the place someone named."""

from __future__ import annotations

import pytest

from common.domain.maps.names import names_match


@pytest.mark.parametrize(
    ("wanted", "found"),
    [
        ("Colosseum", "Colosseum"),
        ("louvre", "Louvre Museum"),
        ("Fushimi Inari", "Fushimi Inari Taisha"),
        ("Zocalo", "Zócalo"),
        ("Park Guell", "Park Güell"),
        ("Topkapi Palace Museum", "Topkapı Palace Museum"),
        ("Coyoacan", "Coyoacán"),
        ("Pantheon", "Panthéon"),
        ("Sacre-Coeur", "Sacré-Cœur Basilica"),
        ("PANTHÉON", "panthéon"),
    ],
)
def test_the_same_place_matches_whatever_its_case_and_accents(wanted: str, found: str) -> None:
    assert names_match(wanted, found)
    assert names_match(found, wanted)


@pytest.mark.parametrize(
    ("wanted", "found"),
    [
        ("Temple of the Atlantean Kings", "Kiyomizu-dera Temple"),  # only a generic word in common
        ("Hyde Park", "The Regent's Park"),  # idem
        ("Zocalo", "Zoo"),
        ("ガイド", "カイト"),  # kana voicing marks are letters, not accents
    ],
)
def test_different_places_do_not_match(wanted: str, found: str) -> None:
    assert not names_match(wanted, found)
