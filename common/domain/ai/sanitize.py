"""Cleaning model output before anything else sees it.

Rules, applied to every text of a proposal (names, descriptions, day themes, tips):

1. Unicode is normalized to NFC; control characters (C0/C1), bidirectional overrides and zero-width spaces are
   removed; runs of whitespace collapse to one space; the text is trimmed.
2. Texts are cut to their bound (``models``: name 120, description 400, day theme 80, tip 200), on a word boundary
   when one is near, ending with an ellipsis.
3. Descriptions, day themes and tips lose markup and links: HTML/XML tags ``<...>``, Markdown images and links
   (the link text is kept), bare URLs (``http://``, ``https://``, ``www.``) and script schemes (``javascript:``,
   ``vbscript:``, ``data:``).
4. A description that reads like an instruction to a model (``ignore previous instructions``, ``system prompt``,
   ``you are now``, ``developer mode``, role markers...) is replaced by a neutral text; such a day theme or tip is
   dropped; such a place name drops the place.
5. Structure is bounded: at most 60 places (must-includes kept first), 31 day themes (and no more than the trip's
   days), 6 tips; duplicate places (same place id, or same name ignoring case) are merged; priorities are clamped to
   1..5. Anything else that does not fit the schema (missing name, unknown kind...) is a validation error.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from common.domain.ai.models import (
    DAY_THEME_MAX_CHARS,
    DESCRIPTION_MAX_CHARS,
    MAX_DAY_THEMES,
    MAX_PLACES,
    MAX_TIPS,
    NAME_MAX_CHARS,
    PLACE_ID_MAX_CHARS,
    TIP_MAX_CHARS,
    Proposal,
    ProposedPlace,
    TripBrief,
)

NEUTRAL_DESCRIPTION = "A suggested stop for this trip."
ELLIPSIS = "…"


def _invisible_characters() -> dict[int, str | None]:
    """Rule 1's table: whitespace controls become spaces (then collapse), other invisible characters disappear."""
    table: dict[int, str | None] = {}
    for code in [*range(0x00, 0x20), *range(0x7F, 0xA0)]:
        table[code] = " " if chr(code) in "\t\n\r\x0b\x0c\x85" else None
    for code in [0x200B, 0xFEFF, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]:
        table[code] = None
    table[0x2028] = table[0x2029] = " "
    return table


_INVISIBLE = _invisible_characters()
_WHITESPACE = re.compile(r"\s+")
_TAG = re.compile(r"<[^<>]{0,500}>")
_MD_IMAGE = re.compile(r"!\[([^\]]{0,200})\]\([^)]{0,500}\)")
_MD_LINK = re.compile(r"\[([^\]]{0,200})\]\([^)]{0,500}\)")
_URL = re.compile(r"(?:\b(?:https?|ftp)://|\bwww\.)\S+", re.IGNORECASE)
_SCRIPT_SCHEME = re.compile(r"\b(?:javascript|vbscript|data)\s*:", re.IGNORECASE)
_PLACE_ID = re.compile(r"^[A-Za-z0-9_\-]+$")

_INJECTION_PATTERNS = [
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|prompts?|rules|directions|guidelines)\b",
    r"\bsystem\s*(?:prompt|message|instructions?)\b",
    r"\bdeveloper\s*(?:mode|message)\b",
    r"\byou\s+are\s+now\b",
    r"\bact\s+as\s+(?:an?\s+)?(?:ai|assistant|system|model|dan)\b",
    r"\bnew\s+instructions?\b",
    r"\bjailbreak",
    r"\bprompt\s+injection\b",
    r"<\|?\s*(?:im_start|im_end|system|endoftext)\s*\|?>",
    r"\[/?(?:inst|system)\]",
    r"^\s*(?:system|assistant)\s*:",
]
_INJECTION = re.compile("|".join(f"(?:{pattern})" for pattern in _INJECTION_PATTERNS), re.IGNORECASE)


def clean_text(value: object, max_chars: int) -> str:
    """Rules 1 and 2: a printable, single-line, trimmed text of at most ``max_chars`` characters."""
    text = unicodedata.normalize("NFC", value if isinstance(value, str) else str(value))
    text = text.translate(_INVISIBLE)
    text = _WHITESPACE.sub(" ", text).strip()
    return truncate(text, max_chars)


def truncate(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1]
    space = cut.rfind(" ")
    if space >= max_chars * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + ELLIPSIS


