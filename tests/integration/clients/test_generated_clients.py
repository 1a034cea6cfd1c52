"""Typed clients generated from openapi.json by real generators, used as an app developer would against the local
stack: openapi-python-client (PyPI) and openapi-typescript (npm, with openapi-fetch and tsc --strict). Each plans,
lists, reads, edits, shares and exports a trip through the stack's function servers."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.integration.support import ROOT, TestUser, sign_up

OPENAPI = ROOT / "openapi.json"
VENV_BIN = ROOT / ".venv" / "bin"
NODE_BIN = ROOT / "node_modules" / ".bin"
BUILD = ROOT / "build" / "clients"  # under the repository, so node finds node_modules (git-ignored)
PACKAGE = "trip_planner_backend_client"
START = dt.date.today() + dt.timedelta(days=40)


def _run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join([str(VENV_BIN), str(NODE_BIN), os.environ.get("PATH", "")])
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=300, env={**os.environ, "PATH": path}, **kwargs
    )
    assert result.returncode == 0, f"{command[0]} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def python_client() -> Iterator[ModuleType]:
    target = BUILD / "python"
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    result = _run(
        [str(VENV_BIN / "openapi-python-client"), "generate", "--path", str(OPENAPI), "--output-path", str(target)]
    )
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(target))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(target))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def users(stack: dict[str, str]) -> tuple[TestUser, TestUser]:
    return sign_up(stack), sign_up(stack)


def test_the_python_client_plans_lists_reads_edits_shares_and_exports(
    python_client: ModuleType, stack: dict[str, str], users: tuple[TestUser, TestUser]
) -> None:
    owner, friend = users
    api = importlib.import_module(f"{PACKAGE}.api.default")
    models = importlib.import_module(f"{PACKAGE}.models")
    client_module = importlib.import_module(f"{PACKAGE}.client")

    def client(url_variable: str) -> Any:
        return client_module.AuthenticatedClient(base_url=stack[url_variable], token=owner.id_token, timeout=120.0)

    request = models.TripRequest(
        destination="Kyoto", start_date=START, end_date=START + dt.timedelta(days=1), interests=["gardens"]
    )
    trip = importlib.import_module(f"{api.__name__}.plan_trip").sync(client=client("PLAN_TRIP_URL"), body=request)
    assert isinstance(trip, models.Trip), trip
    assert trip.status == models.TripStatus.READY
    assert trip.days[0].stops, "the typed days hold stops"
    assert trip.request.destination == "Kyoto", "the stored request is typed too"

    listing = importlib.import_module(f"{api.__name__}.list_trips").sync(client=client("TRIPS_URL"), page_size=5)
    assert isinstance(listing, models.TripList)
    assert trip.id in [summary.id for summary in listing.trips]

    read = importlib.import_module(f"{api.__name__}.get_trip").sync(trip.id, client=client("TRIPS_URL"))
    assert isinstance(read, models.Trip)
    assert read.id == trip.id

    patch = models.TripPatch(version=read.version, title="Kyoto in spring")
    edited = importlib.import_module(f"{api.__name__}.edit_trip").sync(trip.id, client=client("TRIPS_URL"), body=patch)
    assert isinstance(edited, models.Trip)
    assert (edited.title, edited.version) == ("Kyoto in spring", read.version + 1)

    share = models.ShareRequest(uid=friend.uid, role=models.ShareRequestRole.VIEWER)
    shared = importlib.import_module(f"{api.__name__}.share_trip").sync(trip.id, client=client("TRIPS_URL"), body=share)
    assert isinstance(shared, models.ShareList)
    assert shared.shared_with.to_dict() == {friend.uid: "viewer"}

    calendar = importlib.import_module(f"{api.__name__}.get_trip_calendar").sync_detailed(
        trip.id, client=client("TRIPS_URL")
    )
    assert calendar.status_code == 200
    assert calendar.content.startswith(b"BEGIN:VCALENDAR")

    health = importlib.import_module(f"{api.__name__}.get_health").sync(
        client=client_module.Client(base_url=stack["HEALTH_URL"])
    )
    assert isinstance(health, models.HealthReport)
    assert health.status == models.HealthReportStatus.OK


def test_the_typescript_client_type_checks_and_does_the_same(
    stack: dict[str, str], users: tuple[TestUser, TestUser]
) -> None:
    owner, friend = users
    target = BUILD / "typescript"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    _run(
        [
            str(NODE_BIN / "openapi-typescript"),
            str(OPENAPI),
            "--default-non-nullable=false",
            "--output",
            str(target / "schema.d.ts"),
        ]
    )
    shutil.copy(Path(__file__).with_name("client.mts"), target / "client.mts")
    compiler = [str(NODE_BIN / "tsc"), "--strict", "--module", "nodenext", "--target", "es2022"]
    _run([*compiler, "--skipLibCheck", "--outDir", str(target), str(target / "client.mts")])
    env = {
        "ID_TOKEN": owner.id_token,
        "FRIEND_UID": friend.uid,
        "PLAN_TRIP_URL": stack["PLAN_TRIP_URL"],
        "TRIPS_URL": stack["TRIPS_URL"],
        "START_DATE": START.isoformat(),
        "END_DATE": (START + dt.timedelta(days=1)).isoformat(),
    }
    result = subprocess.run(
        [shutil.which("node") or "node", str(target / "client.mjs")],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["status"] == "ready"
    assert answer["first_stop"], "typed days and stops"
    assert answer["trip_id"] in answer["listed"]
    assert answer["read_id"] == answer["trip_id"]
    assert answer["edited_title"] == "Kyoto with friends"
    assert answer["shared_with"] == {friend.uid: "viewer"}
    assert answer["calendar_starts"] == "BEGIN:VCALENDAR"


def test_a_required_field_left_out_fails_the_typescript_type_check() -> None:
    """The check above can fail: the same compiler refuses a plan request without its start date (``destination``
    is optional since a request may give ``destinations`` instead)."""
    target = BUILD / "typescript-negative"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    _run(
        [
            str(NODE_BIN / "openapi-typescript"),
            str(OPENAPI),
            "--default-non-nullable=false",
            "--output",
            str(target / "schema.d.ts"),
        ]
    )
    source = Path(__file__).with_name("client.mts").read_text().replace('start_date: env("START_DATE"), ', "")
    (target / "client.mts").write_text(source)
    command = [
        str(NODE_BIN / "tsc"),
        "--strict",
        "--module",
        "nodenext",
        "--target",
        "es2022",
        "--noEmit",
        "--skipLibCheck",
    ]
    result = subprocess.run(
        [*command, str(target / "client.mts")], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode != 0
    assert "destination" in result.stdout


def test_the_deployment_serves_the_document(stack: dict[str, str]) -> None:
    import requests

    response = requests.get(f"{stack['HEALTH_URL']}/health/openapi.json", timeout=30)
    assert response.status_code == 200
    assert response.json() == json.loads(OPENAPI.read_text()), "the served document is the committed one"
