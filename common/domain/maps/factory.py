"""Building the Maps clients and the service from settings.

Both clients use the REST transport: against real Google (default endpoints, or ``MAPS_API_ENDPOINT``) and against
the local stand-in (an ``http://`` endpoint), so one code path is exercised everywhere. The API key comes from
``GOOGLE_MAPS_API_KEY`` or from Secret Manager (``common.foundation.secrets``); without one, real Google is reached with
Application Default Credentials.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from google.api_core.client_options import ClientOptions

from common.domain.maps.service import MapsConfig, MapsService, PlacesApi, RoutesApi
from common.domain.maps.weather import DEFAULT_ENDPOINT, RestWeatherApi, WeatherApi, WeatherService
from common.foundation.clients import Lazy
from common.foundation.errors import ConfigError
from common.foundation.secrets import maps_api_key

if TYPE_CHECKING:
    from google.cloud import firestore
    from google.maps import places_v1, routing_v2

    from common.foundation.config import Settings


def _client_options(settings: Settings) -> ClientOptions:
    key = maps_api_key(settings)  # GOOGLE_MAPS_API_KEY, or the secret named by GOOGLE_MAPS_API_KEY_SECRET
    endpoint = settings.maps_api_endpoint
    if endpoint:
        if not endpoint.startswith(("http://", "https://")):
            raise ConfigError("MAPS_API_ENDPOINT must start with http:// (local stand-in) or https://")
        if not key:
            raise ConfigError("GOOGLE_MAPS_API_KEY is required when MAPS_API_ENDPOINT is set")
        return ClientOptions(api_endpoint=endpoint.rstrip("/"), api_key=key)
    return ClientOptions(api_key=key) if key else ClientOptions()


def build_places_client(settings: Settings) -> places_v1.PlacesClient:
    from google.maps import places_v1

    return places_v1.PlacesClient(transport="rest", client_options=_client_options(settings))


def build_routes_client(settings: Settings) -> routing_v2.RoutesClient:
    from google.maps import routing_v2

    return routing_v2.RoutesClient(transport="rest", client_options=_client_options(settings))


def build_maps_service(
    settings: Settings, firestore_client: firestore.Client | None = None, **config_overrides: object
) -> MapsService:
    """A service on the configured endpoint; the Google clients are built on first use.

    Configuration errors (bad endpoint, missing key) are raised here, not on the first call.
    """
    _client_options(settings)
    places: Lazy[PlacesApi] = Lazy(lambda: build_places_client(settings))
    routes: Lazy[RoutesApi] = Lazy(lambda: build_routes_client(settings))
    return MapsService(MapsConfig.from_settings(settings, **config_overrides), places, routes, firestore_client)


def _build_default() -> MapsService:
    from common.foundation.clients import firestore_client
    from common.foundation.config import get_settings

    settings = get_settings()
    return build_maps_service(settings, firestore_client.get() if settings.maps_enable_caching else None)


maps_service: Lazy[MapsService] = Lazy(_build_default)
"""The process's service (L1 cache and single-flight are per service: keep one per process)."""


def build_weather_service(settings: Settings, firestore_client: firestore.Client | None = None) -> WeatherService:
    """The Weather API (``WEATHER_API_ENDPOINT``, else Google's) with the Maps API key, cached per place and date for
    ``WEATHER_CACHE_HOURS``; the HTTP session is the process's (``clients.http_session``), taken on first use."""
    endpoint = settings.weather_api_endpoint or DEFAULT_ENDPOINT

    def api() -> WeatherApi:
        from common.foundation.clients import http_session

        return RestWeatherApi(http_session.get(), endpoint, maps_api_key(settings), settings.weather_request_timeout)

    return WeatherService(
        Lazy(api), cache_seconds=settings.weather_cache_hours * 3600, firestore_client=firestore_client
    )


def _build_default_weather() -> WeatherService:
    from common.foundation.clients import firestore_client
    from common.foundation.config import get_settings

    settings = get_settings()
    return build_weather_service(settings, firestore_client.get() if settings.maps_enable_caching else None)


weather_service: Lazy[WeatherService] = Lazy(_build_default_weather)
"""The process's Weather API service (its L1 cache is per service: keep one per process)."""
