"""The emulator rules suite (tests/rules, run by Cloud Build and `make rules-test`) has a case for every Firestore
collection that common/ reads or writes, so a new collection cannot arrive without one."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
RULES_SUITE = ROOT / "tests" / "rules" / "firestore_rules.test.mjs"
NAMES_MODULE = ROOT / "common" / "foundation" / "collection_names.py"
KNOWN = {
    "trips",
    "users",
    "ai_sessions",
    "quotas",
    "places_cache",
    "maps_search_cache",
    "maps_route_cache",
    "maps_weather_cache",
    "backups",
    "ops_runs",
    "_health",
}


def _string_constants(tree: ast.Module) -> dict[str, set[str]]:
    """Module-level ``NAME = "text"`` and ``NAME = ("text", ...)``."""
    found: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value
            items = value.elts if isinstance(value, ast.Tuple) else [value]
            texts = {item.value for item in items if isinstance(item, ast.Constant) and isinstance(item.value, str)}
            if texts and len(texts) == len(items):
                found[node.targets[0].id] = texts
    return found


def collection_names() -> set[str]:
    """The collection ids declared in ``common.foundation.collection_names``, the one module that names them."""
    return {text for texts in _string_constants(ast.parse(NAMES_MODULE.read_text())).values() for text in texts}


def collections_named_by_text(package: Path) -> dict[str, set[str]]:
    """Per file, the collection ids written as text in code: ``.collection("...")`` or ``collection="..."``."""
    found: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            literal: ast.expr | None = None
            if isinstance(node, ast.keyword) and node.arg == "collection":
                literal = node.value
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "collection":
                literal = node.args[0] if len(node.args) == 1 else None
            if isinstance(literal, ast.Constant) and isinstance(literal.value, str):
                found.setdefault(str(path.relative_to(package)), set()).add(literal.value)
    return found


def test_collection_names_declares_the_collections_common_is_known_to_use() -> None:
    assert collection_names() >= KNOWN


def test_no_collection_is_named_as_text_outside_collection_names() -> None:
    assert collections_named_by_text(ROOT / "common") == {}, "name collections in common/foundation/collection_names"


def test_every_collection_of_common_has_a_case_in_the_emulator_rules_suite() -> None:
    suite = RULES_SUITE.read_text()
    missing = sorted(name for name in collection_names() if f'"{name}"' not in suite)
    assert missing == [], f"add these collections to {RULES_SUITE.relative_to(ROOT)}"


def test_the_scan_sees_each_way_a_collection_is_named_as_text(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        'PLAIN = "by_constant"\n'
        'def f(client, spec):\n    client.collection(PLAIN)\n    client.collection("by_text")\n'
        '    spec(collection="by_keyword")\n    client.collection(spec.name)\n'
    )
    assert collections_named_by_text(tmp_path) == {"a.py": {"by_text", "by_keyword"}}
