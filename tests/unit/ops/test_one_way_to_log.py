"""One way to log: common/foundation/log.py writes every line; google-cloud-logging is neither imported nor a runtime
dependency (bench/coldstart_bench.py measured its import at over 0.1 s of cold start; the numbers are in log.py)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_no_runtime_code_imports_google_cloud_logging() -> None:
    offenders = []
    for path in [*(ROOT / "common").rglob("*.py"), ROOT / "functions" / "main.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(name.startswith(("google.cloud.logging", "google.cloud.logging_v2")) for name in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_google_cloud_logging_is_not_a_runtime_dependency() -> None:
    pins = [line.split("==")[0].strip().lower() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    assert "google-cloud-logging" not in pins
