"""Share links through HTTP on the local stack (Auth emulator tokens, Firestore and Maps stand-ins, offline planner):
who may create, list and revoke them, what is stored (a digest, never the token), the public page they open
(trip_page, served in the test process like plan_trip and trips), and the page's answers for tokens that do not open
anything: one 404 page for unknown, revoked and expired tokens, rate limited per client across instances. The page in
a real browser is tests/integration/trips/test_trip_page_browser.py."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

import jsonschema
import pytest
import requests
from google.cloud import firestore

from common.foundation.config import load_settings
from common.services.trips import share_links
from common.services.trips.share_links import LinkRequest
from tests.integration.in_process import InProcessFunctions
from tests.integration.support import TestUser, module_env, sign_up
from tests.integration.trips.support import plan, schema_for

MISSES_PER_WINDOW = 4


@pytest.fixture(scope="module")
def people(stack: dict[str, str]) -> dict[str, TestUser]:
    return {role: sign_up(stack) for role in ("owner", "editor", "viewer", "stranger")}


@pytest.fixture(scope="module")
def urls(in_process: InProcessFunctions, stack: dict[str, str], firestore_project: str) -> dict[str, str]:
    """plan_trip, trips and two instances of trip_page (each its own process caches and in-memory counter, as two
    instances are), all in this module's project; trips names the first page instance as TRIP_PAGE_URL."""
    env = module_env(stack, firestore_project) | {
        "PLAN_RATE_PER_MINUTE": "60",
        "PLAN_RATE_PER_DAY": "200",
        "SHARE_PAGE_MISSES_PER_WINDOW": str(MISSES_PER_WINDOW),
    }
    page = in_process.serve("trip_page", env)
    other_page = in_process.serve("trip_page", env | {"LOG_LEVEL": "WARNING"})
    return {
        "plan": in_process.serve("plan_trip", env),
        "trips": in_process.serve("trips", env | {"TRIP_PAGE_URL": page}) + "/trips",
        "page": page,
        "other_page": other_page,
        "user_data": in_process.serve("user_data", env),
    }


@pytest.fixture(scope="module")
def trip(http: requests.Session, urls: dict[str, str], people: dict[str, TestUser]) -> dict[str, Any]:
    planned = plan(http, urls["plan"], people["owner"])
    share = f"{urls['trips']}/{planned['id']}/share"
    for role in ("editor", "viewer"):
        body = {"uid": people[role].uid, "role": role}
        response = http.post(share, json=body, headers=people["owner"].headers, timeout=30)
        assert response.status_code == 200, response.text
    return planned


def client(number: int) -> dict[str, str]:
    """Headers of one browser: Google's front end appends the client's address to X-Forwarded-For."""
    return {"X-Forwarded-For": f"198.51.100.{number}"}


def create(http: requests.Session, urls: dict[str, str], trip_id: str, user: TestUser, **body: Any) -> Any:
    return http.post(f"{urls['trips']}/{trip_id}/links", json=body or None, headers=user.headers, timeout=30)


def page_text(response: requests.Response) -> str:
    """The page without its per-response nonce."""
    return re.sub(r"nonce[-=\"]+[A-Za-z0-9_-]+", "nonce", response.text)


def test_the_owner_creates_a_link_whose_token_is_shown_once_and_never_stored(
    http: requests.Session,
    urls: dict[str, str],
    people: dict[str, TestUser],
    trip: dict[str, Any],
    firestore_client: firestore.Client,
) -> None:
    response = create(http, urls, trip["id"], people["owner"], expires_in_days=7)
    assert response.status_code == 201, response.text
    assert response.headers["Cache-Control"] == "no-store"
    created = response.json()
    jsonschema.validate(created, schema_for("CreatedLink"))
    token = created["token"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token)
    assert created["url"] == f"{urls['page']}/t/{token}"
    assert created["link"]["id"] == share_links.token_digest(token)
    stored = firestore_client.collection("share_links").document(created["link"]["id"]).get().to_dict() or {}
    assert stored["trip_id"] == trip["id"]
    assert token not in repr(stored)
    assert stored["expire_at"] == stored["expires_at"]
    listing = http.get(f"{urls['trips']}/{trip['id']}/links", headers=people["owner"].headers, timeout=30)
    assert listing.status_code == 200, listing.text
    jsonschema.validate(listing.json(), schema_for("LinkList"))
    assert created["link"] in listing.json()["links"]
    assert token not in listing.text
    opened = http.get(created["url"], headers=client(1), timeout=30)
    assert opened.status_code == 200
    assert opened.headers["Content-Type"] == "text/html; charset=utf-8"
    assert trip["days"][0]["stops"][0]["name"] in opened.text


