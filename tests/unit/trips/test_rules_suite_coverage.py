"""The emulator rules suite (tests/rules, run by Cloud Build and `make rules-test`) has a case for every Firestore
collection that common/ reads or writes, so a new collection cannot arrive without one."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
RULES_SUITE = ROOT / "tests" / "rules" / "firestore_rules.test.mjs"
KNOWN = {
    "trips",
    "users",
    "ai_sessions",
    "quotas",
    "places_cache",
    "maps_search_cache",
    "maps_route_cache",
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


def collections_used(package: Path) -> set[str]:
    """Collection ids given to ``.collection(...)`` (as text, a module constant or ``module.CONSTANT``), given as
    ``collection="..."`` (query descriptions), or listed in a ``*_COLLECTIONS`` tuple (handled in a loop)."""
    trees = {path: ast.parse(path.read_text()) for path in package.rglob("*.py")}
    constants = {path: _string_constants(tree) for path, tree in trees.items()}
    everywhere: dict[str, set[str]] = {}
    for per_module in constants.values():
        for name, texts in per_module.items():
            everywhere.setdefault(name, set()).update(texts)
    found: set[str] = set()
    for path, tree in trees.items():
        for name, texts in constants[path].items():
            if name.endswith("_COLLECTIONS"):
                found |= texts
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "collection" and isinstance(node.value, ast.Constant):
                found.add(str(node.value.value))
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr != "collection" or len(node.args) != 1:
                continue
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(arg.value)
            elif isinstance(arg, ast.Name):
                found |= constants[path].get(arg.id, set())
            elif isinstance(arg, ast.Attribute):
                found |= everywhere.get(arg.attr, set())
    return found


def test_the_scan_finds_the_collections_common_is_known_to_use() -> None:
    assert collections_used(ROOT / "common") >= KNOWN


def test_every_collection_of_common_has_a_case_in_the_emulator_rules_suite() -> None:
    suite = RULES_SUITE.read_text()
    missing = sorted(name for name in collections_used(ROOT / "common") if f'"{name}"' not in suite)
    assert missing == [], f"add these collections to {RULES_SUITE.relative_to(ROOT)}"


def test_the_scan_sees_each_way_a_collection_is_named(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        'PLAIN = "by_constant"\nLOOPED_COLLECTIONS = ("in_a_tuple",)\n'
        'def f(client, spec):\n    client.collection(PLAIN)\n    client.collection("by_text")\n'
        '    client.collection(b.OTHER)\n    spec(collection="by_keyword")\n    client.collection(spec.name)\n'
    )
    (tmp_path / "b.py").write_text('OTHER = "by_attribute"\n')
    assert collections_used(tmp_path) == {"by_constant", "in_a_tuple", "by_text", "by_attribute", "by_keyword"}
