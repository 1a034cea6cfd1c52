"""Read the `export NAME=value` lines that `scripts/stack up` writes to .stack/env."""

from __future__ import annotations

import shlex
from pathlib import Path

STACK_ENV_FILE = Path(__file__).resolve().parent.parent / ".stack" / "env"


def read_env_file(path: Path = STACK_ENV_FILE) -> dict[str, str]:
    """The variables of a file of ``export NAME=value`` lines (comments and other lines are skipped)."""
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("export "):
            name, _, value = line[len("export ") :].partition("=")
            parts = shlex.split(value)
            env[name] = parts[0] if parts else ""
    return env