def test_editors_manage_links_only_when_the_owner_allows_it_and_viewers_never(
    http: requests.Session, urls: dict[str, str], people: dict[str, TestUser], trip: dict[str, Any]
) -> None:
    links = f"{urls['trips']}/{trip['id']}/links"
    expected = {"editor": 403, "viewer": 403, "stranger": 404}
    for name, status in expected.items():
        assert create(http, urls, trip["id"], people[name]).status_code == status, name
        assert http.get(links, headers=people[name].headers, timeout=30).status_code == status, name
    assert http.post(links, timeout=30).status_code == 401
    trip_url = f"{urls['trips']}/{trip['id']}"

    def set_link_sharing(user: TestUser, value: str) -> requests.Response:
        version = http.get(trip_url, headers=people["owner"].headers, timeout=30).json()["version"]
        body = {"version": version, "link_sharing": value}
        return http.patch(trip_url, json=body, headers=user.headers, timeout=30)

    assert set_link_sharing(people["editor"], "editors").status_code == 403, "only the owner lets editors link"
    allowed = set_link_sharing(people["owner"], "editors")
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["link_sharing"] == "editors"
    by_editor = create(http, urls, trip["id"], people["editor"])
    assert by_editor.status_code == 201, by_editor.text
    assert by_editor.json()["link"]["created_by"] == people["editor"].uid
    assert create(http, urls, trip["id"], people["viewer"]).status_code == 403
    revoked = http.delete(f"{links}/{by_editor.json()['link']['id']}", headers=people["editor"].headers, timeout=30)
    assert revoked.status_code == 204
    assert set_link_sharing(people["owner"], "owner").status_code == 200
    assert create(http, urls, trip["id"], people["editor"]).status_code == 403


def test_bad_link_requests_list_every_problem_and_store_nothing(
    http: requests.Session,
    urls: dict[str, str],
    people: dict[str, TestUser],
    trip: dict[str, Any],
    firestore_client: firestore.Client,
) -> None:
    before = len(list(firestore_client.collection("share_links").stream()))
    too_long = create(http, urls, trip["id"], people["owner"], expires_in_days=366)
    assert too_long.status_code == 400
    assert too_long.json()["error"]["details"] == [{"field": "expires_in_days", "message": "must be at most 365"}]
    mixed = create(http, urls, trip["id"], people["owner"], expires_in_days=0, colour="red")
    assert mixed.status_code == 400
    assert {problem["field"] for problem in mixed.json()["error"]["details"]} == {"expires_in_days", "colour"}
    bad_id = http.delete(f"{urls['trips']}/{trip['id']}/links/not-an-id", headers=people["owner"].headers, timeout=30)
    assert bad_id.status_code == 400
    unknown = http.delete(f"{urls['trips']}/{trip['id']}/links/{'0' * 64}", headers=people["owner"].headers, timeout=30)
    assert unknown.status_code == 404
    assert len(list(firestore_client.collection("share_links").stream())) == before


