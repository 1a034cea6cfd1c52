"""The public page of a share link: ``GET /t/{token}`` on the ``trip_page`` function, no sign-in.

The trip is rendered on the server into one HTML page (``templates/trip_page.html``, Jinja with autoescaping, so
every name and description from Maps or a model is text, in element and attribute contexts alike): its days, times,
legs, costs, warnings and an inline SVG sketch of each day's stops in order. Nothing about the owner is on it
(``common.services.trips.page_view`` builds what it shows).

Headers: a strict Content-Security-Policy (nothing but the page itself: no script at all, the one style element
allowed by a nonce, images only as ``data:``, or from Static Maps when ``SHARE_PAGE_STATIC_MAP`` is on),
``Referrer-Policy: no-referrer`` (the token is in the URL), ``X-Robots-Tag: noindex``, and
``Cache-Control: private, max-age=60``: the holder's browser may keep the page a minute, shared caches never, so a
revoked link stops working for everyone else at once. A token that is unknown, revoked or expired (or whose trip is
gone) answers the same 404 page, with the same headers, after the same Firestore reads; misses are rate limited per
client (``common.services.trips.page_limits``), and a limited client gets a 429 page with ``Retry-After``.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.api.routing import split_path
from common.foundation.clients import Lazy
from common.foundation.config import Settings
from common.foundation.errors import InvalidRequest, QuotaExceeded
from common.foundation.log import get_logger
from common.foundation.times import utc_now
from common.services.trips import share_links
from common.services.trips.page_limits import MissCounter, RequestCounter, client_key
from common.services.trips.page_view import STATIC_MAP_HOST, StaticMapOptions, trip_view

if TYPE_CHECKING:
    import flask
    import jinja2
    from google.cloud import firestore

    from common.api.http import JsonResult

logger = get_logger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"
FUNCTION_PREFIX = "trip_page"
LINK_SEGMENT = "t"
PAGE_CACHE = "private, max-age=60"
NO_STORE = "no-store"
NOT_FOUND = (
    "Link not found",
    "This trip link does not work: it may have been mistyped, revoked or expired. Ask whoever shared it for a new one.",
)
TOO_MANY = ("Too many requests", "Too many trip links were opened from here. Try again in a few minutes.")


@dataclass(frozen=True)
class TripPageDeps:
    settings: Settings
    firestore: firestore.Client
    requests: RequestCounter
    misses: MissCounter
    clock: Callable[[], dt.datetime] = utc_now


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def content_security_policy(nonce: str, static_map: bool) -> str:
    images = "data:" + (f" {STATIC_MAP_HOST}" if static_map else "")
    return "; ".join(
        [
            "default-src 'none'",
            f"style-src 'nonce-{nonce}'",
            f"img-src {images}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def _page(template_values: dict[str, Any], status: int, cache: str, settings: Settings) -> JsonResult:
    from common.api.http import JsonResult

    nonce = secrets.token_urlsafe(16)
    html = _environment().get_template("trip_page.html").render(nonce=nonce, **template_values)
    headers = {
        "Content-Security-Policy": content_security_policy(nonce, settings.share_page_static_map),
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex, nofollow",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Cache-Control": cache,
    }
    return JsonResult(html, status=status, headers=headers, content_type="text/html")


def _message_page(texts: tuple[str, str], status: int, settings: Settings, extra: dict[str, str]) -> JsonResult:
    heading, message = texts
    result = _page(
        {"lang": "en", "page_title": heading, "trip": None, "heading": heading, "message": message},
        status,
        NO_STORE,
        settings,
    )
    result.headers.update(extra)
    return result


def token_of(raw_path: str) -> str | None:
    """The token of ``/t/{token}`` (or ``/trip_page/t/{token}``, as the deployed URL names it); ``None`` for any
    other path."""
    try:
        segments = split_path(raw_path)
    except InvalidRequest:
        return None
    if segments and segments[0] == FUNCTION_PREFIX:
        segments = segments[1:]
    if len(segments) == 2 and segments[0] == LINK_SEGMENT and segments[1]:
        return segments[1]
    return None


def path_for_log(path: str) -> str:
    """The path as logged: a link's token is a secret (whoever reads it can open the trip), so it is left out."""
    return f"/{LINK_SEGMENT}/…" if token_of(path) is not None else path[:100]


def static_map_options(settings: Settings) -> StaticMapOptions | None:
    if not settings.share_page_static_map or settings.maps_static_api_key is None:
        return None
    secret = settings.maps_static_signing_secret
    return StaticMapOptions(
        key=settings.maps_static_api_key.get_secret_value(),
        signing_secret=secret.get_secret_value() if secret else None,
    )


def handle(request: flask.Request, deps: TripPageDeps) -> JsonResult:
    """The trip's page for a live link; the 404 page for anything else; the 429 page for a limited client."""
    settings = deps.settings
    now = deps.clock()
    client = client_key(
        request.remote_addr,
        request.headers.get("X-Forwarded-For"),
        settings.share_page_proxy_hops,
        settings.google_cloud_project,
    )
    try:
        deps.requests.admit(client, settings, now)
        deps.misses.check(client, now)
    except QuotaExceeded as limited:
        logger.info("trip page rate limited", extra={"fields": {"client": client[:12]}})
        return _message_page(TOO_MANY, 429, settings, limited.headers)
    token = token_of(request.environ.get("RAW_URI") or request.path)
    trip = share_links.open_link(deps.firestore, token or "", now)
    if trip is None:
        deps.misses.record(client, now)
        return _message_page(NOT_FOUND, 404, settings, {})
    view = trip_view(trip, static_map_options(settings))
    return _page({"lang": view.language, "page_title": view.title, "trip": view}, 200, PAGE_CACHE, settings)


def _build_default_deps() -> TripPageDeps:
    from common.foundation.clients import firestore_client
    from common.foundation.config import get_settings

    settings = get_settings()
    client = firestore_client.get()
    return TripPageDeps(
        settings=settings, firestore=client, requests=RequestCounter(), misses=MissCounter(client, settings)
    )


default_deps: Lazy[TripPageDeps] = Lazy(_build_default_deps)
"""The process's dependencies (one Firestore client and one in-memory request counter per instance)."""
