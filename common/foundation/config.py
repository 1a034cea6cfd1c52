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

from common.foundation.collection_names import SESSIONS, SHARE_LINKS, TRIPS, USERS
from common.foundation.errors import ConfigError

Environment = Literal["development", "test", "staging", "production"]
ModelProvider = Literal["auto", "vertex-ai", "google-ai", "offline"]
FallbackProvider = Literal["none", "vertex-ai", "google-ai", "offline"]
ThinkingLevel = Literal["default", "minimal", "low", "medium", "high"]  # "default": no thinking config is sent
StrList = Annotated[list[str], NoDecode]

PLACEHOLDER_MARKERS = ("your-", "your_", "yourdomain", "changeme", "replace-me")


DAY_WINDOW_PATTERN = r"^\d{2}:[0-5]\d-\d{2}:[0-5]\d$"


def day_window_minutes(value: str) -> tuple[int, int]:
    """``"09:00-22:00"`` -> ``(540, 1320)``, minutes since local midnight."""
    start, end = value.split("-")
    return int(start[:2]) * 60 + int(start[3:]), int(end[:2]) * 60 + int(end[3:])


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

    # Gemini (google-genai, on Vertex AI or the Gemini API). The model is configuration: the default is the newest
    # generally available Flash model in Google's model documentation when this was written, December 2026
    # (ai.google.dev/gemini-api/docs/models lists Gemini 3.8 Flash as stable; the Vertex AI guide
    # docs.cloud.google.com/gemini-enterprise-agent-platform/models/guides/gemini-3-8-flash gives gemini-3.8-flash as
    # GA, on global and multi-region endpoints, thinking levels LOW/MEDIUM/HIGH, 65,536 output tokens). Sampling
    # (temperature, top-p, top-k) is left to the model unless set: Google's Gemini 3 prompting guide asks to keep
    # the default temperature (1.0; lower values can cause looping or degraded reasoning).
    vertex_ai_project_id: str | None = None
    vertex_ai_region: str = Field(
        "global", pattern=r"^[a-z][a-z0-9-]*$", description="Vertex AI location: global, a multi-region or a region"
    )
    gemini_model: str = Field("gemini-3.8-flash", min_length=1)
    gemini_temperature: float | None = Field(None, ge=0.0, le=2.0)
    gemini_top_p: float | None = Field(None, gt=0.0, le=1.0)
    gemini_top_k: int | None = Field(None, ge=1)
    gemini_max_tokens: int = Field(
        32768, ge=1, le=65536, description="Output tokens per request, thinking included (Gemini counts both)"
    )
    gemini_max_tokens_retry: int = Field(
        65536, ge=1, le=65536, description="Output tokens of the one retry of a proposal cut off at the limit"
    )
    gemini_thinking_research: ThinkingLevel = "medium"
    gemini_thinking_proposal: ThinkingLevel = "low"
    gemini_thinking_floor: ThinkingLevel = Field(
        "low", description="Lowest level the retry of a cut-off proposal steps down to ('default': never sent)"
    )
    gemini_plan_deadline_seconds: float = Field(
        160, gt=0, description="Wall-clock budget of every model call of one plan, retries and tool calls included"
    )
    gemini_proposal_reserve_seconds: float = Field(
        90, ge=0, description="Part of the deadline the research turn leaves to the JSON proposal turn"
    )
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

    # Weather (Google Maps Platform Weather API, daily forecast, with the Maps API key): wet days favour indoor places
    weather_api_enabled: bool = Field(True, description="false: plans are made without forecasts and say so")
    weather_api_endpoint: str | None = Field(
        None,
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description="a stand-in of weather.googleapis.com (the local Maps stand-in serves one); refused in production",
    )
    weather_cache_hours: float = Field(3.0, ge=0, le=24, description="how long a day's forecast for a place is kept")
    weather_request_timeout: float = Field(5.0, gt=0, le=60)
    weather_wet_precipitation_percent: int = Field(
        50, ge=1, le=100, description="a day whose daytime chance of rain reaches this is planned as wet"
    )

    # HTTP surface
    enable_cors: bool = True
    allowed_origins: StrList = Field(default_factory=lambda: ["http://localhost:3000", "http://localhost:5173"])
    allowed_methods: StrList = Field(default_factory=lambda: ["GET", "POST", "PATCH", "DELETE", "OPTIONS"])
    allowed_headers: StrList = Field(
        default_factory=lambda: [
            "Authorization",
            "Content-Type",
            "If-Match",
            "Prefer",
            "X-Request-Id",
            "X-Firebase-AppCheck",
        ]
    )
    api_rate_limit: int = Field(1000, ge=1)
    max_request_bytes: int = Field(64 * 1024, ge=1024)
    check_token_revocation: bool = True
    plan_rate_per_minute: int = Field(5, ge=1)
    plan_rate_per_day: int = Field(50, ge=1)

    # Firebase App Check (X-Firebase-AppCheck) on the functions an app calls: plan_trip, the trips API's writes,
    # user_data. See common/foundation/app_check.py and the README.
    app_check_enforce: bool | None = Field(
        None, description="unset: on in production, off elsewhere; false is refused in production"
    )
    app_check_replay_protection: bool = Field(
        True, description="plan_trip consumes limited-use tokens (verifyAppCheckToken): each may be used once"
    )
    app_check_api_endpoint: str | None = Field(
        None,
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description="a stand-in of firebaseappcheck.googleapis.com (its /v1/jwks and verifyAppCheckToken), for tests "
        "and emulators; refused in production",
    )

    # Trip rules
    default_trip_duration_days: int = Field(7, ge=1)
    max_trip_duration_days: int = Field(30, ge=1)
    min_trip_duration_days: int = Field(1, ge=1)
    max_trip_cities: int = Field(5, ge=1, le=20, description="cities of one multi-city trip (request destinations)")
    max_transfer_hours: float = Field(
        8.0, gt=0, le=16, description="longest move between two cities of a trip on its travel day, by any mode"
    )
    default_budget_currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    default_search_radius: float = Field(50, gt=0)
    max_places_per_day: int = Field(8, ge=1, le=20)
    supported_languages: StrList = Field(default_factory=lambda: ["en"])
    default_timezone: str = "UTC"
    solver_time_limit_seconds: float = Field(2.0, gt=0)
    trips_url: str | None = Field(
        None, description="Public URL of the trips function: the Location of a planned trip is TRIPS_URL/{id}"
    )
    trip_page_url: str | None = Field(
        None, description="Public URL of the trip_page function: a share link is TRIP_PAGE_URL/t/{token}"
    )
    share_link_max_days: int = Field(365, ge=1, le=3650, description="The longest expiry a share link may have")
    share_page_misses_per_window: int = Field(
        20, ge=1, description="Unknown, revoked or expired tokens one client may ask trip_page for per window"
    )
    share_page_requests_per_window: int = Field(
        300, ge=1, description="Requests one client may send one trip_page instance per window (all answers)"
    )
    share_page_window_seconds: int = Field(600, ge=10, le=24 * 3600)
    share_page_proxy_hops: int = Field(
        1, ge=0, le=5, description="X-Forwarded-For entries added by trusted proxies (Google's front end adds 1)"
    )
    share_page_static_map: bool = Field(
        False, description="Show each day on a Google Static Maps image (needs MAPS_STATIC_API_KEY)"
    )
    maps_static_api_key: SecretStr | None = Field(
        None, description="A key restricted to the Maps Static API; the page sends no referrer, so sign its URLs"
    )
    maps_static_signing_secret: SecretStr | None = Field(
        None, description="The URL signing secret of that key (Static Maps digital signatures), base64url"
    )
    enrich_max_event_age_seconds: int = Field(
        3600, ge=60, le=7 * 24 * 3600, description="enrich_places drops older trigger events with a log line"
    )
    # A traveller's day per pace, local "HH:MM-HH:MM": leave the lodging from, be back by. They include the evening so
    # every full day has lunch and dinner (the engine's meal windows are 11:30-14:30 and 18:00-21:30).
    day_window_relaxed: str = Field("10:00-21:30", pattern=DAY_WINDOW_PATTERN)
    day_window_moderate: str = Field("09:00-22:00", pattern=DAY_WINDOW_PATTERN)
    day_window_packed: str = Field("08:30-22:30", pattern=DAY_WINDOW_PATTERN)

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
    backup_collections: StrList = Field(default_factory=lambda: [TRIPS, SESSIONS, USERS, SHARE_LINKS])
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

    @field_validator("day_window_relaxed", "day_window_moderate", "day_window_packed")
    @classmethod
    def _ordered_window(cls, value: str) -> str:
        start, end = day_window_minutes(value)
        if not 0 <= start < end <= 24 * 60:
            raise ValueError("a day window must start before it ends, within 00:00-24:00")
        return value

    @field_validator("allowed_methods")
    @classmethod
    def _upper_methods(cls, value: list[str]) -> list[str]:
        return [method.upper() for method in value]

    @model_validator(mode="after")
    def _check_consistency(self) -> Settings:
        if not self.min_trip_duration_days <= self.default_trip_duration_days <= self.max_trip_duration_days:
            raise ValueError("MIN_TRIP_DURATION_DAYS <= DEFAULT_TRIP_DURATION_DAYS <= MAX_TRIP_DURATION_DAYS must hold")
        if self.gemini_max_tokens_retry < self.gemini_max_tokens:
            raise ValueError("GEMINI_MAX_TOKENS_RETRY must not be below GEMINI_MAX_TOKENS")
        if self.gemini_plan_deadline_seconds >= self.agent_response_timeout:
            # A planning that outlives AGENT_RESPONSE_TIMEOUT may be failed by cleanup_sessions while it still runs.
            raise ValueError("GEMINI_PLAN_DEADLINE_SECONDS must be below AGENT_RESPONSE_TIMEOUT")
        if self.gemini_proposal_reserve_seconds >= self.gemini_plan_deadline_seconds:
            raise ValueError("GEMINI_PROPOSAL_RESERVE_SECONDS must be below GEMINI_PLAN_DEADLINE_SECONDS")
        if self.share_page_static_map and self.maps_static_api_key is None:
            raise ValueError("SHARE_PAGE_STATIC_MAP needs MAPS_STATIC_API_KEY")
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
        if self.app_check_enforce is False:
            problems.append("APP_CHECK_ENFORCE must not be false: App Check cannot be turned off in production")
        if self.app_check_api_endpoint:
            problems.append("APP_CHECK_API_ENDPOINT points at a stand-in of the App Check API")
        if self.weather_api_endpoint:
            problems.append("WEATHER_API_ENDPOINT points at a stand-in of the Weather API")
        if self.plan_worker_auth_bypass:
            problems.append("PLAN_WORKER_AUTH_BYPASS must not be set")
        if problems:
            raise ValueError("refused in production: " + "; ".join(problems))

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def day_windows(self) -> dict[str, tuple[int, int]]:
        """Day window per pace name, as minutes since local midnight."""
        return {
            "relaxed": day_window_minutes(self.day_window_relaxed),
            "moderate": day_window_minutes(self.day_window_moderate),
            "packed": day_window_minutes(self.day_window_packed),
        }

    @property
    def app_check_enforced(self) -> bool:
        """Whether App Check tokens are required: APP_CHECK_ENFORCE, else on in production only."""
        return self.is_production if self.app_check_enforce is None else self.app_check_enforce


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
