"""The client address a decision uses: the TCP peer, or what a trusted proxy says it forwards.

Forwarding headers are untrusted input. They count only when the TCP peer is inside a
configured trusted-proxy network, and then only ONE of them counts: the one the operator names
(`--forwarded-header`, default X-Forwarded-For, the header nginx, HAProxy and the cloud load
balancers maintain). A proxy maintains its header and passes the client's others through, so
believing any other would let the client choose the address it is judged by.

The named header's chain is walked from the right, skipping trusted proxies; the first address
that is not one is the client. A hop the walk must read and cannot (not an IP address,
`unknown`, an obfuscated name, a Forwarded element that does not parse) refuses the request
(`ForwardingInvalid`, answered 400): never skipped, never guessed. What lies left of the client's
hop is the client's own text and is not read. From a trusted proxy with no such header, the
proxy itself is the client.

The scheme the client used comes the same way: `proto=` of the Forwarded element that named
the client, or `X-Forwarded-Proto` with the other two choices; from anyone else, nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
from typing import Final

from aiohttp import web
from multidict import CIMultiDictProxy

from moorage.domain.forwarding import (
    PROTO_HEADER,
    ForwardedHeader,
    ForwardingInvalid,
    Hop,
    forwarded_hops,
    forwarded_scheme,
)
from moorage.domain.network import AccessFacts, Matcher, parse_client_address, parse_ip_rule

log = logging.getLogger("moorage.access")
Address = IPv4Address | IPv6Address
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
UNREADABLE = IPv4Address("0.0.0.0")  # noqa: S104 - an address, not a bind target
MAX_HOPS = 64
"""Hops read from a chain at most; a longer chain from a trusted proxy is refused."""


@dataclass(frozen=True, slots=True)
class ClientAddress:
    address: Address
    """The address the network rules judge."""
    peer: Address
    """The TCP peer."""
    forwarded: tuple[str, ...] = ()
    """The forwarded chain as a trusted proxy sent it (left to right), for the audit."""
    scheme: str | None = None
    """The scheme the client used, as a trusted proxy says (http or https); None if unsaid."""
    facts: AccessFacts = field(init=False, compare=False, repr=False)
    """What the decision is given, made once per client address."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "facts", AccessFacts(self.address))


PEER_CACHE_SIZE = 4096


class ClientResolver:
    def __init__(
        self,
        trusted_proxies: Iterable[str],
        header: ForwardedHeader = ForwardedHeader.X_FORWARDED_FOR,
    ) -> None:
        self._trusted = Matcher.compile(parse_ip_rule(p) for p in trusted_proxies)
        self.enabled = len(self._trusted) > 0
        self.header = header
        # Peers are few and come back on every request: keep what each one resolves to.
        self._peers: dict[str, ClientAddress] = {}

    def resolve(self, request: web.BaseRequest) -> ClientAddress:
        """The client; ForwardingInvalid when a trusted proxy's header cannot be read."""
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
        return self._from_proxy(peer, request.headers)

    def _from_proxy(self, peer: Address, headers: CIMultiDictProxy[str]) -> ClientAddress:
        values = headers.getall(self.header.value, [])
        hops = forwarded_hops(self.header, values)

        def invalid(problem: str) -> ForwardingInvalid:
            return ForwardingInvalid(self.header.value, ", ".join(values), peer, problem)

        if len(hops) > MAX_HOPS:
            raise invalid(f"{len(hops)} hops, more than {MAX_HOPS}")
        chain = tuple(hop.node or "?" for hop in hops)
        chosen: tuple[Address, Hop] | None = None
        for hop in reversed(hops):
            if not hop.node:
                raise invalid("a hop that is not a well-formed element naming an address")
            try:
                address = parse_client_address(hop.node)
            except ValueError:
                raise invalid(f"hop {hop.node[:64]!r} is not an IP address") from None
            chosen = (address, hop)
            if not self._trusted.matches(address):
                break  # the right-most untrusted hop is the client
        if chosen is None:
            return ClientAddress(peer, peer, scheme=self._scheme(None, headers, peer))
        # Every hop a trusted proxy: the left-most is the client.
        address, hop = chosen
        return ClientAddress(address, peer, chain, self._scheme(hop, headers, peer))

    def _scheme(self, hop: Hop | None, headers: CIMultiDictProxy[str], peer: Address) -> str | None:
        if self.header is ForwardedHeader.FORWARDED:
            said, where = (hop.proto if hop else None), "Forwarded"
        else:
            values = [v for value in headers.getall(PROTO_HEADER, []) for v in value.split(",")]
            said, where = (values[-1] if values else None), PROTO_HEADER  # the nearest proxy's
        try:
            return forwarded_scheme(said)
        except ValueError as e:
            raise ForwardingInvalid(where, said or "", peer, str(e)) from None


class Forwarding:
    """The first middleware: resolves the client once for every request (the gate, the
    throttles and the portal read `CLIENT_KEY`), and from a trusted proxy makes the request's
    scheme the one the client used, so the token challenge's realm and every absolute URL
    built from the request say https behind a TLS-terminating proxy."""

    def __init__(self, clients: ClientResolver) -> None:
        self.clients = clients

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            client = self.clients.resolve(request)
        except ForwardingInvalid as e:
            log.warning("refused %s %s: %s", request.method, request.path[:200], e)
            return web.json_response(
                {
                    "errors": [
                        {
                            "code": FORWARDING_INVALID,
                            "message": str(e),
                            "detail": {"header": e.header, "value": e.value, "proxy": str(e.proxy)},
                        }
                    ]
                },
                status=400,
            )
        if client.peer != client.address or (client.scheme and client.scheme != request.scheme):
            # What the rest of the application reads: the judged address and the scheme the
            # client used (the realm, Location headers and the portal's URLs follow it).
            request = request.clone(
                scheme=client.scheme or request.scheme, remote=str(client.address)
            )
        request[CLIENT_KEY] = client
        return await handler(request)


CLIENT_KEY: Final = web.RequestKey("client", ClientAddress)


def client_of(request: web.Request) -> str:
    """The client's address as resolved for this request (the TCP peer if it was not)."""
    client = request.get(CLIENT_KEY)
    return str(client.address) if client is not None else str(request.remote)


FORWARDING_INVALID = "FORWARDED_HEADER_INVALID"
"""The error code of the 400 (the OCI error body's shape, on every route)."""
