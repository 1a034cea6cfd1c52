"""Enough of Cloud Logging to check deploy/observability.json against the lines the code writes.

``log_entry`` turns one JSON line of stdout into the LogEntry Cloud Logging makes of it for a 2nd gen function
(resource.type ``cloud_run_revision``; ``severity``, ``httpRequest`` and ``logging.googleapis.com/*`` lifted out,
every other field in ``jsonPayload``). ``matches`` evaluates the subset of the logging query language the metrics use:
``AND``, ``OR``, ``NOT``, parentheses, ``field="text"``, ``field:*`` (has a value), and numeric ``>=``, ``>``, ``<=``,
``<``, ``=``. ``extract`` evaluates ``EXTRACT(field)``.
"""

from __future__ import annotations

import json
import re
from typing import Any

LIFTED = {"severity", "httpRequest"}
_TOKEN = re.compile(r'\s*(\(|\)|"(?:[^"\\]|\\.)*"|>=|<=|:\*|[=<>]|[A-Za-z_@][A-Za-z0-9_.@/-]*|-?\d+(?:\.\d+)?)')
_MISSING = object()


def log_entry(line: str) -> dict[str, Any]:
    record = json.loads(line)
    entry: dict[str, Any] = {"resource": {"type": "cloud_run_revision"}, "jsonPayload": {}}
    for key, value in record.items():
        if key in LIFTED:
            entry[key] = value
        elif key.startswith("logging.googleapis.com/"):
            entry[key.removeprefix("logging.googleapis.com/")] = value
        else:
            entry["jsonPayload"][key] = value
    return entry


def field(entry: dict[str, Any], path: str) -> Any:
    value: Any = entry
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def extract(entry: dict[str, Any], expression: str) -> Any:
    match = re.fullmatch(r"EXTRACT\(([^)]+)\)", expression.strip())
    assert match, f"not an extractor: {expression}"
    value = field(entry, match.group(1))
    return None if value is _MISSING else value


def _tokens(text: str) -> list[str]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            if text[position:].strip() == "":
                break
            raise ValueError(f"cannot read the filter at: {text[position:]!r}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, entry: dict[str, Any]) -> None:
        self.tokens = _tokens(text)
        self.position = 0
        self.entry = entry

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def expression(self) -> bool:
        result = self.conjunction()
        while self.peek() == "OR":
            self.take()
            right = self.conjunction()
            result = result or right
        return result

    def conjunction(self) -> bool:
        result = self.unary()
        while self.peek() == "AND":
            self.take()
            right = self.unary()
            result = result and right
        return result

    def unary(self) -> bool:
        if self.peek() == "NOT":
            self.take()
            return not self.unary()
        if self.peek() == "(":
            self.take()
            result = self.expression()
            assert self.take() == ")"
            return result
        return self.comparison()

    def comparison(self) -> bool:
        path, operator = self.take(), self.take()
        value = field(self.entry, path)
        if operator == ":*":
            return value is not _MISSING and value is not None
        operand = self.take()
        if value is _MISSING or value is None:
            return False
        if operand.startswith('"'):
            return operator == "=" and str(value) == json.loads(operand)
        number = float(operand)
        if not isinstance(value, int | float) or isinstance(value, bool):
            return False
        return {
            "=": value == number,
            ">=": value >= number,
            ">": value > number,
            "<=": value <= number,
            "<": value < number,
        }[operator]


def matches(filter_text: str, entry: dict[str, Any]) -> bool:
    parser = _Parser(filter_text, entry)
    result = parser.expression()
    assert parser.peek() is None, f"unread filter text: {parser.tokens[parser.position :]}"
    return result
