"""The only code that talks to Google Maps (Places API (New) and Routes API). Start at ``MapsService``."""

from common.domain.maps.errors import (
    MapsApiDisabled,
    MapsPlaceNotFound,
    MapsQuotaExceeded,
    MapsRequestRejected,
    MapsUnavailable,
)
from common.domain.maps.factory import build_maps_service, build_places_client, build_routes_client, maps_service
from common.domain.maps.models import (
    Destination,
    LatLng,
    OpeningHours,
    OpeningPeriod,
    Place,
    PlaceSearch,
    PriceRange,
    Route,
    TravelMatrix,
    TravelMode,
    TravelTime,
    Viewport,
    Waypoint,
    WeekTime,
)
from common.domain.maps.service import MapsConfig, MapsService
from common.domain.maps.usage import MapsUsage

__all__ = [
    "Destination",
    "LatLng",
    "MapsApiDisabled",
    "MapsConfig",
    "MapsPlaceNotFound",
    "MapsQuotaExceeded",
    "MapsRequestRejected",
    "MapsService",
    "MapsUnavailable",
    "MapsUsage",
    "OpeningHours",
    "OpeningPeriod",
    "Place",
    "PlaceSearch",
    "PriceRange",
    "Route",
    "TravelMatrix",
    "TravelMode",
    "TravelTime",
    "Viewport",
    "Waypoint",
    "WeekTime",
    "build_maps_service",
    "build_places_client",
    "build_routes_client",
    "maps_service",
]
