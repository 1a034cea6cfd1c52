from __future__ import annotations

import datetime as dt
import json

from google.events.cloud.firestore import DocumentEventData

from common.foundation.firestore_events import build_document, build_event_data, decode_event_data

NAME = "projects/p/databases/(default)/documents/trips/t1"
WHEN = dt.datetime(2027, 4, 2, 9, 30, tzinfo=dt.UTC)
DATA = {
    "title": "Kyoto",
    "travelers": 2,
    "ratio": 0.5,
    "ready": True,
    "notes": None,
    "days": [{"date": "2027-04-02", "stops": [{"name": "Fushimi Inari", "duration_min": 90}]}],
    "updated_at": WHEN,
}


def test_protobuf_round_trip_keeps_every_value_type() -> None:
    old = build_document(NAME, {"title": "Old"}, WHEN, WHEN)
    new = build_document(NAME, DATA, WHEN, WHEN)
    payload = DocumentEventData.serialize(build_event_data(old, new))
    change = decode_event_data(payload)
    assert change.document == NAME
    assert change.old == {"title": "Old"}
    assert change.new == DATA
    assert not change.is_delete


def test_json_payloads_decode_too() -> None:
    event = build_event_data(None, build_document(NAME, {"title": "Kyoto", "travelers": 2}, WHEN, WHEN))
    as_json = json.loads(DocumentEventData.to_json(event))
    change = decode_event_data(as_json)
    assert change.old is None
    assert change.new == {"title": "Kyoto", "travelers": 2}
    assert decode_event_data(json.dumps(as_json).encode()).new == change.new


def test_delete_has_no_new_value() -> None:
    payload = DocumentEventData.serialize(build_event_data(build_document(NAME, {"a": 1}, WHEN, WHEN), None))
    change = decode_event_data(payload)
    assert change.is_delete
    assert change.old == {"a": 1}
    assert change.document == NAME
