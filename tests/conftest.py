"""Shared fixtures: every test starts from an environment holding none of the backend's settings."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from common.foundation.config import Settings
from tests.process_caches import reset_process_caches

# Variables the client libraries read themselves, besides the Settings fields.
_LIBRARY_VARIABLES = {"GCLOUD_PROJECT", "GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_API_KEY", "GEMINI_API_KEY"}


def _settings_variables() -> set[str]:
    return {name.upper() for name in Settings.model_fields} | _LIBRARY_VARIABLES


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Remove every setting from the environment and forget what is cached per process (settings, every client and
    dependency of ``common``: tests/process_caches.py), before and after."""
    for name in _settings_variables():
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.upper() in _settings_variables():
            monkeypatch.delenv(name, raising=False)
    reset_process_caches()
    yield
    reset_process_caches()