def test_the_page_is_read_only_public_and_says_nothing_about_the_owner(
    http: requests.Session,
    urls: dict[str, str],
    people: dict[str, TestUser],
    trip: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = create(http, urls, trip["id"], people["owner"]).json()["url"]
    page = http.get(url, headers=client(2), timeout=30)
    assert page.status_code == 200
    logged = [f"{record.getMessage()} {getattr(record, 'fields', '')}" for record in caplog.records]
    assert any("GET /t/… -> 200" in line for line in logged), "the page's request is logged"
    assert not [line for line in logged if url.rsplit("/", 1)[1] in line], "without its token"
    headers = page.headers
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Robots-Tag"] == "noindex, nofollow"
    assert headers["Cache-Control"] == "private, max-age=60"
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy
    for day in trip["days"]:
        assert f'data-date="{day["date"]}"' in page.text
        for stop in day["stops"]:
            assert stop["arrive"] in page.text
            assert stop["name"] in page.text
    for private in (people["owner"].uid, people["owner"].email, people["editor"].uid, people["viewer"].uid):
        assert private not in page.text
    assert '<meta property="og:title"' in page.text
    assert http.post(url, headers=client(2), timeout=30).status_code == 405


def test_unknown_revoked_and_expired_tokens_get_the_same_404_page(
    http: requests.Session,
    urls: dict[str, str],
    people: dict[str, TestUser],
    trip: dict[str, Any],
    firestore_client: firestore.Client,
) -> None:
    created = create(http, urls, trip["id"], people["owner"]).json()
    assert http.get(created["url"], headers=client(3), timeout=30).status_code == 200
    revoke = f"{urls['trips']}/{trip['id']}/links/{created['link']['id']}"
    assert http.delete(revoke, headers=people["owner"].headers, timeout=30).status_code == 204
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    from common.services.trips import store

    stored_trip = store.read_trip(firestore_client, trip["id"])
    assert stored_trip is not None
    expired = share_links.create_link(
        firestore_client, load_settings(), stored_trip, people["owner"].uid, LinkRequest(expires_in_days=1), past
    )
    answers = {
        "revoked": http.get(created["url"], headers=client(4), timeout=30),
        "expired": http.get(f"{urls['page']}/t/{expired.token}", headers=client(5), timeout=30),
        "unknown": http.get(f"{urls['page']}/t/{secrets.token_urlsafe(24)}", headers=client(6), timeout=30),
        "malformed": http.get(f"{urls['page']}/t/%3Cscript%3E", headers=client(7), timeout=30),
        "other path": http.get(f"{urls['page']}/trips/{trip['id']}", headers=client(8), timeout=30),
    }
    reference = answers["unknown"]
    assert reference.status_code == 404
    assert "Link not found" in reference.text
    ignored = {"x-request-id", "date", "content-security-policy"}
    for name, answer in answers.items():
        assert answer.status_code == 404, name
        assert page_text(answer) == page_text(reference), name
        assert {key.lower(): value for key, value in answer.headers.items() if key.lower() not in ignored} == {
            key.lower(): value for key, value in reference.headers.items() if key.lower() not in ignored
        }, name
        assert answer.headers["Cache-Control"] == "no-store"


def test_misses_are_limited_per_client_across_instances_and_a_limited_client_gets_a_429_page(
    http: requests.Session, urls: dict[str, str], people: dict[str, TestUser], trip: dict[str, Any]
) -> None:
    good = create(http, urls, trip["id"], people["owner"]).json()["url"]
    guesser, bystander = client(40), client(41)
    for attempt in range(MISSES_PER_WINDOW):
        page = urls["page"] if attempt % 2 == 0 else urls["other_page"]  # two instances, one count
        assert http.get(f"{page}/t/{secrets.token_urlsafe(24)}", headers=guesser, timeout=30).status_code == 404
    for page in (urls["page"], urls["other_page"]):
        limited = http.get(f"{page}/t/{secrets.token_urlsafe(24)}", headers=guesser, timeout=30)
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["Retry-After"]) <= load_settings().share_page_window_seconds + 1
        assert "Too many requests" in limited.text
        assert limited.headers["Content-Type"] == "text/html; charset=utf-8"
    assert http.get(good, headers=guesser, timeout=30).status_code == 429, "a limited client opens nothing"
    assert http.get(good, headers=bystander, timeout=30).status_code == 200
    spoofing = {"X-Forwarded-For": "203.0.113.99, " + guesser["X-Forwarded-For"]}
    assert http.get(good, headers=spoofing, timeout=30).status_code == 429, "a forged left entry changes nothing"


