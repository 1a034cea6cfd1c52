"""Read the `export NAME=value` lines that `scripts/stack up` writes to <state directory>/env."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def stack_state_dir() -> Path:
    """Where scripts/stack keeps logs, pids and env: $STACK_STATE_DIR (relative paths from the repository root) or
    .stack/ (scripts/stack resolves it the same way)."""
    configured = os.environ.get("STACK_STATE_DIR")
    return (ROOT / Path(configured).expanduser()).resolve() if configured else ROOT / ".stack"


STACK_STATE_DIR = stack_state_dir()
STACK_ENV_FILE = STACK_STATE_DIR / "env"


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
