"""Helpers for integration tests: read the stack's environment, start extra servers on free ports."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from scripts.envfile import STACK_STATE_DIR

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_answers(port: int, process: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing answered on port {port} within {timeout_s} s")


@contextlib.contextmanager
def background_server(command: list[str], port: int, env: dict[str, str], log_name: str) -> Iterator[None]:
    """Run ``command`` until the block ends; its output goes to <stack state directory>/test-<log_name>.log."""
    log_path = STACK_STATE_DIR / f"test-{log_name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_until_answers(port, process)
            yield
        finally:
            stop_process_group(process)


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """SIGINT (a quick stop for gunicorn, KeyboardInterrupt for Python), then SIGKILL, to the whole group."""
    for sig, wait_s in ((signal.SIGINT, 5.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def maps_standin(**options: object) -> Iterator[str]:
    """A private Maps stand-in on a free port (its own faults, counters and clock, so other suites never see them);
    ``options`` are its command-line options (``api_key="k"``, ``error_rate=0.3``, ``latency_ms=150``). Yields its
    URL."""
    port = free_port()
    command = [sys.executable, "-m", "scripts.maps_standin", "--host", "127.0.0.1", "--port", str(port)]
    for name, value in options.items():
        command += [f"--{name.replace('_', '-')}", str(value)]
    with background_server(command, port, {"PYTHONPATH": str(ROOT)}, f"maps-{port}"):
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def function_server(target: str, source: Path, signature: str, env: dict[str, str]) -> Iterator[str]:
    """Serve one function with functions-framework, as deployed, on a free port; yield its URL."""
    port = free_port()
    command = [
        str(VENV_BIN / "functions-framework"),
        "--target",
        target,
        "--source",
        str(source),
        "--signature-type",
        signature,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with background_server(command, port, {"PYTHONPATH": str(ROOT), **env}, f"fn-{target}-{port}"):
        yield f"http://127.0.0.1:{port}"


def http_get_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return False
    except OSError:
        return False


def module_env(stack: dict[str, str], project: str) -> dict[str, str]:
    """The stack's variables with a module's own Firestore project (Auth stays on the stack's project)."""
    return {
        **stack,
        "GOOGLE_CLOUD_PROJECT": project,
        "GCLOUD_PROJECT": project,
        "FIREBASE_PROJECT_ID": stack["GOOGLE_CLOUD_PROJECT"],
    }


@dataclass(frozen=True)
class TestUser:
    __test__ = False  # a helper, not a test class

    uid: str
    email: str
    id_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.id_token}"}


def sign_up(stack: dict[str, str], email: str | None = None, password: str = "correct-horse-9") -> TestUser:
    """A new user in the Auth emulator, with a fresh ID token."""
    import json
    import uuid

    email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
    host = stack["FIREBASE_AUTH_EMULATOR_HOST"]
    request = urllib.request.Request(
        f"http://{host}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=local",
        data=json.dumps({"email": email, "password": password, "returnSecureToken": True}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.load(response)
    return TestUser(uid=answer["localId"], email=email, id_token=answer["idToken"])
