"""The fixes the proof suites led to, pinned without servers: each of these answered a 500 (or an HTML page, or a
2xx) before."""

from __future__ import annotations

import datetime as dt
import json

import flask
import functions_framework
import pytest
from google.api_core import exceptions as core_exceptions

from common.api import routing
from common.api.http import read_json_body
from common.foundation.config import load_settings
from common.foundation.errors import InvalidRequest, UpstreamUnavailable, backing_service_unavailable
from common.services.trips import listing
from common.services.trips.models import parse_trip_request
from tests.proof.support import MAIN


def test_a_path_the_framework_cannot_route_gets_the_envelope() -> None:
    app = functions_framework.create_app(target="trips", source=str(MAIN), signature_type="http")  # type: ignore[no-untyped-call]
    response = app.test_client().get("/trips/abc%0Adef", headers={"X-Request-Id": "proof-request-0001"})
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/json")
    body = json.loads(response.get_data())
    assert body["error"]["code"] == "not_found"
    assert body["error"]["request_id"] == "proof-request-0001" == response.headers["X-Request-Id"]


def test_firestore_unavailable_is_a_503_even_behind_a_rollback_error() -> None:
    unavailable = core_exceptions.ServiceUnavailable("failed to connect to all addresses")  # type: ignore[no-untyped-call]
    rollback = ValueError("The transaction has no transaction ID, so it cannot be rolled back.")
    rollback.__context__ = unavailable  # as raised from the rollback inside ``except``
    assert isinstance(backing_service_unavailable(rollback), UpstreamUnavailable)
    retry = core_exceptions.RetryError("Timeout of 60.0s exceeded", cause=unavailable)  # type: ignore[no-untyped-call]
    assert isinstance(backing_service_unavailable(retry), UpstreamUnavailable)
    exhausted = ValueError("Failed to commit transaction in 5 attempts.")
    exhausted.__cause__ = core_exceptions.Aborted("Transaction aborted")  # type: ignore[no-untyped-call]
    assert isinstance(backing_service_unavailable(exhausted), UpstreamUnavailable)
    assert backing_service_unavailable(ValueError("a bug")) is None
    assert backing_service_unavailable(core_exceptions.NotFound("gone")) is None  # type: ignore[no-untyped-call]


def test_an_integer_too_long_to_convert_is_a_400() -> None:
    app = flask.Flask(__name__)
    data = b'{"travelers": ' + b"9" * 5000 + b"}"
    with (
        app.test_request_context("/", method="POST", data=data, content_type="application/json"),
        pytest.raises(InvalidRequest),
    ):
        read_json_body(flask.request, 65536)


def test_dates_are_checked_as_the_model_parsed_them() -> None:
    today = dt.date(2026, 11, 25)
    body = {"destination": "Kyoto", "start_date": "2027-01-01", "end_date": "2026-12-30"}
    with pytest.raises(InvalidRequest) as refused:
        parse_trip_request(body, load_settings(), today)
    assert {"field": "end_date", "message": "must not be before start_date"} in refused.value.details
    date_time = {"destination": "Kyoto", "start_date": "2027-01-01T00:00:00Z", "end_date": "2026-12-30"}
    with pytest.raises(InvalidRequest) as refused:
        parse_trip_request(date_time, load_settings(), today)
    assert {"field": "start_date", "message": "must be a date written YYYY-MM-DD"} in refused.value.details
    far = {"destination": "Kyoto", "start_date": "2099-01-01", "end_date": "2099-01-02"}
    with pytest.raises(InvalidRequest):
        parse_trip_request(far, load_settings(), today)


def test_an_unshare_uid_longer_than_a_firebase_uid_is_refused() -> None:
    assert routing.match_route(["trips", "t1", "share", "u" * 128]).share_uid == "u" * 128
    with pytest.raises(InvalidRequest):
        routing.match_route(["trips", "t1", "share", "u" * 129])


@pytest.mark.parametrize("page_size", ["¹", "١٢", "٣", "0", "51", "1e1", " 5"])
def test_a_page_size_that_is_not_an_ascii_number_is_a_400(page_size: str) -> None:
    with pytest.raises(InvalidRequest):
        listing.parse_list_params({"page_size": page_size})
