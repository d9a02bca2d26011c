"""Bounded JSON: every JSON document that comes from outside passes here before it is used.

Python's json module recurses once per nesting level (200,000 `[` end in RecursionError), turns
a 5,000-digit integer into a ValueError from the int conversion limit, reads UTF-16 and UTF-32
by sniffing the bytes, accepts NaN and Infinity, and keeps the last of duplicate keys. Each of
those is refused here with a message that names the problem, before or while parsing, so no
input reaches a parser that can fail in a way nobody declared:

- size: the bytes are counted before anything else;
- depth: brackets are counted with C-speed byte operations (strings dropped, then innermost
  pairs peeled off level by level), never by recursion or a Python loop per byte;
- encoding: UTF-8 only (RFC 8259 §8.1), no byte-order mark, no lone surrogate escapes;
- numbers: integers of at most `max_int_digits` digits, finite floats only (no NaN/Infinity);
- duplicate keys in an object are refused: two parsers that keep different ones would read two
  different documents (a manifest whose layers depend on who reads it).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from moorage.domain.errors import InvalidJson

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


@dataclass(frozen=True, slots=True)
class JsonLimits:
    max_bytes: int
    max_depth: int = 32
    max_int_digits: int = 20
    """int64 has 19 digits; a longer integer is no value any field of ours can hold."""
    max_float_chars: int = 64


def parse_json(data: bytes, limits: JsonLimits, *, what: str = "the request body") -> Any:
    """The document in `data`, or InvalidJson saying what is wrong with it (and where)."""
    if len(data) > limits.max_bytes:
        raise InvalidJson(
            f"{what} is {len(data)} bytes; the limit is {limits.max_bytes}",
            problem="too large",
            limit=limits.max_bytes,
        )
    _check_depth(data, limits.max_depth, what)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidJson(
            f"{what} is not UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}); "
            "JSON must be sent as UTF-8",
            problem="not UTF-8",
        ) from None
    if text.startswith("\ufeff"):
        raise InvalidJson(
            f"{what} starts with a byte-order mark; send UTF-8 without one", problem="BOM"
        )
    try:
        document = json.loads(
            text,
            object_pairs_hook=_unique_keys(what),
            parse_int=_integer(limits.max_int_digits, what),
            parse_float=_float(limits.max_float_chars, what),
            parse_constant=_no_constant(what),
        )
    except json.JSONDecodeError as e:
        raise InvalidJson(f"{what} is not valid JSON: {e}", problem="syntax") from None
    if _SURROGATE_ESCAPE.search(data):
        _check_strings(document, what)
    return document


def _check_depth(data: bytes, max_depth: int, what: str) -> None:
    # Escapes out, then only quotes and brackets kept: what lies between a pair of quotes
    # was a string, and its brackets do not count.
    unescaped = _ESCAPE.sub(b"", data) if b"\\" in data else data
    brackets = b"".join(unescaped.translate(None, _NOT_STRUCTURE).split(b'"')[::2])
    for _ in range(max_depth):
        if not brackets:
            return
        inner = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if inner == brackets and len(brackets) - len(brackets.lstrip(b"[{")) <= max_depth:
            raise InvalidJson(
                f"{what} is not valid JSON: its brackets do not balance", problem="syntax"
            )
        if inner == brackets:
            break  # unbalanced, and opened deeper than the limit: say the depth
        brackets = inner
    if brackets:
        raise InvalidJson(
            f"{what} nests arrays and objects deeper than {max_depth} levels",
            problem="too deep",
            limit=max_depth,
        )


def _unique_keys(what: str) -> Any:
    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        document: dict[str, Any] = {}
        for key, value in pairs:
            if key in document:
                raise InvalidJson(
                    f"{what} has the key {key[:100]!r} twice in one object; "
                    "each key must appear once",
                    problem="duplicate key",
                )
            document[key] = value
        return document

    return build


def _integer(max_digits: int, what: str) -> Any:
    def parse(raw: str) -> int:
        if len(raw.lstrip("-")) > max_digits:
            raise InvalidJson(
                f"{what} holds an integer of {len(raw.lstrip('-'))} digits; "
                f"the limit is {max_digits}",
                problem="number too large",
            )
        return int(raw)

    return parse


def _float(max_chars: int, what: str) -> Any:
    def parse(raw: str) -> float:
        value = float(raw) if len(raw) <= max_chars else math.inf
        if not math.isfinite(value):
            raise InvalidJson(
                f"{what} holds the number {raw[:40]}, which is out of range",
                problem="number too large",
            )
        return value

    return parse


def _no_constant(what: str) -> Any:
    def parse(raw: str) -> Any:
        raise InvalidJson(
            f"{what} holds {raw}, which is not JSON (numbers must be finite)",
            problem="not a number",
        )

    return parse


def _check_strings(value: Any, what: str) -> None:
    """Refuse a lone surrogate (`"\\ud800"`): no UTF-8 store or client can hold it."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidJson(
                f"{what} holds a string with a lone UTF-16 surrogate escape "
                f"({value.encode('utf-8', 'backslashreplace')[:60].decode()!r})",
                problem="lone surrogate",
            ) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key, what)
            _check_strings(item, what)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item, what)
