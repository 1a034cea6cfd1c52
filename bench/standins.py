"""The private stand-ins a bench plans against, and how a bench reports: not the stack of ``scripts/stack``, so a
bench never disturbs (or is disturbed by) a running stack or the tests."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def private_standins() -> Iterator[str]:
    """A Firestore stand-in (``FIRESTORE_EMULATOR_HOST`` points at it) and a zero-latency Maps stand-in (Places,
    Routes, Weather), each on a free port, stopped on exit; yields the Maps endpoint."""
    from tests.integration.support import free_port, maps_standin, stop_process_group
    from tests.proof.support import start_firestore

    port = free_port()
    firestore_process = start_firestore(port)
    os.environ["FIRESTORE_EMULATOR_HOST"] = f"127.0.0.1:{port}"
    try:
        with maps_standin() as endpoint:
            yield endpoint
    finally:
        stop_process_group(firestore_process)


def write_result(result: dict[str, Any], output: Path, key_width: int = 36) -> None:
    """Print the result's summary, one value a line, and write the whole result as JSON to ``output``."""
    print()
    for key, value in result["summary"].items():
        print(f"{key:<{key_width}} {value}")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"wrote {output}")
