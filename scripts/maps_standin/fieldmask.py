"""Field masks as the Google APIs apply them: a comma-separated list of dotted paths over the response message."""

from __future__ import annotations

from typing import Any

MaskTree = dict[str, "MaskTree"]


class FieldMaskError(ValueError):
    """The mask is missing or names a field the response does not have."""


def parse_mask(text: str | None) -> MaskTree | None:
    """``"places.id,places.displayName"`` -> ``{"places": {"id": {}, "displayName": {}}}``; ``"*"`` -> ``None``."""
    if text is None or not text.strip():
        raise FieldMaskError("a field mask is required: set the X-Goog-FieldMask header or the $fields parameter")
    tree: MaskTree = {}
    for raw_path in text.split(","):
        path = raw_path.strip()
        if not path:
            continue
        if path == "*":
            return None
        node = tree
        for part in path.split("."):
            if not part:
                raise FieldMaskError(f"invalid field mask path {path!r}")
            if part == "*":
                break
            node = node.setdefault(part, {})
    if not tree:
        raise FieldMaskError("the field mask is empty")
    return tree


def validate_mask(tree: MaskTree | None, allowed: dict[str, frozenset[str] | None]) -> None:
    """Check the first two levels of a mask: ``allowed`` maps a top-level field to its known sub-fields (or None)."""
    if tree is None:
        return
    for name, subtree in tree.items():
        if name not in allowed:
            raise FieldMaskError(f"cannot find field: {name}")
        known = allowed[name]
        if known is None:
            continue
        for child in subtree:
            if child not in known:
                raise FieldMaskError(f"cannot find field: {name}.{child}")


def apply_mask(value: Any, tree: MaskTree | None) -> Any:
    """Keep only the masked fields of ``value`` (lists are masked element by element); ``None`` keeps everything."""
    if tree is None or not tree:
        return value
    if isinstance(value, list):
        return [apply_mask(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    return {key: apply_mask(value[key], subtree) for key, subtree in tree.items() if key in value}
