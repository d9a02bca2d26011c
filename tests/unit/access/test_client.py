"""Client address resolution: exactly one forwarding header, and only from a trusted proxy."""

from __future__ import annotations

from ipaddress import ip_address
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict

from moorage.access.client import ClientResolver, ForwardingInvalid
from moorage.domain.forwarding import ForwardedHeader

PROXY = "127.0.0.10"
TRUSTED = ["127.0.0.10/32", "10.0.0.0/8"]
FWD = ForwardedHeader.FORWARDED
XFF = ForwardedHeader.X_FORWARDED_FOR
REAL = ForwardedHeader.X_REAL_IP
# What a client at 127.0.0.3 would like to be judged as, in each header.
SPOOF = {
    "Forwarded": "for=127.0.0.2;proto=https",
    "X-Forwarded-For": "127.0.0.2",
    "X-Real-IP": "127.0.0.2",
}
# What a proxy that maintains each header sends for that client (nginx's configurations).
HONEST = {
    FWD: ("Forwarded", "for=127.0.0.3;proto=http"),
    XFF: ("X-Forwarded-For", "127.0.0.3"),
    REAL: ("X-Real-IP", "127.0.0.3"),
}


class _Transport:
    def __init__(self, peer: str) -> None:
        self.peer = peer

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return (self.peer, 40000) if name == "peername" else default


def request(peer: str, *headers: tuple[str, str]) -> web.Request:
    return make_mocked_request(
        "GET", "/v2/", headers=CIMultiDict(headers), transport=_Transport(peer)
    )


def resolve(
    header: ForwardedHeader, peer: str, *headers: tuple[str, str], trusted: list[str] = TRUSTED
) -> tuple[str, str | None]:
    client = ClientResolver(trusted, header).resolve(request(peer, *headers))
    return str(client.address), client.scheme


@pytest.mark.parametrize(
    ("header", "spoofed"),
    # nginx replaces X-Real-IP (two values are refused: test below); it appends to the others.
    [(h, s) for h in ForwardedHeader for s in sorted(SPOOF) if (h, s) != (REAL, "X-Real-IP")],
)
def test_only_the_named_header_changes_the_address(header: ForwardedHeader, spoofed: str) -> None:
    """The issue's case: the proxy maintains its header; the client adds another of its own."""
    name, value = HONEST[header]
    # The client's own copy of the named header: the proxy appends to it (nginx's
    # $proxy_add_x_forwarded_for), and the right-most untrusted hop still wins.
    sent = (name, f"{SPOOF[spoofed]}, {value}") if spoofed == name else (name, value)
    address, _ = resolve(header, PROXY, (spoofed, SPOOF[spoofed]), sent)
    assert address == "127.0.0.3"


@pytest.mark.parametrize("header", list(ForwardedHeader))
def test_other_headers_alone_change_nothing(header: ForwardedHeader) -> None:
    others = [(name, value) for name, value in SPOOF.items() if name != header.value]
    assert resolve(header, PROXY, *others) == (PROXY, None)  # the proxy is the client


@pytest.mark.parametrize("header", list(ForwardedHeader))
def test_an_untrusted_peer_changes_nothing(header: ForwardedHeader) -> None:
    sent = [*SPOOF.items(), ("X-Forwarded-Proto", "https")]
    assert resolve(header, "127.0.0.3", *sent) == ("127.0.0.3", None)
    assert resolve(header, PROXY, *sent, trusted=[]) == (PROXY, None)


