"""Forwarding headers: which one is believed, and how its chain is read. Pure text, no I/O.

A trusted proxy maintains one forwarding header and passes the client's others through, so
exactly one is read (`ForwardedHeader`, chosen by the operator). Its chain is split into hops
here; access/client.py walks them against the trusted-proxy networks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Address, IPv6Address

PROTO_HEADER = "X-Forwarded-Proto"
SCHEMES = ("http", "https")


class ForwardedHeader(StrEnum):
    """The one forwarding header believed from a trusted proxy."""

    X_FORWARDED_FOR = "X-Forwarded-For"
    FORWARDED = "Forwarded"
    X_REAL_IP = "X-Real-IP"

    @classmethod
    def parse(cls, text: str) -> ForwardedHeader:
        """The header a setting names, in any letter case; ValueError lists the choices."""
        for header in cls:
            if header.value.lower() == text.strip().lower():
                return header
        choices = ", ".join(h.value for h in cls)
        raise ValueError(f"{text!r} is not one of {choices}")


class ForwardingInvalid(ValueError):
    """A trusted proxy's forwarding header cannot be read where it must be."""

    def __init__(
        self, header: str, value: str, proxy: IPv4Address | IPv6Address, problem: str
    ) -> None:
        self.header = header
        self.value = value[:256]
        self.proxy = proxy
        super().__init__(
            f"the {header} header from trusted proxy {proxy} cannot be read: {problem} "
            f"(value {self.value!r}); moorage refuses a request whose client it cannot tell"
        )


@dataclass(frozen=True, slots=True)
class Hop:
    """One hop of a forwarded chain: the node text, and the scheme its element states."""

    node: str | None
    """The `for` node as sent; None when the element does not parse or has no `for`."""
    proto: str | None = None


def _strip_port(hop: str) -> str:
    hop = hop.strip()
    if hop.startswith("["):  # [v6] or [v6]:port
        return hop[1 : hop.index("]")] if "]" in hop else hop
    if hop.count(":") == 1:  # v4:port
        return hop.split(":", 1)[0]
    return hop


# RFC 7239: forwarded-element = [ pair ] *( ";" [ pair ] ), pair = token "=" value,
# value = token / quoted-string. Elements are split on commas outside quoted strings.
_TCHARS = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_PAIR = re.compile(rf"({_TCHARS})=({_TCHARS}|{_QUOTED})")
# No two whitespace runs touch: the pattern cannot backtrack its way to exponential time.
_PAIRS = re.compile(rf"\s*(?:{_PAIR.pattern}\s*)?(?:;\s*(?:{_PAIR.pattern}\s*)?)*")
_ELEMENT = re.compile(rf'(?:[^,"]|{_QUOTED})*')


def _split_elements(value: str) -> list[str]:
    """A Forwarded field value's elements; an unterminated quote ends it as one bad element."""
    elements: list[str] = []
    pos = 0
    while True:
        match = _ELEMENT.match(value, pos)
        assert match is not None  # the pattern matches the empty string
        elements.append(match.group())
        pos = match.end()
        if pos >= len(value):
            return elements
        if value[pos] != ",":  # an unterminated quoted string
            elements[-1] += value[pos:]
            return elements
        pos += 1


def _forwarded_element(text: str) -> Hop:
    if _PAIRS.fullmatch(text) is None:
        return Hop(None)
    pairs: dict[str, str] = {}
    for match in _PAIR.finditer(text):
        name, value = match.group(1).lower(), match.group(2)
        if name in pairs:
            return Hop(None)  # a parameter twice in one element (RFC 7239 section 4)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        pairs[name] = value
    node = pairs.get("for")
    return Hop(_strip_port(node) if node is not None else None, pairs.get("proto"))


def forwarded_hops(header: ForwardedHeader, values: Sequence[str]) -> list[Hop]:
    """The named header's chain (every field line of it, in order), left (original client) to
    right (nearest proxy)."""
    if header is ForwardedHeader.X_REAL_IP:
        # One address, set by the proxy; two of them, or a list, cannot be told apart.
        if len(values) > 1 or any("," in v for v in values):
            return [Hop(None)]
        return [Hop(_strip_port(v)) for v in values]
    if header is ForwardedHeader.X_FORWARDED_FOR:
        return [Hop(_strip_port(hop)) for value in values for hop in value.split(",")]
    return [_forwarded_element(element) for value in values for element in _split_elements(value)]


def forwarded_scheme(said: str | None) -> str | None:
    """The scheme a trusted proxy states (lower case), None if unsaid; ValueError if neither
    http nor https."""
    if said is None:
        return None
    if said.strip().lower() not in SCHEMES:
        raise ValueError(f"the scheme {said[:32]!r} is neither http nor https")
    return said.strip().lower()