def strip_markup(text: str) -> str:
    """Rule 3: remove tags, Markdown links and images (keeping link text), URLs and script schemes."""
    text = _MD_IMAGE.sub(r"\1", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _TAG.sub(" ", text)
    text = _URL.sub(" ", text)
    return _SCRIPT_SCHEME.sub(" ", text)


def looks_like_injection(text: str) -> bool:
    """Rule 4: does ``text`` read like an instruction addressed to a model?"""
    return bool(_INJECTION.search(unicodedata.normalize("NFKC", text)))


def clean_prose(value: object, max_chars: int) -> str:
    """Rules 1 to 3 for free text (descriptions, themes, tips)."""
    return clean_text(strip_markup(clean_text(value, max_chars * 4)), max_chars)


def clean_description(value: object) -> str:
    text = clean_prose(value, DESCRIPTION_MAX_CHARS)
    if looks_like_injection(str(value)) or looks_like_injection(text):
        return NEUTRAL_DESCRIPTION
    return text


def clean_place_id(value: object, allowed: set[str] | None) -> str | None:
    """A place id of the expected shape, and (when ``allowed`` is given) one a Maps tool returned; else ``None``."""
    if not isinstance(value, str):
        return None
    candidate = value.strip()
    if len(candidate) > PLACE_ID_MAX_CHARS or not _PLACE_ID.match(candidate):
        return None
    if allowed is not None and candidate not in allowed:
        return None
    return candidate


def _clean_list(values: Iterable[object], max_chars: int, max_items: int) -> list[str]:
    cleaned: list[str] = []
    seen: set[str] = set()
    for value in values:
        if looks_like_injection(str(value)):
            continue
        text = clean_prose(value, max_chars)
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            cleaned.append(text)
        if len(cleaned) >= max_items:
            break
    return cleaned


def _clamp_priority(value: object) -> object:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return max(1, min(5, round(value)))
    return value


def _clean_place(raw: dict[str, Any], allowed_place_ids: set[str] | None) -> dict[str, Any] | None:
    name_value = raw.get("name")
    if not isinstance(name_value, str):
        return dict(raw)  # left for validation to report
    if looks_like_injection(name_value):
        return None
    place = dict(raw)
    place["name"] = clean_text(strip_markup(name_value), NAME_MAX_CHARS)
    place["place_id"] = clean_place_id(raw.get("place_id"), allowed_place_ids)
    place["description"] = clean_description(raw.get("description") or "")
    if "priority" in raw:
        place["priority"] = _clamp_priority(raw["priority"])
    return place


def _place_key(place: dict[str, Any]) -> str:
    place_id = place.get("place_id")
    return f"id:{place_id}" if place_id else f"name:{str(place.get('name', '')).casefold()}"


def coerce_proposal(data: Any, *, days: int | None = None, allowed_place_ids: set[str] | None = None) -> Proposal:
    """Clean parsed JSON (rules 1 to 5) and validate it as a ``Proposal``.

    Raises ``pydantic.ValidationError`` (or ``ValueError`` for a non-object) when the structure does not fit.
    ``allowed_place_ids`` (when given) keeps only place ids that a Maps tool returned in this conversation.
    """
    if not isinstance(data, dict):
        raise ValueError("the answer must be a JSON object with places, day_themes and tips")
    raw_places = data.get("places", [])
    places: list[dict[str, Any]] = []
    if isinstance(raw_places, list):
        seen: set[str] = set()
        for raw in raw_places:
            if not isinstance(raw, dict):
                places.append(raw)  # validation reports it
                continue
            place = _clean_place(raw, allowed_place_ids)
            if place is None:
                continue
            key = _place_key(place)
            if key in seen:
                continue
            seen.add(key)
            places.append(place)
        places.sort(key=lambda place: not (isinstance(place, dict) and place.get("must_include") is True))
        places = places[:MAX_PLACES]
    max_themes = min(MAX_DAY_THEMES, days) if days else MAX_DAY_THEMES
    themes = data.get("day_themes", [])
    tips = data.get("tips", [])
    cleaned = {
        "places": places if isinstance(raw_places, list) else raw_places,
        "day_themes": _clean_list(themes, DAY_THEME_MAX_CHARS, max_themes) if isinstance(themes, list) else themes,
        "tips": _clean_list(tips, TIP_MAX_CHARS, MAX_TIPS) if isinstance(tips, list) else tips,
    }
    return Proposal.model_validate(cleaned)


def _mentions(name: str, request: str) -> bool:
    name_key, request_key = name.casefold(), request.casefold()
    return bool(request_key) and (request_key in name_key or name_key in request_key)


def ensure_must_includes(proposal: Proposal, brief: TripBrief) -> Proposal:
    """Mark the places that match a requested must-include (priority 5), and add the requests the answer missed.

    A missed request is added by its (cleaned) text with no place id: the caller resolves it by name, or drops it.
    Must-includes come first; the list stays within 60 places.
    """
    requests = [clean_text(request, NAME_MAX_CHARS) for request in brief.must_include]
    requests = [request for request in requests if request and not looks_like_injection(request)]
    places: list[ProposedPlace] = []
    matched: set[str] = set()
    for place in proposal.places:
        hits = [request for request in requests if _mentions(place.name, request)]
        if hits:
            matched.update(hits)
            place = place.model_copy(update={"must_include": True, "priority": 5})
        places.append(place)
    for request in requests:
        if request not in matched:
            places.append(
                ProposedPlace(
                    name=request,
                    kind="visit",
                    priority=5,
                    must_include=True,
                    description="Requested by the traveller.",
                )
            )
            matched.add(request)
    places.sort(key=lambda place: not place.must_include)
    return proposal.model_copy(update={"places": places[:MAX_PLACES]})
