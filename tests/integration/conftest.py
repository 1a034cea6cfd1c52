"""Integration fixtures: the local stack (started once per test session, or reused when already up), checked before
each test module, and a Firestore project id per test module, so modules never see each other's documents."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import uuid
import warnings
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING
from unittest import mock

import pytest

from scripts.envfile import STACK_ENV_FILE, read_env_file
from tests.integration.in_process import InProcessFunctions
from tests.integration.support import module_env
from tests.stack_script import STACK_SCRIPT, load_stack_script

if TYPE_CHECKING:
    import requests
    from google.cloud import firestore


def stack_status() -> tuple[dict[str, str], str]:
    """Each server's state, read from ``scripts/stack status``, and that output (to show when something is wrong)."""
    result = subprocess.run([str(STACK_SCRIPT), "status"], capture_output=True, text=True)
    states = {line.name: line.state for line in load_stack_script().parse_status(result.stdout)}
    return states, result.stdout + result.stderr


def silent_servers() -> list[str]:
    """The stack's servers that refuse a connection: one local TCP connect each, cheap enough to run often."""
    stack_script = load_stack_script()
    silent = []
    for server in stack_script.servers():
        try:
            with socket.create_connection((stack_script.HOST, server.port), timeout=1.0):
                pass
        except OSError:
            silent.append(server.name)
    return silent


def stack_lost_message(silent: list[str]) -> str:
    """Which servers stopped answering, and ``scripts/stack status`` (how each ended, the end of its log)."""
    _, report = stack_status()
    return f"the local stack lost {', '.join(silent)} (nothing answers on its port); scripts/stack status:\n{report}"


@pytest.fixture(scope="session")
def stack() -> Iterator[dict[str, str]]:
    """The stack's environment (as in .stack/env). Starts the servers that are not up. At the end it stops only those
    that had not been started at all: a server that had died is started again (with a warning) and left running."""
    states, report = stack_status()
    if not states:
        pytest.fail(f"scripts/stack status named no servers:\n{report}", pytrace=False)
    never_started = sorted(name for name, state in states.items() if state == "down")
    failed = sorted(name for name, state in states.items() if state in ("exited", "unresponsive"))
    if failed:
        warnings.warn(
            f"the local stack's {', '.join(failed)} had ended or stopped answering; starting again. Before:\n{report}",
            stacklevel=1,
        )
    if never_started or failed:
        result = subprocess.run([str(STACK_SCRIPT), "up"], capture_output=True, text=True)
        if result.returncode != 0:
            pytest.fail(f"scripts/stack up failed:\n{result.stdout}\n{result.stderr}", pytrace=False)
    try:
        yield read_env_file(STACK_ENV_FILE)
    finally:
        if never_started:
            subprocess.run([str(STACK_SCRIPT), "down", "--only", ",".join(never_started)], capture_output=True)


@pytest.fixture(scope="module", autouse=True)
def stack_answers(stack: dict[str, str]) -> None:
    """Before each test module, every server of the stack still accepts connections. When one does not (it died), the
    module fails at once with the stack's status, instead of its tests running into timeouts."""
    if silent := silent_servers():
        pytest.fail(stack_lost_message(silent), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A test that used the stack and failed while a server of it is gone carries the stack's status in its report."""
    report = yield
    used_the_stack = "stack" in getattr(item, "fixturenames", ())
    if call.when == "call" and report.failed and used_the_stack and (silent := silent_servers()):
        report.sections.append(("scripts/stack status", stack_lost_message(silent)))
    return report


@pytest.fixture(scope="module")
def firestore_project(request: pytest.FixtureRequest) -> str:
    """A Firestore project id unique to this test module (the stand-in has no reset call)."""
    module = re.sub(r"[^a-z0-9]+", "-", request.module.__name__.rsplit(".", 1)[-1].lower()).strip("-")
    return f"test-{module[:40]}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(autouse=True)
def integration_env(stack: dict[str, str], firestore_project: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Each test sees the stack's variables, with the module's own project id."""
    env = module_env(stack, firestore_project)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture(scope="module")
def firestore_client(stack: dict[str, str], firestore_project: str) -> firestore.Client:
    """A real Firestore client on the stand-in, in the module's project."""
    from google.cloud import firestore

    with mock.patch.dict(os.environ, {"FIRESTORE_EMULATOR_HOST": stack["FIRESTORE_EMULATOR_HOST"]}):
        return firestore.Client(project=firestore_project)


@pytest.fixture(scope="module")
def in_process() -> InProcessFunctions:
    """This module's functions served in the test process (``in_process.serve(target, env)`` gives a URL), see
    tests/integration/in_process.py."""
    return InProcessFunctions()


@pytest.fixture(scope="module")
def http(in_process: InProcessFunctions) -> requests.Session:
    """The session to send requests with: it reaches the module's in-process functions and any server."""
    return in_process.http
