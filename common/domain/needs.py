"""What a traveller's free-text needs mean to the planners: the one home of the dietary and accessibility words.

Requests carry ``dietary`` and ``accessibility`` as short texts ("vegan", "wheelchair user"); both the offline
planner (which searches for suitable food) and the planning service (which filters candidates) read them here.
"""

from __future__ import annotations

from collections.abc import Iterable

VEGETARIAN_WORDS = ("vegetarian", "vegan", "plant-based", "plant based")
STEP_FREE_WORDS = ("wheelchair", "step-free", "step free", "reduced mobility", "mobility")


def _mentions(texts: Iterable[str], words: tuple[str, ...]) -> bool:
    return any(word in text.casefold() for text in texts for word in words)


def wants_vegetarian(dietary: Iterable[str]) -> bool:
    """The dietary wishes ask for vegetarian (or vegan, plant-based) food."""
    return _mentions(dietary, VEGETARIAN_WORDS)


def needs_step_free(accessibility: Iterable[str]) -> bool:
    """The accessibility wishes ask for step-free places and less walking."""
    return _mentions(accessibility, STEP_FREE_WORDS)
