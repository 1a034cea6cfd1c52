"""The Firestore collections the backend uses: each name is written here once."""

from __future__ import annotations

TRIPS = "trips"
SESSIONS = "ai_sessions"
QUOTAS = "quotas"
USERS = "users"
BACKUPS = "backups"
OPS_RUNS = "ops_runs"
PLACES_CACHE = "places_cache"
SEARCH_CACHE = "maps_search_cache"
ROUTE_CACHE = "maps_route_cache"
WEATHER_CACHE = "maps_weather_cache"
SHARE_LINKS = "share_links"
PAGE_MISSES = "share_page_misses"
HEALTH = "_health"

EXPIRING = (PLACES_CACHE, SEARCH_CACHE, ROUTE_CACHE, WEATHER_CACHE, QUOTAS, OPS_RUNS, SHARE_LINKS, PAGE_MISSES)
"""Collections whose documents carry ``expire_at`` (TTL policies delete them; ``cleanup_sessions`` too)."""
