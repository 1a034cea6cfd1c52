"""`make demo`'s job (scripts/demo.py) against the running stack: it plans a trip and ends by printing a share link
that opens the trip's page on the stack's trip_page server, as a newcomer would open it in a browser."""

from __future__ import annotations

import subprocess
import sys

import requests

from tests.integration.support import ROOT


def test_the_demo_ends_with_a_share_link_that_opens_the_planned_trip(stack: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scripts.demo", "--days", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-2].startswith("Share link (read-only, no sign-in")
    url = lines[-1]
    assert url.startswith(f"{stack['TRIP_PAGE_URL']}/t/")
    page = requests.get(url, timeout=30)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Kyoto, 2 days" in page.text
    assert page.text.count('<section class="day"') == 2
