from __future__ import annotations

import pytest
from pydantic import SecretStr

from common.foundation.config import Settings, get_settings, load_settings
from common.foundation.errors import ConfigError


def test_defaults_follow_the_seed_guide() -> None:
    settings = load_settings()
    # Sampling is left to the model (Google's Gemini 3 guidance); tests/unit/ai/test_gemini_settings.py has the rest.
    assert (settings.gemini_temperature, settings.gemini_top_p, settings.gemini_top_k) == (None, None, None)
    assert settings.max_function_calls == 5
    assert settings.function_call_timeout == 60
    assert settings.vertex_ai_max_retries == 3
    assert settings.vertex_ai_retry_delay == 2.0
    assert settings.maps_requests_per_second == 50
    assert settings.maps_burst_limit == 100
    assert settings.maps_cache_ttl == 3600
    assert settings.maps_cache_max_size == 10000
    assert (settings.min_trip_duration_days, settings.default_trip_duration_days, settings.max_trip_duration_days) == (
        1,
        7,
        30,
    )
    assert settings.default_budget_currency == "USD"
    assert settings.max_places_per_day == 8
    assert settings.session_max_duration == 86400
    assert settings.max_sessions_per_user == 3
    assert settings.gemini_model != "gemini-2.0-flash-exp"


def test_reads_the_environment_including_json_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_ORIGINS", '["https://app.example.org", "https://admin.example.org"]')
    monkeypatch.setenv("SUPPORTED_LANGUAGES", "en, fr ,ja")
    monkeypatch.setenv("ALLOWED_METHODS", '["get", "post"]')
    monkeypatch.setenv("MAPS_ENABLE_CACHING", "false")
    monkeypatch.setenv("GOOGLE_MAPS_API_KEY", "abc123")
    settings = load_settings()
    assert settings.allowed_origins == ["https://app.example.org", "https://admin.example.org"]
    assert settings.supported_languages == ["en", "fr", "ja"]
    assert settings.allowed_methods == ["GET", "POST"]
    assert settings.maps_enable_caching is False
    assert isinstance(settings.google_maps_api_key, SecretStr)
    assert "abc123" not in repr(settings)


def test_settings_are_frozen_and_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    first = get_settings()
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    assert get_settings() is first
    with pytest.raises(ValueError, match="frozen"):
        first.log_level = "DEBUG"  # type: ignore[misc]


def test_invalid_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAPS_MAX_RETRIES", "lots")
    monkeypatch.setenv("GEMINI_TEMPERATURE", "5")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert "MAPS_MAX_RETRIES" in message
    assert "GEMINI_TEMPERATURE" in message
    assert len(raised.value.details) == 2


def test_trip_duration_bounds_must_be_ordered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_TRIP_DURATION_DAYS", "5")
    with pytest.raises(ConfigError, match="MAX_TRIP_DURATION_DAYS"):
        load_settings()


def test_day_windows_per_pace_include_the_evening_and_are_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = load_settings().day_windows()
    assert defaults == {"relaxed": (600, 1290), "moderate": (540, 1320), "packed": (510, 1350)}
    assert all(end >= 21 * 60 + 30 for _, end in defaults.values())  # the dinner window ends at 21:30
    monkeypatch.setenv("DAY_WINDOW_RELAXED", "11:00-20:00")
    assert load_settings().day_windows()["relaxed"] == (660, 1200)
    for bad in ("20:00-11:00", "9-17", "09:00-25:00"):
        monkeypatch.setenv("DAY_WINDOW_MODERATE", bad)
        with pytest.raises(ConfigError, match="DAY_WINDOW_MODERATE"):
            load_settings()


def _production_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "acme-trips-prod")
    monkeypatch.setenv("ALLOWED_ORIGINS", '["https://trips.acme.example"]')


def test_production_accepts_real_values(monkeypatch: pytest.MonkeyPatch) -> None:
    _production_env(monkeypatch)
    monkeypatch.setenv("GOOGLE_MAPS_API_KEY_SECRET", "projects/acme/secrets/maps-key/versions/latest")
    assert load_settings().is_production


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("GOOGLE_MAPS_API_KEY", "your-maps-api-key"),
        ("GEMINI_API_KEY", "your-gemini-key"),
        ("ALLOWED_ORIGINS", '["https://yourdomain.com"]'),
        ("GOOGLE_CLOUD_PROJECT", "your-production-project"),
        ("FIRESTORE_EMULATOR_HOST", "127.0.0.1:8080"),
        ("GOOGLE_CLOUD_PROJECT", "demo-trip-planner"),
    ],
)
def test_production_refuses_placeholders_and_stand_ins(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    _production_env(monkeypatch)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=variable):
        load_settings()


def test_placeholders_are_tolerated_outside_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_MAPS_API_KEY", "your-maps-api-key")
    assert load_settings().environment == "development"


def test_isolated_environment_starts_clean() -> None:
    assert Settings().google_maps_api_key is None
