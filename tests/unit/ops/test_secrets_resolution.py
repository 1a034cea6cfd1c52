"""Which source a key comes from, resource names, and caching (Secret Manager itself: tests/integration/ops)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import secretmanager
from pydantic import SecretStr

from common.foundation.errors import ConfigError
from common.foundation.secrets import SecretResolver, SecretSpec, SecretUnavailable, version_name

NAME = "projects/p/secrets/maps/versions/latest"


class CountingClient:
    """Answers access_secret_version from a dict; counts calls; can fail a number of times first."""

    def __init__(self, values: dict[str, str], failures: list[Exception] | None = None, delay: float = 0.0) -> None:
        self.values = values
        self.failures = list(failures or [])
        self.delay = delay
        self.calls = 0
        self._lock = threading.Lock()

    def access_secret_version(self, request: dict[str, Any], **_: Any) -> secretmanager.AccessSecretVersionResponse:
        with self._lock:
            self.calls += 1
            failure = self.failures.pop(0) if self.failures else None
        time.sleep(self.delay)
        if failure:
            raise failure
        data = self.values[request["name"]].encode()
        return secretmanager.AccessSecretVersionResponse(
            name=request["name"], payload=secretmanager.SecretPayload(data=data)
        )


def _resolver(client: CountingClient) -> SecretResolver:
    return SecretResolver(lambda: client)  # type: ignore[arg-type, return-value]


def _spec(plain: str | None, secret: str | None) -> SecretSpec:
    return SecretSpec("GOOGLE_MAPS_API_KEY", "GOOGLE_MAPS_API_KEY_SECRET", SecretStr(plain) if plain else None, secret)


def test_outside_production_the_plain_value_wins() -> None:
    client = CountingClient({NAME: "from-secret-manager"})
    assert _resolver(client).resolve(_spec("plain", NAME), production=False) == "plain"
    assert client.calls == 0


def test_in_production_the_secret_wins_over_a_plain_value() -> None:
    client = CountingClient({NAME: "from-secret-manager"})
    assert _resolver(client).resolve(_spec("stale", NAME), production=True) == "from-secret-manager"


def test_in_production_a_plain_value_alone_is_used() -> None:
    assert _resolver(CountingClient({})).resolve(_spec("mounted", None), production=True) == "mounted"


def test_nothing_configured_is_none() -> None:
    assert _resolver(CountingClient({})).resolve(_spec(None, None), production=False) is None


def test_a_secret_name_without_version_means_latest() -> None:
    assert version_name("projects/p/secrets/maps", "X") == NAME
    assert version_name(NAME, "X") == NAME
    with pytest.raises(ConfigError, match="GOOGLE_MAPS_API_KEY_SECRET"):
        version_name("maps-api-key", "GOOGLE_MAPS_API_KEY_SECRET")


def test_values_are_fetched_once_even_under_concurrent_first_use() -> None:
    client = CountingClient({NAME: "key"}, delay=0.05)
    resolver = _resolver(client)
    results: list[str | None] = []
    threads = [
        threading.Thread(target=lambda: results.append(resolver.resolve(_spec(None, NAME), production=True)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["key"] * 8
    assert client.calls == 1


def test_a_transient_failure_is_retryable_and_not_cached() -> None:
    slow = exceptions.DeadlineExceeded("slow")  # type: ignore[no-untyped-call]
    client = CountingClient({NAME: "key"}, failures=[slow])
    resolver = _resolver(client)
    with pytest.raises(SecretUnavailable):
        resolver.resolve(_spec(None, NAME), production=True)
    assert resolver.resolve(_spec(None, NAME), production=True) == "key"
    assert client.calls == 2
