"""The logical-export encoding keeps every Firestore type and value exactly."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import pytest
from google.api_core.datetime_helpers import DatetimeWithNanoseconds
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore
from google.cloud.firestore_v1.vector import Vector

from common.services.ops.codec import decode_value, encode_document, encode_value


@pytest.fixture
def client() -> firestore.Client:
    return firestore.Client(project="codec-test", credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]


def _round_trip(value: Any, client: firestore.Client) -> Any:
    text = json.dumps(encode_value(value), allow_nan=False)
    return decode_value(json.loads(text), client)


def test_every_firestore_type_survives_a_json_round_trip(client: firestore.Client) -> None:
    stamp = DatetimeWithNanoseconds(2026, 3, 4, 5, 6, 7, nanosecond=123456789, tzinfo=dt.UTC)  # type: ignore[no-untyped-call]
    document = {
        "text": "Kyōto ✓",
        "int": 2**62,
        "negative": -7,
        "double": 1.0,
        "fraction": 0.1,
        "flag": False,
        "nothing": None,
        "when": stamp,
        "blob": b"\x00\xffbinary",
        "where": firestore.GeoPoint(35.0116, 135.7681),
        "ref": client.document("trips/abc"),
        "vector": Vector([0.5, 1.5]),
        "nested": {"list": [1, "two", {"three": 3.0}], "$weird": {"$timestamp": "not a time"}},
    }
    restored = _round_trip(document, client)
    assert restored == document
    assert isinstance(restored["int"], int)
    assert isinstance(restored["double"], float)
    assert restored["when"].nanosecond == 123456789
    assert restored["ref"].path == "trips/abc"


@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_infinities_are_encoded_as_tags(value: float, client: firestore.Client) -> None:
    assert _round_trip(value, client) == value


def test_nan_is_encoded_as_a_tag(client: firestore.Client) -> None:
    assert encode_value(math.nan) == {"$double": "NaN"}
    assert math.isnan(_round_trip(math.nan, client))


def test_a_map_with_dollar_keys_is_wrapped_and_never_read_as_a_tag(client: firestore.Client) -> None:
    stored = {"$bytes": "aGVsbG8="}
    assert encode_value(stored) == {"$map": {"$bytes": "aGVsbG8="}}
    assert _round_trip(stored, client) == stored


def test_unknown_tags_are_refused(client: firestore.Client) -> None:
    with pytest.raises(ValueError, match="unknown tagged value"):
        decode_value({"$mystery": 1, "$other": 2}, client)


def test_plain_datetimes_encode_in_utc() -> None:
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert encode_value(moment) == {"$timestamp": "2026-01-02T01:04:05.006000Z"}


def test_documents_carry_their_id() -> None:
    assert encode_document("d1", {"a": b"x"}) == {"id": "d1", "data": {"a": {"$bytes": "eA=="}}}


def test_unsupported_values_are_refused() -> None:
    with pytest.raises(TypeError):
        encode_value(object())
