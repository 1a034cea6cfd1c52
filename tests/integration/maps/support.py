"""Helpers of the Maps integration tests: a settable clock and the Maps stand-in's admin API."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any


class Clock:
    """A monotonic clock the test moves by hand (cache expiry, rate limits)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def maps_admin(stack: dict[str, str], path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """GET (or POST ``body`` to) ``/__admin/<path>`` of the stack's Maps stand-in; its JSON answer."""
    url = f"{stack['MAPS_API_ENDPOINT']}/__admin/{path}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]