@pytest.mark.parametrize(
    ("header", "value", "expected"),
    [
        (XFF, "203.0.113.7", "203.0.113.7"),
        (XFF, "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the right-most untrusted
        (XFF, "203.0.113.7, 10.1.2.3", "203.0.113.7"),  # trusted hops are skipped
        (XFF, "10.1.2.3, 10.2.3.4", "10.1.2.3"),  # all trusted: the left-most
        (XFF, "not-an-ip, 203.0.113.7", "203.0.113.7"),  # left of the client: not read
        (XFF, "::ffff:203.0.113.7", "203.0.113.7"),
        (FWD, 'for="[2001:db8::1]:4711", for=10.1.2.3', "2001:db8::1"),
        (FWD, "for=garbage;;x, for=203.0.113.7", "203.0.113.7"),
        (REAL, "203.0.113.7", "203.0.113.7"),
        (REAL, "[2001:db8::1]:80", "2001:db8::1"),
    ],
)
def test_the_chain_is_walked_from_the_right(
    header: ForwardedHeader, value: str, expected: str
) -> None:
    assert resolve(header, PROXY, (header.value, value))[0] == expected


@pytest.mark.parametrize(
    ("header", "value", "problem"),
    [
        (XFF, "not-an-ip", "'not-an-ip' is not an IP address"),
        (XFF, "203.0.113.7, 10.1.2.3, unknown", "'unknown' is not an IP address"),
        (XFF, "203.0.113.7,", "not a well-formed element"),
        (XFF, "not-an-ip, 10.1.2.3", "'not-an-ip' is not an IP address"),  # reached: trusted
        (XFF, ", ".join(["10.0.0.1"] * 65), "65 hops, more than 64"),
        (FWD, "for=unknown", "'unknown' is not an IP address"),
        (FWD, "for=_hidden", "'_hidden' is not an IP address"),
        (FWD, "for=203.0.113.7;garbage", "not a well-formed element"),
        (FWD, "proto=https", "not a well-formed element"),
        (FWD, 'for="203.0.113.7', "not a well-formed element"),
        (REAL, "203.0.113.7, 198.51.100.1", "not a well-formed element"),
        (REAL, "", "not a well-formed element"),
    ],
)
def test_a_malformed_named_header_is_refused(
    header: ForwardedHeader, value: str, problem: str
) -> None:
    with pytest.raises(ForwardingInvalid, match=problem) as caught:
        resolve(header, PROXY, (header.value, value))
    assert caught.value.header == header.value
    assert caught.value.proxy == ip_address(PROXY)
    assert value[:50] in caught.value.value


def test_two_x_real_ip_lines_are_refused() -> None:
    with pytest.raises(ForwardingInvalid):
        resolve(REAL, PROXY, ("X-Real-IP", "127.0.0.2"), ("X-Real-IP", "127.0.0.3"))


@pytest.mark.parametrize(
    ("header", "sent", "expected"),
    [
        (XFF, [("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-Proto", "https")], "https"),
        (XFF, [("X-Forwarded-Proto", "HTTPS")], "https"),  # the proxy's own request
        (XFF, [("X-Forwarded-Proto", "http, https")], "https"),  # the nearest proxy's
        (REAL, [("X-Real-IP", "203.0.113.7"), ("X-Forwarded-Proto", "https")], "https"),
        (XFF, [("X-Forwarded-For", "203.0.113.7")], None),
        (FWD, [("Forwarded", "for=203.0.113.7;proto=https")], "https"),
        # The element that named the client says how it came; the others are the client's.
        (FWD, [("Forwarded", "for=1.2.3.4;proto=https, for=203.0.113.7;proto=http")], "http"),
        (FWD, [("Forwarded", "for=203.0.113.7"), ("X-Forwarded-Proto", "https")], None),
        (XFF, [("X-Forwarded-For", "203.0.113.7"), ("Forwarded", "proto=https")], None),
    ],
)
def test_the_scheme_comes_with_the_named_header(
    header: ForwardedHeader, sent: list[tuple[str, str]], expected: str | None
) -> None:
    assert resolve(header, PROXY, *sent)[1] == expected


@pytest.mark.parametrize(
    ("header", "sent"),
    [
        (XFF, [("X-Forwarded-Proto", "ftp")]),
        (FWD, [("Forwarded", "for=203.0.113.7;proto=gopher")]),
    ],
)
def test_a_scheme_other_than_http_or_https_is_refused(
    header: ForwardedHeader, sent: list[tuple[str, str]]
) -> None:
    with pytest.raises(ForwardingInvalid, match="neither http nor https"):
        resolve(header, PROXY, *sent)


def test_an_untrusted_peer_is_remembered_without_its_headers() -> None:
    resolver = ClientResolver(TRUSTED, XFF)
    first = resolver.resolve(request("127.0.0.3", ("X-Forwarded-For", "203.0.113.7")))
    again = resolver.resolve(request("127.0.0.3", ("X-Forwarded-For", "198.51.100.1")))
    assert str(first.address) == str(again.address) == "127.0.0.3"
    proxied = resolver.resolve(request(PROXY, ("X-Forwarded-For", "203.0.113.7")))
    assert str(proxied.address) == "203.0.113.7"
    assert proxied.peer == ip_address(PROXY)
    assert proxied.forwarded == ("203.0.113.7",)
