"""Integration fixtures: the local stack (started once per test session, or reused when already up) and a
Firestore project id per test module, so modules never see each other's documents."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING
from unittest import mock

import pytest

from scripts.envfile import STACK_ENV_FILE, read_env_file
from tests.integration.support import STACK_SCRIPT, module_env

if TYPE_CHECKING:
    from google.cloud import firestore


def _servers_up() -> tuple[set[str], set[str]]:
    """Names of the stack's servers that answer, and of all of them (from ``scripts/stack status``)."""
    result = subprocess.run([str(STACK_SCRIPT), "status"], capture_output=True, text=True)
    up, every = set(), set()
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            every.add(parts[0])
            if parts[1] == "up":
                up.add(parts[0])
    return up, every


@pytest.fixture(scope="session")
def stack() -> Iterator[dict[str, str]]:
    """The stack's environment (as in .stack/env): starts the servers that are not up, and stops only those."""
    up_before, every = _servers_up()
    missing = every - up_before
    if missing:
        result = subprocess.run([str(STACK_SCRIPT), "up"], capture_output=True, text=True)
        if result.returncode != 0:
            pytest.fail(f"scripts/stack up failed:\n{result.stdout}\n{result.stderr}")
    try:
        yield read_env_file(STACK_ENV_FILE)
    finally:
        if missing:
            subprocess.run([str(STACK_SCRIPT), "down", "--only", ",".join(sorted(missing))], capture_output=True)


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
