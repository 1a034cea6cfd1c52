"""Whether a Maps result is the place someone named (model output, user edits)."""

from __future__ import annotations

GENERIC_NAME_WORDS = frozenset(
    [
        "temple",
        "shrine",
        "church",
        "cathedral",
        "mosque",
        "museum",
        "park",
        "garden",
        "gardens",
        "market",
        "restaurant",
        "cafe",
        "hotel",
        "tower",
        "palace",
        "castle",
        "house",
        "gallery",
        "square",
        "street",
        "station",
        "bridge",
        "the",
        "and",
        "of",
        "la",
        "le",
        "les",
        "el",
        "los",
        "de",
        "del",
        "di",
        "da",
        "das",
        "der",
        "die",
    ]
)


def _name_words(name: str) -> set[str]:
    words = "".join(ch if ch.isalnum() else " " for ch in name.casefold()).split()
    return {word for word in words if len(word) > 2 and word not in GENERIC_NAME_WORDS}


def names_match(wanted: str, found: str) -> bool:
    """Whether a Maps result plausibly is the place named: one name contains the other, or they share a
    distinctive word (generic words such as "temple" or "museum" do not count)."""
    a, b = " ".join(wanted.casefold().split()), " ".join(found.casefold().split())
    return a in b or b in a or bool(_name_words(wanted) & _name_words(found))
