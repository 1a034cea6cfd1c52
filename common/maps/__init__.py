"""The only code that talks to Google Maps (Places API (New) and Routes API). Start at ``MapsService``."""

from common.maps.errors import (
    MapsApiDisabled,
    MapsPlaceNotFound,
    MapsQuotaExceeded,
    MapsRequestRejected,
    MapsUnavailable,
)
from common.maps.factory import build_maps_service, build_places_client, build_routes_client, maps_service
from common.maps.models import (
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
from common.maps.service import MapsConfig, MapsService
from common.maps.usage import MapsUsage

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
