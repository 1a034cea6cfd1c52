"""Helpers of the Maps integration tests: a settable clock, the Maps stand-in's admin API, and planning settings on
the stack's stand-ins."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

from common.foundation.config import Settings, load_settings


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


def planning_settings(stack: dict[str, str], project: str, **overrides: Any) -> Settings:
    """Settings that plan on the stack's Maps stand-in (and its Weather API) in Firestore project ``project``, with
    quotas out of the way."""
    return load_settings(
        google_cloud_project=project,
        maps_api_endpoint=stack["MAPS_API_ENDPOINT"],
        google_maps_api_key=stack["GOOGLE_MAPS_API_KEY"],
        weather_api_endpoint=stack["WEATHER_API_ENDPOINT"],
        plan_rate_per_minute=1000,
        plan_rate_per_day=1000,
        max_sessions_per_user=100,
        **overrides,
    )
