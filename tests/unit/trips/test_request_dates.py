"""Trip request dates are calendar dates written YYYY-MM-DD; other forms are refused with the field named."""

from __future__ import annotations

import datetime as dt

import pytest

from common.foundation.config import Settings
from common.foundation.errors import InvalidRequest
from common.services.trips.models import parse_trip_request

TODAY = dt.date(2026, 12, 2)


def body(**dates: object) -> dict[str, object]:
    return {"destination": "Kyoto", "start_date": "2027-01-01", "end_date": "2027-01-02"} | dates


def test_an_iso_date_is_accepted() -> None:
    request = parse_trip_request(body(), Settings(), TODAY)
    assert (request.start_date, request.end_date) == (dt.date(2027, 1, 1), dt.date(2027, 1, 2))


@pytest.mark.parametrize("value", ["2027-01-01T00:00:00Z", "2027-01-01T00:00:00", "20270101", 20270101, "2027-1-1"])
def test_other_forms_of_a_date_are_refused(value: object) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_trip_request(body(start_date=value), Settings(), TODAY)
    assert any(problem["field"] == "start_date" for problem in refused.value.details)
