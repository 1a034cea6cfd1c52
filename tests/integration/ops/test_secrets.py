"""common.foundation.secrets over the real SecretManagerServiceClient, against a small Secret Manager stand-in: a grpcio
server answering AccessSecretVersion from a table (found, missing, disabled, unavailable), reached through an insecure
channel. Also: the Maps client options take their key from Secret Manager."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import google_crc32c
import grpc
import pytest
from google.cloud import secretmanager
from google.cloud.secretmanager_v1.services.secret_manager_service.transports import (
    SecretManagerServiceGrpcTransport,
)

import common.foundation.secrets
from common.domain.maps.factory import _client_options
from common.foundation.clients import Lazy
from common.foundation.config import load_settings
from common.foundation.errors import ConfigError
from common.foundation.secrets import SecretResolver, SecretUnavailable, gemini_api_key, maps_api_key
from tests.integration.support import free_port

MAPS = "projects/p/secrets/maps-api-key/versions/latest"
GEMINI = "projects/p/secrets/gemini-api-key/versions/3"
DISABLED = "projects/p/secrets/old-key/versions/1"
FLAKY = "projects/p/secrets/flaky/versions/latest"
SERVICE = "google.cloud.secretmanager.v1.SecretManagerService"


class SecretManagerStandIn:
    """AccessSecretVersion over gRPC, as Secret Manager answers it."""

    def __init__(self) -> None:
        self.values = {MAPS: "maps-key-from-sm\n", GEMINI: "gemini-key-from-sm"}
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def access(
        self, request: secretmanager.AccessSecretVersionRequest, context: grpc.ServicerContext
    ) -> secretmanager.AccessSecretVersionResponse:
        with self._lock:
            self.calls.append(request.name)
        if request.name == DISABLED:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"Secret Version [{request.name}] is in DISABLED state.")
        if request.name == FLAKY:
            context.abort(grpc.StatusCode.UNAVAILABLE, "backend unavailable")
        if request.name not in self.values:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Secret [{request.name}] not found or has no versions.")
        data = self.values[request.name].encode()
        payload = secretmanager.SecretPayload(data=data, data_crc32c=google_crc32c.value(data))
        return secretmanager.AccessSecretVersionResponse(name=request.name, payload=payload)


@pytest.fixture(scope="module")
def standin() -> Iterator[tuple[SecretManagerStandIn, str]]:
    handler_state = SecretManagerStandIn()
    handler = grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "AccessSecretVersion": grpc.unary_unary_rpc_method_handler(
                handler_state.access,
                request_deserializer=secretmanager.AccessSecretVersionRequest.deserialize,
                response_serializer=secretmanager.AccessSecretVersionResponse.serialize,
            )
        },
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler,))
    port = free_port()
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    try:
        yield handler_state, f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None)


@pytest.fixture(autouse=True)
def no_plain_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stack's plain local Maps key would win outside production; these tests are about the secrets."""
    monkeypatch.delenv("GOOGLE_MAPS_API_KEY", raising=False)
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)


@pytest.fixture
def resolver(standin: tuple[SecretManagerStandIn, str]) -> SecretResolver:
    _, address = standin

    def client() -> secretmanager.SecretManagerServiceClient:
        transport = SecretManagerServiceGrpcTransport(channel=grpc.insecure_channel(address))
        return secretmanager.SecretManagerServiceClient(transport=transport)

    return SecretResolver(client, deadline_seconds=1.0)


def _settings(**values: Any) -> Any:
    return load_settings(**values)


def test_a_found_secret_is_read_once_and_cached(
    resolver: SecretResolver, standin: tuple[SecretManagerStandIn, str]
) -> None:
    state, _ = standin
    before = state.calls.count(MAPS)
    settings = _settings(google_maps_api_key_secret=MAPS)
    assert maps_api_key(settings, resolver) == "maps-key-from-sm"
    assert maps_api_key(settings, resolver) == "maps-key-from-sm"
    assert state.calls.count(MAPS) == before + 1


def test_a_secret_name_without_version_reads_latest(resolver: SecretResolver) -> None:
    settings = _settings(google_maps_api_key_secret="projects/p/secrets/maps-api-key")
    assert maps_api_key(settings, resolver) == "maps-key-from-sm"


def test_the_gemini_key_comes_from_its_own_secret(resolver: SecretResolver) -> None:
    assert gemini_api_key(_settings(gemini_api_key_secret=GEMINI), resolver) == "gemini-key-from-sm"


def test_a_missing_secret_is_a_configuration_error_naming_it(resolver: SecretResolver) -> None:
    missing = "projects/p/secrets/nope/versions/latest"
    with pytest.raises(ConfigError) as raised:
        maps_api_key(_settings(google_maps_api_key_secret=missing), resolver)
    assert missing in raised.value.message
    assert "GOOGLE_MAPS_API_KEY_SECRET" in raised.value.message


def test_a_disabled_version_is_a_configuration_error(resolver: SecretResolver) -> None:
    with pytest.raises(ConfigError, match="disabled or destroyed") as raised:
        gemini_api_key(_settings(gemini_api_key_secret=DISABLED), resolver)
    assert DISABLED in raised.value.message


def test_an_unavailable_service_is_retryable(resolver: SecretResolver) -> None:
    with pytest.raises(SecretUnavailable) as raised:
        maps_api_key(_settings(google_maps_api_key_secret=FLAKY), resolver)
    assert raised.value.retryable


def test_the_maps_clients_get_their_key_through_secret_manager(
    resolver: SecretResolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common.foundation.secrets, "resolver", Lazy(lambda: resolver))
    settings = _settings(google_maps_api_key_secret=MAPS, maps_api_endpoint="http://127.0.0.1:1")
    assert _client_options(settings).api_key == "maps-key-from-sm"
    local = _settings(google_maps_api_key="local-key", google_maps_api_key_secret=MAPS, maps_api_endpoint="http://x")
    assert _client_options(local).api_key == "local-key"  # outside production the plain value wins
