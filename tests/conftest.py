"""Shared fixtures: every test starts from an environment holding none of the backend's settings."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from common.foundation.clients import firestore_client, storage_client
from common.foundation.config import Settings, get_settings

# Variables the client libraries read themselves, besides the Settings fields.
_LIBRARY_VARIABLES = {"GCLOUD_PROJECT", "GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_API_KEY", "GEMINI_API_KEY"}


def _settings_variables() -> set[str]:
    return {name.upper() for name in Settings.model_fields} | _LIBRARY_VARIABLES


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Remove every setting from the environment and forget cached settings and clients, before and after."""
    for name in _settings_variables():
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.upper() in _settings_variables():
            monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    firestore_client.reset()
    storage_client.reset()
    yield
    get_settings.cache_clear()
    firestore_client.reset()
    storage_client.reset()
