"""A scripted Gemini stand-in: a real HTTP server that replays recorded answers in the REST response shape.

It serves ``POST /{version}/models/{model}:generateContent`` (Gemini API mode; google-genai 3.6.1 uses ``v1``) and
``POST /{version}/projects/{p}/locations/{l}/publishers/google/models/{model}:generateContent`` (Vertex AI mode),
answers each request with the next reply of the test's script, and records every request (path, headers, JSON body).
When the script is exhausted it answers 500 and counts the surprise in ``unexpected``.

Concurrent conversations (a multi-city plan asks one per city at once) get their own scripts: ``play_for(city,
...)`` keeps replies for the requests whose trip data block (in the first user turn) names ``city`` as its
destination, so no conversation is answered with another's reply whatever the order the requests arrive in; other
requests take the shared script.

Thinking, as Gemini 3 models do it: every recorded answer reports ``thoughtsTokenCount`` in its usage (separately
from ``candidatesTokenCount``; ``totalTokenCount`` includes it), a reply may carry thought parts (``thought: true``;
the real API sends them when thoughts are included), and function calls carry a ``thoughtSignature``. Like Gemini 3,
the stand-in refuses (400 ``INVALID_ARGUMENT``) a request that sends one of its function-call turns back without the
signature it issued.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from common.domain.ai.prompts import TRIP_BLOCK

GENERATE_PATH = re.compile(
    r"^/(?P<version>v1|v1beta|v1beta1)/"
    r"(?:projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/publishers/google/)?"
    r"models/(?P<model>[^/:]+):generateContent$"
)


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]
    delay_s: float = 0.0


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def match(self) -> re.Match[str] | None:
        return GENERATE_PATH.match(self.path.split("?", 1)[0])

    @property
    def declared_tools(self) -> list[str]:
        return [
            declaration["name"]
            for tool in self.body.get("tools", [])
            for declaration in tool.get("functionDeclarations", [])
        ]

    @property
    def generation_config(self) -> dict[str, Any]:
        config = self.body.get("generationConfig", {})
        return config if isinstance(config, dict) else {}

    @property
    def thinking_config(self) -> dict[str, Any] | None:
        """The request's thinking config with its keys in camelCase, or ``None``. The REST API (proto JSON) accepts
        both spellings of a field; google-genai 3.6.1 sends the inner ones in snake_case (``thinking_level``)."""
        config = self.generation_config.get("thinkingConfig", self.generation_config.get("thinking_config"))
        if not isinstance(config, dict):
            return None
        return {re.sub(r"_([a-z])", lambda match: match.group(1).upper(), key): value for key, value in config.items()}

    @property
    def thinking_level(self) -> str | None:
        config = self.thinking_config
        return None if config is None else config.get("thinkingLevel")

    @property
    def texts(self) -> list[str]:
        """Every text part of the conversation sent, in order."""
        contents = self.body.get("contents", [])
        return [part["text"] for content in contents for part in content["parts"] if "text" in part]

    @property
    def trip_data(self) -> dict[str, Any]:
        """The trip data block of the conversation's first user turn (empty without one)."""
        contents = self.body.get("contents", [])
        first: dict[str, Any] = next((content for content in contents if content.get("role", "user") == "user"), {})
        for part in first.get("parts", []):
            text = part.get("text", "")
            start, end = text.find(f"<<<{TRIP_BLOCK}\n"), text.find(f"\n{TRIP_BLOCK}>>>")
            if 0 <= start < end:
                data = json.loads(text[start + len(TRIP_BLOCK) + 4 : end])
                return data if isinstance(data, dict) else {}
        return {}

    @property
    def destination(self) -> str | None:
        """The destination the conversation is about (its trip data block's), or ``None``."""
        destination = self.trip_data.get("destination")
        return destination if isinstance(destination, str) else None

    @property
    def function_responses(self) -> list[dict[str, Any]]:
        return [
            part["functionResponse"]
            for content in self.body.get("contents", [])
            for part in content["parts"]
            if "functionResponse" in part
        ]


