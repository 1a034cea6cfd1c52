"""The shared trip page in a real browser: Debian's headless Chromium (``make browser`` installs it) driven by
Playwright (``executable_path``, no browser download), each viewport in a fresh profile, opening the page that the
trip_page function serves from its own server (functions-framework, as deployed) for a trip planned through the stack.

Checked: a screenshot per viewport (phone and desktop) saved under build/artifacts/; every day and stop with its times
in the DOM; no console error and no request to another host; axe-core (npm) finds no WCAG 2 A/AA or best-practice
violation (landmarks, headings, alt text, contrast...); the page fits a phone's width; hostile names from a stored trip
are text and run nothing; the print stylesheet gives a clean PDF; an unknown token's 404 page passes the same checks.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import tempfile
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from google.cloud import firestore
from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright

from common.foundation.config import load_settings
from common.services.trips import share_links, store
from common.services.trips.share_links import LinkRequest
from tests.integration.in_process import InProcessFunctions
from tests.integration.support import ROOT, TestUser, function_server, module_env, sign_up
from tests.integration.trips.support import MAIN, plan

CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "build" / "artifacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
VIEWPORTS: dict[str, dict[str, Any]] = {
    "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1, "is_mobile": False},
}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
HOSTILE = '<script>window.__pwned=1</script>"\'><img src=x onerror="window.__pwned=2">{{7*7}}'


SAVED: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def artefacts_named_in_the_output(request: pytest.FixtureRequest) -> Iterator[None]:
    """After the module, the screenshots and the PDF it saved are named in pytest's output (even when it captures
    what tests print)."""
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not SAVED:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        for path in dict.fromkeys(SAVED):
            reporter.write_line(f"trip page artefact: {path.relative_to(ROOT)}")


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: `make browser` installs Debian's chromium"
    with sync_playwright() as driver:
        yield driver


@dataclass
class Visit:
    """What one page load did: its requests, console errors, uncaught errors and dialogs."""

    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def open_page(context: BrowserContext, url: str) -> tuple[Page, Visit, int]:
    page = context.new_page()
    visit = Visit()
    page.on("request", lambda request: visit.requests.append(request.url))
    page.on("console", lambda message: visit.console_errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: visit.page_errors.append(str(error)))

    def dismiss(dialog: Any) -> None:
        visit.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    response = page.goto(url, wait_until="load")
    assert response is not None
    page.wait_for_load_state("networkidle")
    return page, visit, response.status


@contextlib.contextmanager
def launch(playwright: Playwright, viewport: str) -> Iterator[BrowserContext]:
    """Chromium with a fresh profile (an empty user-data-dir) and one of the VIEWPORTS."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        browser_context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS, **VIEWPORTS[viewport]
        )
        try:
            yield browser_context
        finally:
            browser_context.close()


@pytest.fixture(scope="module", params=list(VIEWPORTS))
def context(request: pytest.FixtureRequest, playwright: Playwright) -> Iterator[tuple[str, BrowserContext]]:
    name = str(request.param)
    with launch(playwright, name) as browser_context:
        yield name, browser_context


@pytest.fixture(scope="module")
def page_url(stack: dict[str, str], firestore_project: str) -> Iterator[str]:
    with function_server("trip_page", MAIN, "http", module_env(stack, firestore_project)) as url:
        yield url


