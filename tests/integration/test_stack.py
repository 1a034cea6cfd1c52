"""The local stack answers: a function served by functions-framework reaches the Firestore stand-in, and
`scripts/stack status` shows every server up with its memory."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request

import pytest

from scripts.envfile import STACK_ENV_FILE, read_env_file
from tests.stack_script import STACK_SCRIPT, load_stack_script


def test_env_file_names_every_stand_in_and_function(stack: dict[str, str]) -> None:
    env = read_env_file(STACK_ENV_FILE)
    for name in (
        "FIRESTORE_EMULATOR_HOST",
        "FIREBASE_AUTH_EMULATOR_HOST",
        "STORAGE_EMULATOR_HOST",
        "GOOGLE_CLOUD_PROJECT",
        "HEALTH_URL",
        "CLOUD_TASKS_EMULATOR_HOST",
        "PLANNING_QUEUE",
        "PLAN_WORKER_URL",
    ):
        assert env[name], name
    assert all(
        value.startswith(("127.0.0.1", "http://127.0.0.1"))
        for name, value in env.items()
        if name.endswith(("_HOST", "_URL", "_ENDPOINT")) and value
    )


def test_health_function_answers_through_the_stack(stack: dict[str, str]) -> None:
    request = urllib.request.Request(stack["HEALTH_URL"], headers={"X-Request-Id": "health-check-0001"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.load(response)
        assert response.status == 200
        assert response.headers["X-Request-Id"] == "health-check-0001"
    assert body["status"] == "ok"
    assert body["firestore"]["ok"] is True
    assert body["stand_ins"]["firestore"] == stack["FIRESTORE_EMULATOR_HOST"]


def test_wrong_method_gets_the_error_envelope(stack: dict[str, str]) -> None:
    request = urllib.request.Request(
        stack["HEALTH_URL"], data=b"{}", method="POST", headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)
    assert raised.value.code == 405
    assert raised.value.headers["Allow"] == "GET"
    envelope = json.load(raised.value)["error"]
    assert envelope["code"] == "method_not_allowed"
    assert envelope["request_id"]


def test_status_shows_every_server_up_with_its_memory(stack: dict[str, str]) -> None:
    result = subprocess.run([str(STACK_SCRIPT), "status"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = load_stack_script().parse_status(result.stdout)
    assert {line.name for line in lines} == {server.name for server in load_stack_script().servers()}
    for line in lines:
        assert line.state == "up", result.stdout
        assert line.rss_mib is not None, result.stdout
        assert 1.0 < line.rss_mib < 4096, line  # every server is a Python or Node process of some MiB
