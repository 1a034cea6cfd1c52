"""Process-wide configuration: one frozen ``Settings`` built once from the environment.

Variable names and defaults follow the seed deployment guide (``../shared/seed/DEPLOYMENT-GUIDE.md``) where they
apply to Cloud Functions. Server settings of the seed's long-running app (HOST, PORT, WORKERS, METRICS_PORT, hot
reload, debug toolbar, JWT) are left out: functions-framework and the platform own them; see the README.
"""

from __future__ import annotations

import functools
import json
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from common.foundation.collection_names import SESSIONS, TRIPS, USERS
from common.foundation.errors import ConfigError

Environment = Literal["development", "test", "staging", "production"]
ModelProvider = Literal["auto", "vertex-ai", "google-ai", "offline"]
FallbackProvider = Literal["none", "vertex-ai", "google-ai", "offline"]
StrList = Annotated[list[str], NoDecode]

PLACEHOLDER_MARKERS = ("your-", "your_", "yourdomain", "changeme", "replace-me")


def _parse_list(value: Any) -> Any:
    """Accept the seed's JSON form (``["a","b"]``) or a plain comma-separated list."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        if text.startswith("["):
            return json.loads(text)
        return [item.strip() for item in text.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """Every setting the functions read. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(frozen=True, case_sensitive=False, extra="ignore", env_file=None)

    # Application and logging
    app_name: str = "genai-trip-planner"
    app_version: str = "0.1.0"
    environment: Environment = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    # Google Cloud
    google_cloud_project: str = "demo-trip-planner"
    google_cloud_region: str = "us-central1"
    firestore_database_id: str = "(default)"
    firebase_project_id: str | None = None  # Firebase Auth project; defaults to GOOGLE_CLOUD_PROJECT

    # Gemini (google-genai, on Vertex AI or the Gemini API)
    vertex_ai_project_id: str | None = None
    vertex_ai_region: str = "us-central1"
    gemini_model: str = "gemini-3.5-flash"
    gemini_temperature: float = Field(0.7, ge=0.0, le=2.0)
    gemini_max_tokens: int = Field(8192, ge=1, le=65536)
    gemini_top_p: float = Field(0.95, gt=0.0, le=1.0)
    gemini_top_k: int = Field(40, ge=1)
    gemini_api_key: SecretStr | None = None
    gemini_api_key_secret: str | None = None
    gemini_base_url: str | None = None

    # AI behaviour
    ai_model_provider: ModelProvider = "auto"
    ai_fallback_provider: FallbackProvider = "google-ai"
    enable_function_calling: bool = True
    max_function_calls: int = Field(5, ge=0, le=50)
    function_call_timeout: float = Field(60, gt=0)
    vertex_ai_max_retries: int = Field(3, ge=0, le=10)
    vertex_ai_retry_delay: float = Field(2.0, ge=0)
    vertex_ai_request_timeout: float = Field(120, gt=0)
    vertex_ai_concurrent_requests: int = Field(20, ge=1)

    # Google Maps Platform (Places API (New) and Routes API)
    google_maps_api_key: SecretStr | None = None
    google_maps_api_key_secret: str | None = None
    maps_api_endpoint: str | None = None
    maps_places_api_enabled: bool = True
    maps_directions_api_enabled: bool = True
    maps_distance_matrix_api_enabled: bool = True
    maps_geocoding_api_enabled: bool = True
    maps_timezone_api_enabled: bool = True
    maps_requests_per_second: float = Field(50.0, gt=0)
    maps_burst_limit: int = Field(100, ge=1)
    maps_request_timeout: float = Field(30, gt=0)
    maps_max_retries: int = Field(3, ge=0, le=10)
    maps_enable_caching: bool = True
    maps_cache_ttl: int = Field(3600, ge=0)
    maps_cache_max_size: int = Field(10000, ge=0)

    # HTTP surface
    enable_cors: bool = True
    allowed_origins: StrList = Field(default_factory=lambda: ["http://localhost:3000", "http://localhost:5173"])
    allowed_methods: StrList = Field(default_factory=lambda: ["GET", "POST", "PATCH", "DELETE", "OPTIONS"])
    allowed_headers: StrList = Field(
        default_factory=lambda: ["Authorization", "Content-Type", "If-Match", "Prefer", "X-Request-Id"]
    )
    api_rate_limit: int = Field(1000, ge=1)
    max_request_bytes: int = Field(64 * 1024, ge=1024)
    check_token_revocation: bool = True
    plan_rate_per_minute: int = Field(5, ge=1)
    plan_rate_per_day: int = Field(50, ge=1)

    # Trip rules
    default_trip_duration_days: int = Field(7, ge=1)
    max_trip_duration_days: int = Field(30, ge=1)
    min_trip_duration_days: int = Field(1, ge=1)
    default_budget_currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    default_search_radius: float = Field(50, gt=0)
    max_places_per_day: int = Field(8, ge=1, le=20)
    supported_languages: StrList = Field(default_factory=lambda: ["en"])
    default_timezone: str = "UTC"
    solver_time_limit_seconds: float = Field(2.0, gt=0)
    trips_url: str | None = Field(
        None, description="Public URL of the trips function: the Location of a planned trip is TRIPS_URL/{id}"
    )
    enrich_max_event_age_seconds: int = Field(
        3600, ge=60, le=7 * 24 * 3600, description="enrich_places drops older trigger events with a log line"
    )

    # Sessions and agent limits
    session_max_duration: int = Field(86400, ge=60)
    session_idle_timeout: int = Field(3600, ge=60)
    session_cleanup_interval: int = Field(300, ge=60)
    max_sessions_per_user: int = Field(3, ge=1)
    agent_max_iterations: int = Field(20, ge=1)
    agent_response_timeout: int = Field(180, ge=1)

    # Operations: scheduled jobs (cleanup_sessions, backup_export) and per-user data (user_data)
    scheduler_service_accounts: StrList = Field(default_factory=list)  # emails allowed to call scheduled jobs
    scheduler_audience: str | None = None  # the function's URL, as the audience of the scheduler's OIDC token
    scheduler_auth_bypass: bool = False  # accept unauthenticated scheduler calls; refused in production
    cleanup_batch_size: int = Field(200, ge=1, le=500)
    cleanup_time_budget_seconds: float = Field(240, gt=0)
    backup_mode: Literal["managed", "logical"] = "logical"
    backup_bucket: str | None = None
    backup_prefix: str = "firestore-backups"
    backup_collections: StrList = Field(default_factory=lambda: [TRIPS, SESSIONS, USERS])
    backup_snapshot: bool = True  # managed export: a consistent snapshot (snapshot_time = now, to the minute)
    user_export_bucket: str | None = None  # defaults to BACKUP_BUCKET
    user_export_prefix: str = "user-exports"
    user_export_url_seconds: int = Field(900, ge=60, le=7 * 24 * 3600)

    # Asynchronous planning (Prefer: respond-async): the Cloud Tasks queue and the worker it calls
    planning_queue: str | None = Field(
        None, description="projects/P/locations/L/queues/Q; unset: plan_trip ignores Prefer: respond-async"
    )
    plan_worker_url: str | None = None  # the plan_worker function's URL: the task's target and its OIDC audience
    plan_worker_service_account: str | None = None  # the tasks' OIDC identity, the one caller plan_worker accepts
    plan_worker_auth_bypass: bool = False  # accept unauthenticated task deliveries; refused in production
    plan_claim_lease_seconds: int = Field(
        120, ge=1, description="a planning not updated for this long may be claimed again by a redelivered task"
    )

    # Local stand-ins (read by the client libraries themselves; kept here so they are visible and checked)
    firestore_emulator_host: str | None = None
    firebase_auth_emulator_host: str | None = None
    storage_emulator_host: str | None = None
    cloud_tasks_emulator_host: str | None = None  # host:port of gcloud-tasks-emulator (insecure gRPC)

    _parse_lists = field_validator(
        "allowed_origins",
        "allowed_methods",
        "allowed_headers",
        "supported_languages",
        "scheduler_service_accounts",
        "backup_collections",
        mode="before",
    )(_parse_list)

    @field_validator("allowed_methods")
    @classmethod
    def _upper_methods(cls, value: list[str]) -> list[str]:
        return [method.upper() for method in value]

    @model_validator(mode="after")
    def _check_consistency(self) -> Settings:
        if not self.min_trip_duration_days <= self.default_trip_duration_days <= self.max_trip_duration_days:
            raise ValueError("MIN_TRIP_DURATION_DAYS <= DEFAULT_TRIP_DURATION_DAYS <= MAX_TRIP_DURATION_DAYS must hold")
        if self.environment == "production":
            self._refuse_production_placeholders()
        return self

    def _refuse_production_placeholders(self) -> None:
        problems: list[str] = []
        for name, value in self:
            texts: list[str] = []
            if isinstance(value, SecretStr):
                texts = [value.get_secret_value()]
            elif isinstance(value, str):
                texts = [value]
            elif isinstance(value, list):
                texts = [item for item in value if isinstance(item, str)]
            if any(marker in text.lower() for text in texts for marker in PLACEHOLDER_MARKERS):
                problems.append(f"{name.upper()} holds a placeholder value")
        for name in (
            "firestore_emulator_host",
            "firebase_auth_emulator_host",
            "storage_emulator_host",
            "cloud_tasks_emulator_host",
        ):
            if getattr(self, name):
                problems.append(f"{name.upper()} points at a local stand-in")
        if self.google_cloud_project.startswith("demo-"):
            problems.append("GOOGLE_CLOUD_PROJECT is a demo project id")
        if self.scheduler_auth_bypass:
            problems.append("SCHEDULER_AUTH_BYPASS must not be set")
        if self.plan_worker_auth_bypass:
            problems.append("PLAN_WORKER_AUTH_BYPASS must not be set")
        if problems:
            raise ValueError("refused in production: " + "; ".join(problems))

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment, turning validation errors into a ``ConfigError`` naming variables."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            variable = ".".join(str(part) for part in error["loc"]).upper() or "settings"
            problems.append(f"{variable}: {error['msg']}")
        raise ConfigError("invalid configuration: " + "; ".join(problems), details=problems) from None


@functools.cache
def get_settings() -> Settings:
    """The process's settings, built on first use."""
    return load_settings()
