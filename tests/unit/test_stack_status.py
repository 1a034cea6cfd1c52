"""scripts/stack status: reading /proc, the end of a server's log, how a server ended, and the lines it prints
(tests/integration/conftest.py reads them back with parse_status)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from scripts.envfile import stack_state_dir
from tests.stack_script import STACK_SCRIPT, load_stack_script

ROOT = Path(__file__).resolve().parents[2]
NODE_HEAP_ERROR = "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"


@pytest.fixture
def stack() -> ModuleType:
    return load_stack_script()


def _stat_line(pid: int, name: str, state: str, ppid: int, pgrp: int, rss_pages: int) -> str:
    # proc(5): pid (comm) state ppid pgrp session tty_nr ... with rss, in pages, as field 24
    fields = [state, str(ppid), str(pgrp), str(pgrp), *["0"] * 17, str(rss_pages), *["0"] * 28]
    return f"{pid} ({name}) {' '.join(fields)}\n"


def test_proc_stat_is_read_past_a_command_name_holding_spaces_and_parentheses(stack: ModuleType) -> None:
    info = stack.parse_proc_stat(_stat_line(4242, "my (odd) name) x", "S", 1, 4240, 300), page_size=4096)
    assert (info.pid, info.ppid, info.pgrp, info.state, info.rss_bytes) == (4242, 1, 4240, "S", 300 * 4096)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="no /proc on this system")
def test_this_process_is_found_in_the_process_table(stack: ModuleType) -> None:
    table = stack.process_table()
    me = table[os.getpid()]
    assert (me.ppid, me.pgrp, me.state) == (os.getppid(), os.getpgrp(), "R")
    assert me.rss_bytes > 1_000_000  # a Python interpreter running pytest holds more than a megabyte


def test_process_tree_is_the_group_and_its_descendants_without_zombies(stack: ModuleType) -> None:
    info = stack.ProcessInfo
    table = {
        100: info(100, 1, 100, "S", 1),  # the leader, from the pid file
        101: info(101, 100, 100, "S", 2),  # the server, in the leader's group
        102: info(102, 101, 102, "S", 4),  # a worker that moved to a group of its own
        103: info(103, 101, 100, "Z", 0),  # a zombie child
        200: info(200, 1, 200, "S", 8),  # something else
        201: info(201, 200, 200, "S", 16),
    }
    assert [process.pid for process in stack.process_tree(table, 100)] == [100, 101, 102]
    assert stack.process_tree(table, 300) == []


def test_a_reused_pid_outside_the_servers_group_is_not_the_server(stack: ModuleType) -> None:
    table = {100: stack.ProcessInfo(100, 1, 90, "S", 1)}  # pid 100 now belongs to a process of group 90
    assert stack.process_tree(table, 100) == []


def test_log_tail_shows_the_end_of_the_latest_run_and_its_exit_status(stack: ModuleType) -> None:
    log = "\n".join(
        [
            "--- 2025-01-01 10:00:00 node old.js",
            "an error of an earlier run",
            "--- 2025-01-01 10:00:09 exited with status 1",
            "",
            "--- 2025-01-01 11:00:00 node server.js",
            "listening",
            "",
            "one",
            "two   ",
            "three",
            "four",
            "five",
            "--- 2025-01-01 11:30:00 exited with status 137",
        ]
    )
    tail = stack.log_tail(log, count=5)
    assert tail.lines == ("one", "two", "three", "four", "five")
    assert (tail.exit_status, tail.exited_at) == (137, "2025-01-01 11:30:00")


def test_log_tail_keeps_a_fatal_line_that_a_stack_trace_pushed_out(stack: ModuleType) -> None:
    frames = [f"{number:2}: 0x{number:06x} v8::internal::Frame{number}() [node]" for number in range(1, 9)]
    log = "\n".join(["--- 2025-01-01 11:00:00 node server.js", "<--- JS stacktrace --->", NODE_HEAP_ERROR, *frames])
    tail = stack.log_tail(log, count=5)
    assert tail.lines == (NODE_HEAP_ERROR, "...", *frames[-5:])
    assert tail.exit_status is None


def test_log_tail_shows_a_fatal_line_once(stack: ModuleType) -> None:
    just_before = stack.log_tail("\n".join(["start", NODE_HEAP_ERROR, "1", "2", "3"]), count=3)
    assert just_before.lines == (NODE_HEAP_ERROR, "1", "2", "3")  # nothing skipped between them: no "..."
    within = stack.log_tail("\n".join(["start", NODE_HEAP_ERROR, "1"]), count=3)
    assert within.lines == ("start", NODE_HEAP_ERROR, "1")


def test_log_tail_cuts_long_lines(stack: ModuleType) -> None:
    (line,) = stack.log_tail("x" * 1000, count=5).lines
    assert len(line) == stack.LOG_LINE_CHARS
    assert line.endswith("...")


def test_a_log_is_read_only_from_its_end(stack: ModuleType, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    filler = "filler line of a busy server\n" * (2 * stack.LOG_TAIL_BYTES // 29)
    log.write_text(f"--- 2025-01-01 11:00:00 node server.js\n{NODE_HEAP_ERROR}\n{filler}last words\n")
    tail = stack.read_log_tail(log, count=2)
    assert tail.lines == ("filler line of a busy server", "last words")  # the fatal line is out of reach
    assert stack.read_log_tail(tmp_path / "missing.log") == stack.LogTail()


@pytest.mark.parametrize(
    ("exit_status", "expected"),
    [
        (
            137,
            "killed by SIGKILL (kill -9, or the kernel's out-of-memory killer) at 2025-01-01 11:30:00, exit status 137",
        ),
        (134, "killed by SIGABRT at 2025-01-01 11:30:00, exit status 134"),
        (1, "exited with status 1 at 2025-01-01 11:30:00"),
        (200, "exited with status 200 at 2025-01-01 11:30:00"),  # 128 + 72 is no signal
    ],
)
def test_how_a_server_ended_is_told_from_its_exit_status(stack: ModuleType, exit_status: int, expected: str) -> None:
    assert stack.describe_exit(exit_status, "2025-01-01 11:30:00") == expected


def test_a_server_gone_without_a_recorded_exit_says_so(stack: ModuleType) -> None:
    assert "no exit status recorded" in stack.describe_exit(None, None)


def _statuses(stack: ModuleType, log_file: Path) -> list[object]:
    status = stack.ServerStatus
    return [
        status("firestore", "up", "127.0.0.1:8180", pid=41, rss_bytes=57 * 2**20, processes=2),
        status("fn-cleanup_sessions", "down", "127.0.0.1:8203"),
        status(
            "maps",
            "exited",
            "127.0.0.1:8091",
            pid=43,
            detail="killed by SIGKILL at 2025-01-01 11:30:00, exit status 137",
            log_file=log_file,
            log_lines=(NODE_HEAP_ERROR, "...", "  relay   up   127.0.0.1:8199  pid 7"),
        ),
        status(
            "relay",
            "unresponsive",
            "127.0.0.1:8199",
            pid=44,
            rss_bytes=3 * 2**20 // 2,
            processes=1,
            detail="runs but does not answer",
            log_file=log_file,
        ),
    ]


def test_status_lines_read_back_as_printed(stack: ModuleType) -> None:
    statuses = _statuses(stack, ROOT / ".stack" / "maps.log")
    text = "\n".join(stack.format_status(statuses, name_width=19))
    assert stack.parse_status(text) == [
        ("firestore", "up", "127.0.0.1:8180", 57.0),
        ("fn-cleanup_sessions", "down", "127.0.0.1:8203", None),
        ("maps", "exited", "127.0.0.1:8091", None),  # a log line that looks like a server line is not read as one
        ("relay", "unresponsive", "127.0.0.1:8199", 1.5),
    ]


def test_status_lines_say_how_a_server_ended_and_show_its_log(stack: ModuleType) -> None:
    lines = stack.format_status(_statuses(stack, ROOT / ".stack" / "maps.log"), name_width=19)
    assert " ".join(lines[0].split()) == "firestore up 127.0.0.1:8180 pid 41 rss 57.0 MiB in 2 processes"
    assert lines[2].endswith("pid 43       killed by SIGKILL at 2025-01-01 11:30:00, exit status 137")
    assert lines[3:6] == [
        "      last lines of .stack/maps.log:",
        f"      | {NODE_HEAP_ERROR}",
        "      | ...",
    ]
    assert lines[-1] == "      .stack/maps.log has no output since it was started"  # relay's empty log


@pytest.mark.parametrize(
    ("states", "exit_code"),
    [
        (["up", "up"], 0),
        (["up", "down"], 3),
        (["up", "exited"], 1),
        (["down", "unresponsive"], 1),
    ],
)
def test_status_exit_code(stack: ModuleType, states: list[str], exit_code: int) -> None:
    statuses = [stack.ServerStatus(f"s{index}", state, "127.0.0.1:1") for index, state in enumerate(states)]
    assert stack.status_exit_code(statuses) == exit_code


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        (None, ROOT / ".stack"),
        ("tmp-stack", ROOT / "tmp-stack"),
        ("/var/tmp/other-stack", Path("/var/tmp/other-stack")),
    ],
)
def test_the_script_and_the_tests_agree_on_the_state_directory(
    stack: ModuleType, monkeypatch: pytest.MonkeyPatch, configured: str | None, expected: Path
) -> None:
    if configured is None:
        monkeypatch.delenv("STACK_STATE_DIR", raising=False)
    else:
        monkeypatch.setenv("STACK_STATE_DIR", configured)
    assert stack.state_dir() == stack_state_dir() == expected


def test_the_auth_emulator_hub_and_logging_ports_follow_the_auth_port(
    stack: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(stack, "STATE", tmp_path)
    monkeypatch.setenv("STACK_AUTH_PORT", "12099")
    stack._write_firebase_config()
    emulators = json.loads((tmp_path / "firebase.json").read_text())["emulators"]
    assert emulators["auth"] == {"host": "127.0.0.1", "port": 12099}
    assert emulators["hub"] == {"host": "127.0.0.1", "port": 12098}
    assert emulators["logging"] == {"host": "127.0.0.1", "port": 12097}
    auth = next(server for server in stack.servers() if server.name == "auth")
    assert auth.extra_ports == (12098,)


def test_an_unknown_server_name_is_a_usage_error() -> None:
    result = subprocess.run([str(STACK_SCRIPT), "status", "--only", "maps,nope"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "unknown server name(s) nope" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("value", ["99999", "80", "eighty", "65535"])
def test_a_port_variable_that_holds_no_port_is_a_usage_error(stack: ModuleType, value: str) -> None:
    # 65535 is a port, but the functions take one port each from the first
    env = {**os.environ, "STACK_FUNCTIONS_PORT": value}
    result = subprocess.run([str(STACK_SCRIPT), "env"], capture_output=True, text=True, env=env)
    assert result.returncode == 2
    highest_first = 65536 - len(stack.FUNCTIONS)
    assert f"STACK_FUNCTIONS_PORT must be a port from 1024 to {highest_first}, not {value!r}" in result.stderr
