"""Functions of functions/main.py served in this test process, as functions-framework's own tests do:
``functions_framework.create_app(target=..., source=..., signature_type=...).test_client()``, against the same stack
(Firestore stand-in, Auth emulator, Maps stand-in) and with the same environment a ``function_server`` would get.

The test client sits behind a ``requests`` transport adapter, so a test sends the same ``requests`` calls to an
in-process function (``http://plan-trip.N.in-process``) as to a server, and gets a real ``requests.Response``.

A function's server is a process of its own: its environment and its caches (``get_settings``, the ``Lazy`` clients
and dependencies of ``common``) are its own. Here every function shares this process, so each request runs inside a
gate: the function's environment is applied for the request (and only the settings variables it names are set), and
when another function (or a test, by ``reset_process_caches``) used the caches since this one last did, they are
forgotten first, as if this function's instance had just started. Requests of one function may run concurrently
(threads, as in one instance); a request of another function waits until they are done.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import functions_framework
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from common.foundation.config import Settings
from tests.integration.support import ROOT
from tests.process_caches import generation, reset_process_caches

MAIN = ROOT / "functions" / "main.py"

# Variables that configure the backend or the client libraries it uses (as tests/conftest.py isolates them).
_LIBRARY_VARIABLES = {
    "GCLOUD_PROJECT",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "FIRESTORE_EMULATOR_HOST",
    "FIREBASE_AUTH_EMULATOR_HOST",
    "STORAGE_EMULATOR_HOST",
}
# Set by functions-framework's create_app for the process; restored with the rest after each in-process request.
_FRAMEWORK_VARIABLES = {"FUNCTION_SIGNATURE_TYPE"}
_names = itertools.count(1)


def _configuration_variables() -> set[str]:
    return {name.upper() for name in Settings.model_fields} | _LIBRARY_VARIABLES


class _ProcessGate:
    """Who owns the process's environment and caches right now; see the module's docstring."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._owner: object | None = None
        self._generation = -1
        self._active = 0
        self._saved: dict[str, str | None] = {}

    @contextlib.contextmanager
    def enter(self, owner: object, env: Mapping[str, str]) -> Iterator[None]:
        with self._condition:
            while self._active and self._owner is not owner:
                self._condition.wait()
            if not self._active:
                self._apply(env)
                if self._owner is not owner or self._generation != generation():
                    reset_process_caches()  # another function's instance ran here: this one starts cold
                    self._owner, self._generation = owner, generation()
            self._active += 1
        try:
            yield
        finally:
            with self._condition:
                self._active -= 1
                if not self._active:
                    self._restore()
                    self._condition.notify_all()

    def _apply(self, env: Mapping[str, str]) -> None:
        names = _configuration_variables() | {name for name in os.environ if name.upper() in _configuration_variables()}
        self._saved = {name: os.environ.get(name) for name in names | set(env) | _FRAMEWORK_VARIABLES}
        for name in names - set(env):
            os.environ.pop(name, None)
        os.environ.update(env)

    def _restore(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved = {}


_gate = _ProcessGate()


class InProcessFunction(BaseAdapter):
    """One function of a source file, served by ``create_app(...).test_client()`` with its own environment."""

    def __init__(self, target: str, source: Path, signature: str, env: Mapping[str, str]) -> None:
        super().__init__()
        self.target = target
        self.env = dict(env)
        self.url = f"http://{target.replace('_', '-')}.{next(_names)}.in-process"
        with _gate.enter(self, self.env):  # main.py reads its settings at import, as a cold start does
            self.app = functions_framework.create_app(target=target, source=str(source), signature_type=signature)  # type: ignore[no-untyped-call]
        self.client = self.app.test_client()

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        url = urlsplit(request.url or "")
        body = request.body
        if body is not None and not isinstance(body, bytes | str):
            body = (
                body.read()
                if hasattr(body, "read")
                else b"".join(  # a file, or chunks (no declared length)
                    part if isinstance(part, bytes) else str(part).encode() for part in body
                )
            )
        with _gate.enter(self, self.env):
            answer = self.client.open(
                path=url.path + (f"?{url.query}" if url.query else ""),
                base_url=f"{url.scheme}://{url.netloc}",
                method=request.method or "GET",
                headers=list(request.headers.items()),
                data=body,
            )
        response = requests.Response()
        response.status_code = answer.status_code
        response.reason = answer.status.partition(" ")[2]
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
        for name in answer.headers.keys():  # noqa: SIM118 - werkzeug Headers: one key per value
            if name not in headers:
                headers[name] = ", ".join(answer.headers.getlist(name))
        response.headers = headers
        response._content = answer.get_data()
        response._content_consumed = True
        response.encoding = get_encoding_from_headers(headers)
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


class InProcessFunctions:
    """A ``requests.Session`` (``http``) on which in-process functions are mounted; other URLs (servers of the stack
    or of a test) go through it to the network as usual."""

    def __init__(self) -> None:
        self.http = requests.Session()

    def serve(self, target: str, env: Mapping[str, str], signature: str = "http", source: Path = MAIN) -> str:
        """Serve ``target`` in this process with ``env``; its URL (mounted on ``http``)."""
        function = InProcessFunction(target, source, signature, env)
        self.http.mount(function.url, function)
        return function.url
