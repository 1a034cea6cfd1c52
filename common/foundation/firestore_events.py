"""Firestore CloudEvents (``google.cloud.firestore.document.v1.written``): build and read ``DocumentEventData``.

Eventarc delivers the body as protobuf (``application/protobuf``); JSON bodies also occur (e.g. when re-delivered by
hand). Both decode here to plain Python values: strings, numbers, booleans, None, datetimes, bytes, lists, dicts,
``GeoPoint`` as ``{"latitude", "longitude"}`` and references as their path.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from google.events.cloud.firestore import Document, DocumentEventData, Value

EVENT_TYPE_WRITTEN = "google.cloud.firestore.document.v1.written"


@dataclass(frozen=True)
class DocumentChange:
    """One decoded write: the document's path and its data before and after (``None`` when absent)."""

    document: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    update_time: dt.datetime | None

    @property
    def is_delete(self) -> bool:
        return self.new is None


def to_value(python_value: Any) -> Value:
    """A Python value as a Firestore ``Value`` message."""
    from google.events.cloud.firestore import ArrayValue, MapValue, Value

    if python_value is None:
        return Value(null_value=0)
    if isinstance(python_value, bool):
        return Value(boolean_value=python_value)
    if isinstance(python_value, int):
        return Value(integer_value=python_value)
    if isinstance(python_value, float):
        return Value(double_value=python_value)
    if isinstance(python_value, str):
        return Value(string_value=python_value)
    if isinstance(python_value, bytes):
        return Value(bytes_value=python_value)
    if isinstance(python_value, dt.datetime):
        return Value(timestamp_value=python_value)
    if isinstance(python_value, list | tuple):
        return Value(array_value=ArrayValue(values=[to_value(item) for item in python_value]))
    if isinstance(python_value, dict):
        return Value(map_value=MapValue(fields={str(k): to_value(v) for k, v in python_value.items()}))
    latitude, longitude = getattr(python_value, "latitude", None), getattr(python_value, "longitude", None)
    if latitude is not None and longitude is not None:
        from google.type.latlng_pb2 import LatLng

        return Value(geo_point_value=LatLng(latitude=latitude, longitude=longitude))
    path = getattr(python_value, "path", None)
    if isinstance(path, str):
        return Value(reference_value=path)
    raise TypeError(f"cannot encode {type(python_value).__name__} as a Firestore value")


def from_value(value: Value) -> Any:
    """A Firestore ``Value`` message as a plain Python value."""
    kind = type(value).pb(value).WhichOneof("value_type")
    if kind is None or kind == "null_value":
        return None
    if kind == "map_value":
        return {key: from_value(item) for key, item in value.map_value.fields.items()}
    if kind == "array_value":
        return [from_value(item) for item in value.array_value.values]
    if kind == "geo_point_value":
        return {"latitude": value.geo_point_value.latitude, "longitude": value.geo_point_value.longitude}
    return getattr(value, kind)


def build_document(name: str, data: dict[str, Any], create_time: Any, update_time: Any) -> Document:
    from google.events.cloud.firestore import Document

    return Document(
        name=name,
        fields={key: to_value(item) for key, item in data.items()},
        create_time=create_time,
        update_time=update_time,
    )


def build_event_data(old: Document | None, new: Document | None) -> DocumentEventData:
    from google.events.cloud.firestore import DocumentEventData

    event = DocumentEventData()
    if old is not None:
        event.old_value = old
    if new is not None:
        event.value = new
    return event


def _document_fields(document: Document) -> dict[str, Any] | None:
    if not document.name:
        return None
    return {key: from_value(item) for key, item in document.fields.items()}


def decode_event_data(data: bytes | str | dict[str, Any]) -> DocumentChange:
    """Decode a ``DocumentEventData`` given as protobuf bytes, a JSON string, or already-parsed JSON."""
    from google.events.cloud.firestore import DocumentEventData

    if isinstance(data, bytes) and data[:1] not in (b"{", b"["):
        event = DocumentEventData.deserialize(data)
    else:
        if isinstance(data, bytes | str):
            data = json.loads(data)
        if not isinstance(data, dict):
            raise ValueError("a DocumentEventData JSON body must be an object")
        event = DocumentEventData.from_json(json.dumps(data), ignore_unknown_fields=True)
    old = _document_fields(event.old_value)
    new = _document_fields(event.value)
    name = event.value.name or event.old_value.name
    update_time = event.value.update_time if event.value.name else None
    return DocumentChange(document=name, old=old, new=new, update_time=update_time)
