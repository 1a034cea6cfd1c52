"""Lossless JSON form of Firestore values, for logical exports and per-user exports.

JSON-native values stay as they are (strings, booleans, null, integers, finite doubles; ``1.0`` stays a double
because ``json`` writes it with its decimal point). Every other Firestore type becomes a one-key object tagged with
``$``:

- timestamp -> ``{"$timestamp": "2026-01-02T03:04:05.123456789Z"}`` (RFC 3339, nanoseconds kept)
- bytes -> ``{"$bytes": "<base64>"}``
- geopoint -> ``{"$geopoint": [lat, lng]}``
- reference -> ``{"$reference": "collection/doc/..."}`` (relative to the database; restored into the target one)
- NaN / infinities -> ``{"$double": "NaN" | "Infinity" | "-Infinity"}``
- vector -> ``{"$vector": [...]}``
- a map with a key starting with ``$`` -> ``{"$map": {...}}``, so stored data can never be mistaken for a tag.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from google.cloud import firestore

_SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def encode_value(value: Any) -> Any:
    """The JSON form of a value read from Firestore."""
    from google.api_core.datetime_helpers import DatetimeWithNanoseconds
    from google.cloud.firestore_v1 import DocumentReference, GeoPoint
    from google.cloud.firestore_v1.vector import Vector

    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {"$double": "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")}
    if isinstance(value, DatetimeWithNanoseconds):
        return {"$timestamp": value.rfc3339()}  # type: ignore[no-untyped-call]
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # as_utc without the text case
        return {"$timestamp": moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, GeoPoint):
        return {"$geopoint": [value.latitude, value.longitude]}
    if isinstance(value, DocumentReference):
        return {"$reference": value.path}
    if isinstance(value, Vector):
        return {"$vector": [float(item) for item in value]}
    if isinstance(value, Mapping):
        encoded = {str(key): encode_value(item) for key, item in value.items()}
        if any(key.startswith("$") for key in encoded):
            return {"$map": encoded}
        return encoded
    if isinstance(value, list | tuple):
        return [encode_value(item) for item in value]
    raise TypeError(f"cannot encode a {type(value).__name__} from Firestore")


def decode_value(value: Any, client: firestore.Client) -> Any:
    """The Firestore value of a JSON form written by ``encode_value``; references point into ``client``'s database."""
    from google.api_core.datetime_helpers import DatetimeWithNanoseconds
    from google.cloud.firestore_v1 import GeoPoint
    from google.cloud.firestore_v1.vector import Vector

    if isinstance(value, list):
        return [decode_value(item, client) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((tag, payload),) = value.items()
        if tag == "$timestamp":
            return DatetimeWithNanoseconds.from_rfc3339(payload)  # type: ignore[no-untyped-call]
        if tag == "$bytes":
            return base64.b64decode(payload)
        if tag == "$geopoint":
            return GeoPoint(payload[0], payload[1])
        if tag == "$reference":
            return client.document(payload)
        if tag == "$double":
            return _SPECIAL_DOUBLES[payload]
        if tag == "$vector":
            return Vector(payload)
        if tag == "$map":
            return {key: decode_value(item, client) for key, item in payload.items()}
    if any(key.startswith("$") for key in value):
        raise ValueError(f"unknown tagged value with keys {sorted(value)[:5]}")
    return {key: decode_value(item, client) for key, item in value.items()}


def encode_document(doc_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """One line of a logical export: ``{"id", "data"}``."""
    return {"id": doc_id, "data": encode_value(dict(data))}