@dataclass
class GeminiStandIn:
    script: list[Reply] = field(default_factory=list)
    scripts_by_destination: dict[str, list[Reply]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    unexpected: int = 0
    refused: list[str] = field(default_factory=list)  # why requests were refused (missing thought signatures)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the stand-in is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def play(self, *replies: Reply) -> None:
        with self._lock:
            self.script.extend(replies)

    def play_for(self, destination: str, *replies: Reply) -> None:
        """Replies for the conversation about ``destination`` only (see the module notes)."""
        with self._lock:
            self.scripts_by_destination.setdefault(destination, []).extend(replies)

    def requests_for(self, destination: str) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.destination == destination]

    def clear(self) -> None:
        """Forget every script and every recorded request."""
        with self._lock:
            self.script.clear()
            self.scripts_by_destination.clear()
            self.requests.clear()

    def start(self) -> None:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else {}
                recorded = RecordedRequest(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                reply = standin._next(recorded)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                payload = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client may have given up (timeout tests)
                    self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="gemini-standin", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _next(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            if request.match is None:
                self.unexpected += 1
                return error_reply(404, f"no such path {request.path}", "NOT_FOUND")
            problem = _missing_signature(request.body)
            if problem:
                self.refused.append(problem)
                return error_reply(400, problem, "INVALID_ARGUMENT")
            destination = request.destination
            script = self.script
            if destination is not None and destination in self.scripts_by_destination:
                script = self.scripts_by_destination[destination]
            if not script:
                self.unexpected += 1
                return error_reply(500, "stand-in script exhausted", "INTERNAL")
            return script.pop(0)


def _missing_signature(body: dict[str, Any]) -> str | None:
    """Gemini 3's check: each model turn with function calls sent back carries the thought signature it came with."""
    for index, content in enumerate(body.get("contents", [])):
        parts = content.get("parts", [])
        calls = [part for part in parts if "functionCall" in part]
        if content.get("role") == "model" and calls:
            signature = calls[0].get("thoughtSignature")
            if not signature or signature not in _ISSUED_SIGNATURES:
                return f"Function call is missing a thought_signature in contents[{index}].parts"
    return None


@contextlib.contextmanager
def running_standin() -> Iterator[GeminiStandIn]:
    """A started stand-in, stopped when the block ends."""
    standin = GeminiStandIn()
    standin.start()
    try:
        yield standin
    finally:
        standin.stop()


# ---------------------------------------------------------------------------------------------- recorded answers


_SIGNATURES = itertools.count(1)
_ISSUED_SIGNATURES: set[str] = set()


def _signature() -> str:
    """A new opaque thought signature (base64, as the REST API sends bytes)."""
    value = base64.b64encode(f"standin-signature-{next(_SIGNATURES)}".encode()).decode()
    _ISSUED_SIGNATURES.add(value)
    return value


def _usage(prompt_tokens: int, output_tokens: int, thinking_tokens: int = 0) -> dict[str, Any]:
    usage = {
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": output_tokens,
        "totalTokenCount": prompt_tokens + output_tokens + thinking_tokens,
    }
    if thinking_tokens:
        usage["thoughtsTokenCount"] = thinking_tokens
    return usage


def text_reply(
    text: str,
    *,
    finish: str = "STOP",
    prompt_tokens: int = 100,
    output_tokens: int = 50,
    thinking_tokens: int = 60,
    thought: str | None = None,
) -> Reply:
    """A text answer; ``thought``: a thought part (``thought: true``) before it."""
    parts: list[dict[str, Any]] = [{"text": thought, "thought": True}] if thought is not None else []
    parts.append({"text": text})
    return Reply(
        200,
        {
            "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish, "index": 0}],
            "usageMetadata": _usage(prompt_tokens, output_tokens, thinking_tokens),
            "modelVersion": "gemini-standin",
        },
    )


def cut_off_reply(text: str, *, max_output_tokens: int, thinking_tokens: int, prompt_tokens: int = 900) -> Reply:
    """An answer cut off at ``max_output_tokens`` (finish reason MAX_TOKENS), ``thinking_tokens`` of them thoughts:
    what a model that thinks at length returns when thinking eats the output budget."""
    assert 0 <= thinking_tokens <= max_output_tokens
    return text_reply(
        text,
        finish="MAX_TOKENS",
        prompt_tokens=prompt_tokens,
        output_tokens=max_output_tokens - thinking_tokens,
        thinking_tokens=thinking_tokens,
        thought="Listing candidates by interest, then checking opening days...",
    )


def json_reply(value: Any, **kwargs: Any) -> Reply:
    return text_reply(json.dumps(value), **kwargs)


def function_call_reply(
    *calls: tuple[str, dict[str, Any]], prompt_tokens: int = 80, output_tokens: int = 20, thinking_tokens: int = 30
) -> Reply:
    """Function calls; the first carries a thought signature, as Gemini 3 sends it."""
    parts: list[dict[str, Any]] = [{"functionCall": {"name": name, "args": args}} for name, args in calls]
    if parts:
        parts[0]["thoughtSignature"] = _signature()
    return Reply(
        200,
        {
            "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": _usage(prompt_tokens, output_tokens, thinking_tokens),
        },
    )


def blocked_prompt_reply(reason: str = "SAFETY") -> Reply:
    return Reply(200, {"promptFeedback": {"blockReason": reason}, "usageMetadata": _usage(30, 0)})


def safety_stop_reply() -> Reply:
    return Reply(
        200,
        {
            "candidates": [
                {
                    "finishReason": "SAFETY",
                    "index": 0,
                    "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}],
                }
            ],
            "usageMetadata": _usage(30, 0),
        },
    )


def error_reply(status: int, message: str, status_name: str) -> Reply:
    return Reply(status, {"error": {"code": status, "message": message, "status": status_name}})
