"""Whether a Maps result is the place someone named (model output, must-includes, user edits): the one rule."""

from __future__ import annotations

import unicodedata

# Letters without a decomposition that people type as their plain form ("Topkapi" for "Topkapı").
_PLAIN_LETTERS = str.maketrans({"ı": "i", "œ": "oe", "æ": "ae", "ø": "o", "ł": "l"})

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


def casefolded(text: str) -> str:
    """Casefolded with spaces collapsed: the key under which a name is looked up or hashed (accents kept)."""
    return " ".join(text.casefold().split())


def _folded(name: str) -> str:
    """Casefolded, accents dropped (combining diacritical marks, U+0300-U+036F), spaces collapsed: "Zócalo" and
    "Zocalo" fold alike, as Google finds either. Marks belonging to other scripts (kana, Thai) stay."""
    decomposed = unicodedata.normalize("NFKD", name.casefold().translate(_PLAIN_LETTERS))
    stripped = "".join(ch for ch in decomposed if not 0x0300 <= ord(ch) <= 0x036F)
    return " ".join(unicodedata.normalize("NFC", stripped).split())


def _name_words(folded: str) -> set[str]:
    words = "".join(ch if ch.isalnum() else " " for ch in folded).split()
    return {word for word in words if len(word) > 2 and word not in GENERIC_NAME_WORDS}


def names_match(wanted: str, found: str) -> bool:
    """Whether a Maps result plausibly is the place named: one name contains the other, or they share a
    distinctive word (generic words such as "temple" or "museum" do not count); case and accents are ignored."""
    a, b = _folded(wanted), _folded(found)
    return a in b or b in a or bool(_name_words(a) & _name_words(b))
