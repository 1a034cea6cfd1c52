"""`scripts/stack status` on servers that die: a private stack (its own state directory and port) whose Maps stand-in
is killed, and a throwaway Node server started the stack's way that runs out of heap. The shared stack is never
touched: other tests run against it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.integration.conftest import silent_servers, stack_lost_message
from tests.integration.support import free_port
from tests.stack_script import STACK_SCRIPT, load_stack_script

# Answers on its port, and once sent anything, grows its heap until Node aborts ("FATAL ERROR ... heap out of memory").
GREEDY_NODE_SERVER = """
const hoard = [];
require("net")
  .createServer((socket) => socket.on("data", () => setInterval(() => {
    for (let i = 0; i < 100000; i++) hoard.push({ i, text: "item " + i });
  }, 1)))
  .listen(Number(process.argv[1]), "127.0.0.1", () => console.log("greedy server listening"));
"""


def _stack(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(STACK_SCRIPT), *arguments], capture_output=True, text=True, timeout=120)


def _wait_for_state(arguments: list[str], state: str, timeout_s: float = 15.0) -> subprocess.CompletedProcess[str]:
    deadline = time.monotonic() + timeout_s
    while True:
        result = _stack("status", *arguments)
        states = [line.state for line in load_stack_script().parse_status(result.stdout)]
        if states == [state] or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


@pytest.fixture
def private_maps(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[int]:
    """A stack of its own (state directory, Maps port) with only its Maps stand-in up; yields the Maps port."""
    port = free_port()
    monkeypatch.setenv("STACK_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("STACK_MAPS_PORT", str(port))
    started = _stack("up", "--only", "maps")
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        yield port
    finally:
        _stack("down", "--only", "maps")


def test_status_tells_how_a_killed_server_ended_and_shows_its_log(private_maps: int, tmp_path: Path) -> None:
    stack_script = load_stack_script()
    live = _stack("status", "--only", "maps")
    assert live.returncode == 0, live.stdout
    (line,) = stack_script.parse_status(live.stdout)
    assert (line.state, line.address) == ("up", f"127.0.0.1:{private_maps}")
    assert line.rss_mib is not None, live.stdout
    assert line.rss_mib > 5, live.stdout  # a Python server

    leader = int((tmp_path / "maps.pid").read_text())
    (server_pid,) = [info.pid for info in stack_script.process_table().values() if info.ppid == leader]
    os.kill(server_pid, signal.SIGKILL)  # as the out-of-memory killer would

    dead = _wait_for_state(["--only", "maps"], "exited")
    assert dead.returncode == 1, dead.stdout
    assert "killed by SIGKILL (kill -9, or the kernel's out-of-memory killer)" in dead.stdout
    assert f"last lines of {tmp_path / 'maps.log'}:" in dead.stdout
    assert f"| maps stand-in listening on http://127.0.0.1:{private_maps}" in dead.stdout

    # What the integration fixtures say when a server of their stack is gone (here, the private one).
    assert silent_servers() == ["maps"]  # the shared stack's others still answer
    message = stack_lost_message(["maps"])
    assert message.startswith("the local stack lost maps (nothing answers on its port)")
    assert "killed by SIGKILL" in message

    again = _stack("up", "--only", "maps")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "maps" in again.stdout
    assert "had ended: killed by SIGKILL" in again.stdout
    assert _stack("status", "--only", "maps").returncode == 0

    assert _stack("down", "--only", "maps").returncode == 0
    stopped = _stack("status", "--only", "maps")
    assert stopped.returncode == 3
    assert [line.state for line in stack_script.parse_status(stopped.stdout)] == ["down"]


@contextlib.contextmanager
def _started_the_stack_way(stack_script: ModuleType, server: Any) -> Iterator[subprocess.Popen[bytes]]:
    process = stack_script._start(server)
    try:
        deadline = time.monotonic() + 30
        while not stack_script._answers(server):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{server.name} did not come up:\n{server.log_file.read_text()}")
            time.sleep(0.05)
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def test_status_shows_the_heap_error_of_a_node_server_that_ran_out_of_memory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stack_script = load_stack_script()
    monkeypatch.setattr(stack_script, "STATE", tmp_path)
    port = free_port()
    command = ["node", "--max-old-space-size=24", "-e", GREEDY_NODE_SERVER, str(port)]
    server = stack_script.Server("greedy", port, command, "tcp")
    with _started_the_stack_way(stack_script, server) as process:
        live = stack_script.check_server(server, stack_script.process_table())
        assert live.state == "up"
        assert live.rss_bytes > 10 * 2**20  # node, and its /bin/sh wrapper

        with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
            connection.sendall(b"grow")
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:  # poll also reaps the wrapper: no zombie
            time.sleep(0.1)
        dead = stack_script.check_server(server, stack_script.process_table())

    assert dead.state == "exited", dead
    assert dead.detail.startswith("killed by SIGABRT"), dead.detail  # how Node ends on a fatal error
    assert dead.log_lines[0].startswith("FATAL ERROR: Reached heap limit"), dead.log_lines
    assert "heap out of memory" in dead.log_lines[0]
    assert len(dead.log_lines) <= 2 + stack_script.LOG_TAIL_LINES  # bounded: the fatal line, "...", the last lines
    printed = "\n".join(stack_script.format_status([dead]))
    assert [(line.name, line.state) for line in stack_script.parse_status(printed)] == [("greedy", "exited")]
    assert "| FATAL ERROR: Reached heap limit" in printed