def test_deleting_a_trip_or_a_users_data_deletes_their_links(
    http: requests.Session,
    urls: dict[str, str],
    stack: dict[str, str],
    firestore_client: firestore.Client,
) -> None:
    user, friend = sign_up(stack), sign_up(stack)
    doomed, kept = plan(http, urls["plan"], user), plan(http, urls["plan"], user)
    doomed_url = create(http, urls, doomed["id"], user).json()["url"]
    kept_token = create(http, urls, kept["id"], user).json()["token"]
    deleted = http.delete(f"{urls['trips']}/{doomed['id']}", headers=user.headers, timeout=30)
    assert deleted.status_code == 204
    assert http.get(doomed_url, headers=client(60), timeout=30).status_code == 404
    links = firestore_client.collection("share_links")
    assert [s.id for s in links.stream() if (s.to_dict() or {}).get("trip_id") == doomed["id"]] == []
    # A link the user made as an editor of a friend's trip holds their uid: exported and deleted with their data.
    friends_trip = plan(http, urls["plan"], friend)
    friend_url = f"{urls['trips']}/{friends_trip['id']}"
    body = {"uid": user.uid, "role": "editor"}
    assert http.post(f"{friend_url}/share", json=body, headers=friend.headers, timeout=30).status_code == 200
    body = {"version": friends_trip["version"], "link_sharing": "editors"}
    assert http.patch(friend_url, json=body, headers=friend.headers, timeout=30).status_code == 200
    editor_token = create(http, urls, friends_trip["id"], user).json()["token"]
    friends_token = create(http, urls, friends_trip["id"], friend).json()["token"]
    exported = http.get(urls["user_data"], headers=user.headers, timeout=60)
    assert exported.status_code == 200, exported.text
    listed = {link["id"] for link in exported.json()["data"]["share_links"]}
    assert listed == {share_links.token_digest(kept_token), share_links.token_digest(editor_token)}
    assert kept_token not in exported.text
    assert editor_token not in exported.text
    gone = http.delete(f"{urls['user_data']}?confirm=true", headers=user.headers, timeout=60)
    assert gone.status_code == 200, gone.text
    assert gone.json()["deleted"]["share_links"] == 2
    for token, status in ((kept_token, 404), (editor_token, 404), (friends_token, 200)):
        assert http.get(f"{urls['page']}/t/{token}", headers=client(61), timeout=30).status_code == status


def test_the_page_of_a_multi_city_trip_shows_each_days_city_the_transfer_and_the_forecast(
    http: requests.Session, urls: dict[str, str], people: dict[str, TestUser]
) -> None:
    owner = people["owner"]
    start = dt.date.today() + dt.timedelta(days=2)  # inside the forecast horizon
    body: dict[str, Any] = {
        "destinations": [{"destination": "Tokyo", "nights": 1}, {"destination": "Kyoto"}],
        "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=2)).isoformat(),
        "travelers": 2,
    }
    response = http.post(urls["plan"], json=body, headers=owner.headers, timeout=120)
    assert response.status_code == 201, response.text
    planned = response.json()
    transfer = planned["days"][1]["transfer"]
    assert transfer is not None
    link = create(http, urls, planned["id"], owner)
    assert link.status_code == 201, link.text
    page = http.get(link.json()["url"], headers=client(60), timeout=30)
    assert page.status_code == 200
    html = page.text
    assert "Tokyo → Kyoto" in html
    assert html.count('<p class="city">In Tokyo</p>') == 1
    assert html.count('<p class="city">In Kyoto</p>') == 2
    assert f"Train {transfer['depart']}–{transfer['arrive']} (local times), Tokyo to Kyoto" in html
    forecasts = re.findall(r'<p class="forecast">Weather: ([^<]+)</p>', html)
    assert len(forecasts) == 3
    assert all("chance of rain or snow" in text for text in forecasts)
