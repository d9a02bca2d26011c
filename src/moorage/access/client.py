"""The client address a decision uses: the TCP peer, or what a trusted proxy says it forwards.

Forwarding headers (Forwarded, X-Forwarded-For, X-Real-IP) are untrusted input: they count
only when the TCP peer is inside a configured trusted-proxy network. The chain is walked from
the right, skipping trusted proxies; the first address that is not one is the client. A hop
that cannot be read ends the walk with an address no rule but 0.0.0.0/0 admits (fail closed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address

from aiohttp import web
from multidict import CIMultiDictProxy

from moorage.domain.network import AccessFacts, Matcher, parse_client_address, parse_ip_rule

Address = IPv4Address | IPv6Address
UNREADABLE = IPv4Address("0.0.0.0")  # noqa: S104 - an address, not a bind target
_FOR = re.compile(r'(?:^|;)\s*for\s*=\s*("[^"]*"|[^;,\s]*)', re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ClientAddress:
    address: Address
    """The address the network rules judge."""
    peer: Address
    """The TCP peer."""
    forwarded: tuple[str, ...] = ()
    """The forwarded chain as a trusted proxy sent it (left to right), for the audit."""
    facts: AccessFacts = field(init=False, compare=False, repr=False)
    """What the decision is given, made once per client address."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "facts", AccessFacts(self.address))


def _strip_port(hop: str) -> str:
    hop = hop.strip().strip('"')
    if hop.startswith("["):  # [v6] or [v6]:port
        return hop[1 : hop.index("]")] if "]" in hop else hop
    if hop.count(":") == 1:  # v4:port
        return hop.split(":", 1)[0]
    return hop


def forwarded_chain(headers: CIMultiDictProxy[str]) -> list[str]:
    """The forwarding chain, left (original client) to right (nearest proxy)."""
    forwarded = headers.getall("Forwarded", [])
    if forwarded:
        return [
            _strip_port(m)
            for value in forwarded
            for element in value.split(",")
            for m in _FOR.findall(element)
        ]
    xff = headers.getall("X-Forwarded-For", [])
    if xff:
        return [_strip_port(hop) for value in xff for hop in value.split(",") if hop.strip()]
    real = headers.get("X-Real-IP")
    return [_strip_port(real)] if real else []


PEER_CACHE_SIZE = 4096


class ClientResolver:
    def __init__(self, trusted_proxies: Iterable[str]) -> None:
        self._trusted = Matcher.compile(parse_ip_rule(p) for p in trusted_proxies)
        self.enabled = len(self._trusted) > 0
        # Peers are few and come back on every request: keep what each one resolves to.
        self._peers: dict[str, ClientAddress] = {}

    def is_trusted(self, address: Address) -> bool:
        return self._trusted.matches(address)

    def resolve(self, request: web.BaseRequest) -> ClientAddress:
        peername = request.transport.get_extra_info("peername") if request.transport else None
        text = str(peername[0]) if peername else ""
        known = self._peers.get(text)
        if known is not None:
            return known  # an untrusted peer seen before: its address, headers ignored
        try:
            peer = parse_client_address(text) if text else UNREADABLE
        except ValueError:
            peer = UNREADABLE
        if not self.enabled or not self._trusted.matches(peer):
            client = ClientAddress(peer, peer)  # forwarding headers from them change nothing
            if len(self._peers) >= PEER_CACHE_SIZE:
                self._peers.clear()
            self._peers[text] = client
            return client
        chain = forwarded_chain(request.headers)
        for hop in reversed(chain):
            try:
                address = parse_client_address(hop)
            except ValueError:
                return ClientAddress(UNREADABLE, peer, tuple(chain))
            if not self._trusted.matches(address):
                return ClientAddress(address, peer, tuple(chain))
        # Every hop is a trusted proxy (or there are none): the left-most is the client.
        if chain:
            return ClientAddress(parse_client_address(chain[0]), peer, tuple(chain))
        return ClientAddress(peer, peer)