@pytest.fixture(scope="module")
def planned(
    http: requests.Session,
    in_process: InProcessFunctions,
    stack: dict[str, str],
    firestore_project: str,
    page_url: str,
) -> tuple[dict[str, Any], str]:
    """A trip planned through plan_trip and the URL of a share link made through trips (both in the test process)."""
    env = module_env(stack, firestore_project) | {"TRIP_PAGE_URL": page_url}
    owner: TestUser = sign_up(stack)
    trip = plan(http, in_process.serve("plan_trip", env), owner, days=3)
    trips_url = in_process.serve("trips", env)
    created = http.post(f"{trips_url}/trips/{trip['id']}/links", headers=owner.headers, timeout=30)
    assert created.status_code == 201, created.text
    return trip, str(created.json()["url"])


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations of the page (run through the driver, which the page's CSP does not govern)."""
    page.evaluate(AXE.read_text())
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    result = page.evaluate("options => axe.run(document, options)", options)
    return [
        {"id": item["id"], "impact": item["impact"], "nodes": [node["html"][:200] for node in item["nodes"]]}
        for item in result["violations"]
    ]


def assert_clean(visit: Visit, url: str) -> None:
    host = urllib.parse.urlsplit(url).netloc
    elsewhere = [address for address in visit.requests if urllib.parse.urlsplit(address).netloc != host]
    assert elsewhere == [], "the page asked another host"
    assert visit.console_errors == []
    assert visit.page_errors == []
    assert visit.dialogs == []


def assert_fits(page: Page, viewport: str) -> None:
    """Nothing reaches past the right edge of the screen (a phone would have to zoom out or scroll sideways): the
    document is no wider than the layout viewport, which is the screen's width."""
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths == [VIEWPORTS[viewport]["viewport"]["width"]] * 2


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"trip-page-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    SAVED.append(path)
    return path


def test_the_page_shows_every_day_and_stop_reads_on_each_viewport_and_passes_axe(
    context: tuple[str, BrowserContext], planned: tuple[dict[str, Any], str]
) -> None:
    name, browser_context = context
    trip, url = planned
    page, visit, status = open_page(browser_context, url)
    assert status == 200
    assert screenshot(page, name).stat().st_size > 10_000
    assert_clean(visit, url)
    assert visit.requests == [url], "one request: the page (its style and sketches are inline)"
    days = page.locator("section.day")
    assert days.count() == len(trip["days"]) > 0
    day_links = page.locator("nav.days a")
    assert [day_links.nth(i).get_attribute("href") for i in range(day_links.count())] == [
        f"#day-{number}" for number in range(1, len(trip["days"]) + 1)
    ]
    for index, day in enumerate(trip["days"]):
        section = days.nth(index)
        assert section.get_attribute("data-date") == day["date"]
        stops = section.locator("li.stop")
        assert stops.count() == len(day["stops"]) > 0
        for number, stop in enumerate(day["stops"]):
            item = stops.nth(number)
            assert item.locator("h3").inner_text() == stop["name"]
            assert item.locator(".time").inner_text() == f"{stop['arrive']}–{stop['depart']}"
            if stop["place_id"]:  # a link the traveller may follow, not a request of the page
                href = item.locator("a.maps").get_attribute("href") or ""
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(href).query)
                assert query["query_place_id"] == [stop["place_id"]]
        sketch = section.locator("svg[role=img]")
        assert sketch.count() == 1
        sketch_title = sketch.locator("title").first.text_content() or ""
        assert [stop["name"] in sketch_title for stop in day["stops"] if stop["location"]] == [
            True for stop in day["stops"] if stop["location"]
        ]
    assert_fits(page, name)
    assert page.locator("main").count() == 1
    assert page.locator("h1").count() == 1
    violations = axe_violations(page)
    assert violations == [], json.dumps(violations, indent=2)
    page.close()


def test_hostile_names_in_a_stored_trip_are_text_and_run_nothing(
    context: tuple[str, BrowserContext],
    planned: tuple[dict[str, Any], str],
    firestore_client: firestore.Client,
    page_url: str,
) -> None:
    name, browser_context = context
    trip = store.read_trip(firestore_client, planned[0]["id"])
    assert trip is not None
    day = trip.days[0]
    stop = day.stops[0].model_copy(update={"name": HOSTILE, "description": HOSTILE, "warnings": [HOSTILE]})
    day = day.model_copy(update={"theme": HOSTILE, "summary": HOSTILE, "stops": [stop, *day.stops[1:]]})
    hostile = trip.model_copy(
        update={"id": f"hostile{secrets.token_hex(6)}", "title": HOSTILE, "days": [day], "tips": [HOSTILE]}
    )
    store.create_trip(firestore_client, hostile)
    created = share_links.create_link(
        firestore_client, load_settings(), hostile, hostile.user_id, LinkRequest(), trip.updated_at
    )
    url = f"{page_url}/t/{created.token}"
    page, visit, status = open_page(browser_context, url)
    assert status == 200
    screenshot(page, f"hostile-{name}")
    assert_clean(visit, url)
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("document.scripts.length") == 0
    assert page.locator("body img").count() == 0
    assert page.locator("h1").inner_text() == HOSTILE
    assert page.locator("li.stop h3").first.inner_text() == HOSTILE
    assert page.locator("section.day h2").first.inner_text() == HOSTILE
    assert HOSTILE in (page.locator("svg title").first.text_content() or "")
    assert page.title() == HOSTILE
    assert_fits(page, name)
    page.close()


def test_the_print_stylesheet_gives_a_clean_pdf(playwright: Playwright, planned: tuple[dict[str, Any], str]) -> None:
    with launch(playwright, "desktop") as browser_context:
        page, visit, _ = open_page(browser_context, planned[1])
        check_print(page, visit, planned[1])


def check_print(page: Page, visit: Visit, url: str) -> None:
    page.emulate_media(media="print")
    header = page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor")
    assert header == "rgba(0, 0, 0, 0)", "no coloured banner on paper"
    breaks = page.evaluate("[...document.querySelectorAll('section.day')].map(s => getComputedStyle(s).breakBefore)")
    assert breaks == ["auto"] + ["page"] * (len(breaks) - 1), "each day after the first starts a page"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = ARTIFACTS / "trip-page.pdf"
    page.pdf(path=str(pdf), format="A4")
    SAVED.append(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert_clean(visit, url)
    page.close()


def test_an_unknown_token_gets_an_accessible_404_page(context: tuple[str, BrowserContext], page_url: str) -> None:
    name, browser_context = context
    url = f"{page_url}/t/{secrets.token_urlsafe(24)}"
    page, visit, status = open_page(browser_context, url)
    assert status == 404
    assert page.locator("h1").inner_text() == "Link not found"
    screenshot(page, f"not-found-{name}")
    # A 404 answer is reported on the console by Chromium itself ("Failed to load resource"): nothing else may be.
    assert [text for text in visit.console_errors if "404" not in text] == []
    visit.console_errors = []
    assert_clean(visit, url)
    assert axe_violations(page) == []
    page.close()
