"""Authorization decisions and path routing of the trips API (pure)."""

from __future__ import annotations

import pytest

from common.api import routing
from common.foundation.errors import InvalidRequest, NotFound, PermissionDenied
from common.services.trips import access
from tests.unit.trips.factories import trip_from

TRIP = trip_from(
    {
        "user_id": "owner",
        "shared_with": {"ed": "editor", "vi": "viewer", "ghost": "editor"},
        "shared_with_uids": ["ed", "vi"],
    }
)
EXPECTED = {
    # action: (owner, editor, viewer)
    "read": (True, True, True),
    "edit": (True, True, False),
    "replan": (True, True, False),
    "share": (True, False, False),
    "delete": (True, False, False),
}


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_authorization_matrix(action: access.Action) -> None:
    for uid, allowed in zip(("owner", "ed", "vi"), EXPECTED[action], strict=True):
        if allowed:
            assert access.authorize(TRIP, uid, action) == access.role_of(TRIP, uid)
        else:
            with pytest.raises(PermissionDenied):
                access.authorize(TRIP, uid, action)
    for stranger in ("stranger", "ghost", ""):
        with pytest.raises(NotFound) as caught:
            access.authorize(TRIP, stranger, action)
        assert caught.value.message == "no such trip"
    with pytest.raises(NotFound):
        access.authorize(None, "owner", action)


def test_roles_need_both_the_map_and_the_list() -> None:
    assert access.role_of(TRIP, "owner") == "owner"
    assert access.role_of(TRIP, "ed") == "editor"
    assert access.role_of(TRIP, "vi") == "viewer"
    assert access.role_of(TRIP, "ghost") is None, "in shared_with but not in shared_with_uids"
    unknown_role = TRIP.model_copy(update={"user_id": "a", "shared_with": {"b": "admin"}, "shared_with_uids": ["b"]})
    assert access.role_of(unknown_role, "b") is None


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/trips", routing.Route("list")),
        ("/", routing.Route("list")),
        ("/trips/", routing.Route("list")),
        ("/trips/abc", routing.Route("trip", trip_id="abc")),
        ("/abc", routing.Route("trip", trip_id="abc")),
        ("/trips/abc.ics", routing.Route("ics", trip_id="abc")),
        ("/trips/abc/days/2/replan", routing.Route("replan", trip_id="abc", day_number=2)),
        ("/trips/abc/share", routing.Route("share", trip_id="abc")),
        ("/trips/abc/share/u1", routing.Route("unshare", trip_id="abc", share_uid="u1")),
        ("/trips/abc?page_size=3", routing.Route("trip", trip_id="abc")),
        ("/trips/caf%C3%A9", routing.Route("trip", trip_id="café")),
    ],
)
def test_routes(path: str, expected: routing.Route) -> None:
    assert routing.match_route(routing.split_path(path)) == expected


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/trips/a%2Fb", "'/'"),
        ("/trips/..", "'..'"),
        ("/trips/%2E%2E", "'..'"),
        ("/trips/__x__", "'__'"),
        ("/trips/" + "é" * 751, "1500 bytes"),
        ("/trips/abc/days/zero/replan", "first day"),
        ("/trips/abc/days/0/replan", "first day"),
        ("/trips/abc/share/a%2Fb", "'/'"),
    ],
)
def test_bad_ids_get_a_clear_400(path: str, problem: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        routing.match_route(routing.split_path(path))
    assert problem in str(caught.value.details) + caught.value.message


def test_an_id_of_exactly_1500_bytes_is_accepted_and_unknown_routes_are_404() -> None:
    assert routing.match_route(["trips", "a" * 1500]).trip_id == "a" * 1500
    for segments in (["trips", "abc", "nope"], ["trips", "abc", "days", "1"], ["trips", "abc", "share", "u", "x"]):
        with pytest.raises(NotFound):
            routing.match_route(segments)
