"""Share links and the public trip page, pure parts: tokens and their digests, who may manage links, expiry, the
client key and the per-instance counter of the rate limits, the page's view (sketch, static map URL) and its HTML
(escaping, headers, nothing about the owner)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import urllib.parse
from typing import Any

import pytest

from common.api.trip_page import _page, content_security_policy, static_map_options, token_of
from common.foundation.config import load_settings
from common.foundation.errors import ConfigError, InvalidRequest, NotFound, PermissionDenied, QuotaExceeded
from common.services.trips import share_links
from common.services.trips.models import ShareLink
from common.services.trips.page_limits import RequestCounter, client_key
from common.services.trips.page_view import (
    MARKER_SPACING,
    SKETCH_HEIGHT,
    SKETCH_WIDTH,
    StaticMapOptions,
    sketch_of,
    static_map_url,
    trip_view,
)
from tests.unit.trips.factories import T0, trip_from

HOSTILE = "<script>window.__pwned=1</script>\"'><img src=x onerror=alert(1)>"


def _stop(name: str, lat: float, lng: float, arrive: str = "09:00", depart: str = "10:00") -> dict[str, Any]:
    return {"name": name, "location": {"lat": lat, "lng": lng}, "arrive": arrive, "depart": depart}


def _trip(**fields: Any) -> Any:
    days = [
        {
            "date": "2026-05-02",
            "theme": "Temples",
            "stops": [_stop("Kiyomizu-dera", 34.9949, 135.7850), _stop("Lunch", 34.9960, 135.7800, "12:00", "13:00")],
        }
    ]
    return trip_from({"days": days, "user_id": "owner-uid-123"} | fields)


def test_a_token_is_32_url_safe_characters_and_only_its_digest_names_the_link() -> None:
    tokens = {share_links.new_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32}", token) for token in tokens)
    token = next(iter(tokens))
    assert share_links.token_digest(token) == hashlib.sha256(token.encode()).hexdigest()
    assert share_links.check_link_id(share_links.token_digest(token))
    with pytest.raises(InvalidRequest):
        share_links.check_link_id(token)


def test_the_owner_manages_links_editors_only_when_allowed_viewers_never() -> None:
    trip = _trip(shared_with={"ed": "editor", "vi": "viewer"}, shared_with_uids=["ed", "vi"])
    assert share_links.authorize_links(trip, "owner-uid-123") is trip
    for uid in ("ed", "vi"):
        with pytest.raises(PermissionDenied):
            share_links.authorize_links(trip, uid)
    with pytest.raises(NotFound):
        share_links.authorize_links(trip, "stranger")
    with pytest.raises(NotFound):
        share_links.authorize_links(None, "owner-uid-123")
    allowing = trip.model_copy(update={"link_sharing": "editors"})
    assert share_links.authorize_links(allowing, "ed") is allowing
    with pytest.raises(PermissionDenied):
        share_links.authorize_links(allowing, "vi")


def test_expiry_is_optional_and_bounded_and_an_expired_link_is_dead() -> None:
    settings = load_settings(share_link_max_days=30)
    assert share_links.expiry(settings, share_links.LinkRequest(), T0) is None
    assert share_links.expiry(settings, share_links.LinkRequest(expires_in_days=30), T0) == T0 + dt.timedelta(days=30)
    with pytest.raises(InvalidRequest) as refused:
        share_links.expiry(settings, share_links.LinkRequest(expires_in_days=31), T0)
    assert refused.value.details == [{"field": "expires_in_days", "message": "must be at most 30"}]
    link = ShareLink(id="a" * 64, trip_id="t", created_by="u", created_at=T0, expires_at=T0 + dt.timedelta(hours=1))
    assert share_links.is_live(link, T0 + dt.timedelta(minutes=59))
    assert not share_links.is_live(link, T0 + dt.timedelta(hours=1))
    assert share_links.is_live(link.model_copy(update={"expires_at": None}), T0 + dt.timedelta(days=9999))
    assert not share_links.is_live(None, T0)


def test_the_client_is_the_entry_our_proxy_added_hashed() -> None:
    spoofed = client_key("10.0.0.1", "1.2.3.4, 203.0.113.7", hops=1, salt="p")
    assert spoofed == client_key("10.0.0.9", "9.9.9.9, 203.0.113.7", hops=1, salt="p"), "left entries are the client's"
    assert spoofed != client_key("10.0.0.1", "1.2.3.4, 203.0.113.8", hops=1, salt="p")
    assert client_key("10.0.0.1", "1.2.3.4", hops=0, salt="p") == client_key("10.0.0.1", None, hops=0, salt="p")
    assert client_key("10.0.0.1", None, hops=1, salt="p") == client_key("10.0.0.1", None, hops=0, salt="p")
    assert "203.0.113.7" not in spoofed
    assert re.fullmatch(r"[0-9a-f]{32}", spoofed)


def test_the_request_counter_limits_each_client_per_window() -> None:
    settings = load_settings(share_page_requests_per_window=3, share_page_window_seconds=60)
    counter = RequestCounter()
    start = dt.datetime(2026, 5, 1, 12, 0, 10, tzinfo=dt.UTC)
    for _ in range(3):
        counter.admit("a", settings, start)
    with pytest.raises(QuotaExceeded) as limited:
        counter.admit("a", settings, start)
    assert limited.value.headers["Retry-After"] == "51"
    counter.admit("b", settings, start)
    counter.admit("a", settings, start + dt.timedelta(seconds=50))  # the next window


def test_a_sketch_keeps_the_order_stays_in_its_box_and_separates_stops_at_one_place() -> None:
    trip = _trip()
    stops = trip.days[0].stops
    twin = stops[0].model_copy(update={"name": "Twin"})
    sketch = sketch_of([*stops, twin])
    assert sketch is not None
    assert [point.number for point in sketch.points] == [1, 2, 3]
    for point in sketch.points:
        assert 0 < point.x < SKETCH_WIDTH
        assert 0 < point.y < SKETCH_HEIGHT
    first, _, third = sketch.points
    assert ((first.x - third.x) ** 2 + (first.y - third.y) ** 2) ** 0.5 >= MARKER_SPACING
    east, west = sketch.points[0], sketch.points[1]
    assert east.x > west.x, "the first stop lies east of the second"
    assert sketch_of([stops[0].model_copy(update={"location": None})]) is None


def test_the_static_map_url_has_numbered_markers_a_path_and_a_valid_signature() -> None:
    secret = base64.urlsafe_b64encode(b"0123456789abcdef").decode()
    url = static_map_url(_trip().days[0].stops, StaticMapOptions(key="k-123", signing_secret=secret))
    assert url is not None
    assert url.startswith("https://maps.googleapis.com/maps/api/staticmap?")
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query)
    assert [marker.split("|")[1] for marker in query["markers"]] == ["label:1", "label:2"]
    assert query["path"][0].endswith("|34.994900,135.785000|34.996000,135.780000")
    assert query["key"] == ["k-123"]
    signed, _, signature = f"{parts.path}?{parts.query}".rpartition("&signature=")
    expected = hmac.new(b"0123456789abcdef", signed.encode(), hashlib.sha1).digest()
    assert base64.urlsafe_b64decode(signature) == expected


def test_the_page_escapes_every_text_and_says_nothing_about_the_owner() -> None:
    trip = _trip(
        title=HOSTILE,
        notes="owner's private note",
        shared_with={"friend-uid-9": "viewer"},
        shared_with_uids=["friend-uid-9"],
        tips=[HOSTILE],
    )
    day = trip.days[0].model_copy(update={"theme": HOSTILE, "summary": HOSTILE, "warnings": [HOSTILE]})
    stop = day.stops[0].model_copy(update={"name": HOSTILE, "description": HOSTILE, "category": HOSTILE})
    trip = trip.model_copy(update={"days": [day.model_copy(update={"stops": [stop, *day.stops[1:]]})]})
    view = trip_view(trip)
    result = _page({"lang": view.language, "page_title": view.title, "trip": view}, 200, "private", load_settings())
    html = result.body
    assert "<script" not in html
    assert "<img" not in html
    assert "onerror=alert(1)>" not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;&#34;&#39;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    for private in ("owner-uid-123", "friend-uid-9", "owner's private note"):
        assert private not in html
    assert 'property="og:title"' in html
    assert "@media print" in html
    nonce = re.search(r'<style nonce="([^"]+)">', html)
    assert nonce is not None
    assert result.headers["Content-Security-Policy"] == content_security_policy(nonce.group(1), static_map=False)
    assert (result.headers["Referrer-Policy"], result.headers["X-Robots-Tag"]) == ("no-referrer", "noindex, nofollow")


def test_the_policy_allows_nothing_but_the_page_itself_and_static_maps_when_on() -> None:
    policy = content_security_policy("n0nce", static_map=False)
    assert "script-src" not in policy
    assert "unsafe" not in policy
    assert "https:" not in policy
    assert "default-src 'none'" in policy
    assert "style-src 'nonce-n0nce'" in policy
    assert "img-src data:;" in policy
    assert "img-src data: https://maps.googleapis.com;" in content_security_policy("n", static_map=True)


def test_the_page_path_names_one_token() -> None:
    assert token_of("/t/abc") == "abc"
    assert token_of("/trip_page/t/abc?x=1") == "abc"
    for path in ("/", "/t", "/t/", "/t/abc/more", "/x/abc", "/trips/t/abc"):
        assert token_of(path) is None, path


def test_the_static_map_option_needs_its_key_and_then_shows_a_map_per_day_allowed_by_the_policy() -> None:
    with pytest.raises(ConfigError, match="MAPS_STATIC_API_KEY"):
        load_settings(share_page_static_map=True)
    settings = load_settings(share_page_static_map=True, maps_static_api_key="static-key-1")
    options = static_map_options(settings)
    assert options == StaticMapOptions(key="static-key-1", signing_secret=None)
    assert static_map_options(load_settings(maps_static_api_key="static-key-1")) is None, "off unless asked for"
    view = trip_view(_trip(), options)
    result = _page({"lang": "en", "page_title": view.title, "trip": view}, 200, "private", settings)
    images = re.findall(r'<img src="([^"]+)"[^>]* alt="([^"]+)"', result.body)
    assert len(images) == 1
    src, alt = images[0]
    assert src.startswith("https://maps.googleapis.com/maps/api/staticmap?")
    assert "&amp;key=static-key-1" in src
    assert alt.startswith("Map of day 1")
    assert "<svg" not in result.body, "the map replaces the sketch"
    assert "img-src data: https://maps.googleapis.com;" in result.headers["Content-Security-Policy"]


def test_a_trip_still_being_planned_says_so_and_shows_no_days() -> None:
    planning = trip_from({"status": "planning", "user_id": "owner-uid-123"})
    view = trip_view(planning)
    assert view.days == ()
    assert view.status_note == "This trip is still being planned. Open the link again in a minute."
    html = _page({"lang": "en", "page_title": view.title, "trip": view}, 200, "private", load_settings()).body
    assert 'role="status"' in html
    assert '<section class="day"' not in html
