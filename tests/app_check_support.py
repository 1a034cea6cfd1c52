"""A stand-in of the Firebase App Check API for tests, over HTTP on 127.0.0.1, and tokens signed by its test RSA key.

It serves what firebase-admin calls (``APP_CHECK_API_ENDPOINT`` points it here):

- ``GET /v1/jwks``: the public half of a test RSA key, as Google's ``https://firebaseappcheck.googleapis.com/v1/jwks``
  publishes its keys (RS256, ``use: sig``, a ``kid``);
- ``POST /v1beta/projects/{project}:verifyAppCheckToken`` with ``{"app_check_token": ...}``: as documented for the
  real method, 403 for a token whose signature does not verify; for a good one ``{}`` the first time (the
  ``alreadyConsumed`` field absent) and ``{"alreadyConsumed": true}`` after.

Tokens are built as real App Check tokens are: header ``{"alg": "RS256", "typ": "JWT", "kid": ...}``, claims ``sub``
(the Firebase app id), ``aud`` ``["projects/<number>", "projects/<id>"]``, ``iss``
``https://firebaseappcheck.googleapis.com/<number>``, ``iat``, ``exp``, ``jti``.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER_BASE = "https://firebaseappcheck.googleapis.com/"
PROJECT_NUMBER = "123456789012"
APP_ID = "1:123456789012:web:0a1b2c3d4e5f"
KID = "test-app-check-key-1"
_VERIFY_PATH = re.compile(r"^/v1beta/projects/([^/:]+):verifyAppCheckToken$")


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class AppCheckStandin:
    """The running stand-in: its URL, its signing key, and what it saw."""

    url: str = ""
    key: rsa.RSAPrivateKey = field(default_factory=new_key)
    kid: str = KID
    consumed: dict[str, int] = field(default_factory=dict)  # token -> verifyAppCheckToken calls
    verify_projects: list[str] = field(default_factory=list)  # the project named by each verifyAppCheckToken call
    jwks_fetches: int = 0
    verify_status: int | None = None  # when set, verifyAppCheckToken answers this status (a failing API)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def token(
        self,
        project_id: str,
        *,
        ttl_s: int = 3600,
        issued_s_ago: int = 0,
        audience: Any = None,
        issuer: str | None = None,
        subject: Any = APP_ID,
        kid: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        header_type: str = "JWT",
    ) -> str:
        """A token for ``project_id`` as App Check mints one; each keyword breaks one thing on purpose."""
        now = int(time.time()) - issued_s_ago
        claims: dict[str, Any] = {
            "sub": subject,
            "aud": [f"projects/{PROJECT_NUMBER}", f"projects/{project_id}"] if audience is None else audience,
            "provider": "debug",
            "iss": issuer or ISSUER_BASE + PROJECT_NUMBER,
            "iat": now,
            "exp": now + ttl_s,
            "jti": uuid.uuid4().hex,
        }
        headers = {"kid": kid or self.kid, "typ": header_type}
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers=headers)

    def _verify(self, project: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        token = body.get("app_check_token") or body.get("appCheckToken")
        with self.lock:
            self.verify_projects.append(project)
            if self.verify_status is not None:
                return self.verify_status, {"error": {"code": self.verify_status, "message": "stand-in failure"}}
        try:
            jwt.decode(str(token), self.key.public_key(), algorithms=["RS256"], options={"verify_aud": False})
        except jwt.InvalidTokenError:
            return 403, {"error": {"code": 403, "message": "invalid App Check token", "status": "PERMISSION_DENIED"}}
        with self.lock:
            seen = self.consumed.get(str(token), 0)
            self.consumed[str(token)] = seen + 1
        return 200, ({"alreadyConsumed": True} if seen else {})


def _handler(standin: AppCheckStandin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            if self.path != "/v1/jwks":
                self._answer(404, {"error": {"code": 404, "message": "not found"}})
                return
            with standin.lock:
                standin.jwks_fetches += 1
            self._answer(200, standin.jwks())

        def do_POST(self) -> None:
            match = _VERIFY_PATH.match(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if not match:
                self._answer(404, {"error": {"code": 404, "message": "not found"}})
                return
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                self._answer(400, {"error": {"code": 400, "message": "bad JSON", "status": "INVALID_ARGUMENT"}})
                return
            self._answer(*standin._verify(match.group(1), body))

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    return Handler


@contextlib.contextmanager
def app_check_standin() -> Iterator[AppCheckStandin]:
    """Run a stand-in on a free port of 127.0.0.1 until the block ends."""
    standin = AppCheckStandin()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(standin))
    server.daemon_threads = True
    standin.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="app-check-standin", daemon=True)
    thread.start()
    try:
        yield standin
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
