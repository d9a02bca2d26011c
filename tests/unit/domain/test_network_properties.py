"""Properties of the network gate against plain references written with ipaddress alone."""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from hypothesis import given, settings
from hypothesis import strategies as st

from moorage.domain.errors import InvalidIPRule
from moorage.domain.network import (
    AccessFacts,
    Allow,
    Deny,
    Listener,
    Policy,
    decide,
    parse_client_address,
    parse_ip_rule,
)
from moorage.domain.registry import DefaultAction

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address

PROPERTIES = settings(max_examples=200, deadline=None)


def _masked(number: int, prefix: int, bits: int) -> int:
    return number >> (bits - prefix) << (bits - prefix)


v4_networks = st.builds(
    lambda n, p: IPv4Network((_masked(n, p, 32), p)),
    st.integers(0, 2**32 - 1),
    st.integers(0, 32),
)
v6_networks = st.builds(
    lambda n, p: IPv6Network((_masked(n, p, 128), p)),
    st.integers(0, 2**128 - 1),
    st.integers(0, 128),
)
# IPv4-mapped IPv6 ranges (::ffff:a.b.c.d/96..128): the rule becomes its IPv4 equivalent
mapped_networks = st.builds(
    lambda n, p: IPv6Network(((0xFFFF << 32) | _masked(n, p - 96, 32), p)),
    st.integers(0, 2**32 - 1),
    st.integers(96, 128),
)
# short prefixes in the low corner of each family, so that ranges nest, touch and overlap
crowded_v4 = st.builds(
    lambda n, p: IPv4Network((_masked(n, p, 32), p)), st.integers(0, 2**12), st.integers(20, 32)
)
networks = st.one_of(v4_networks, v6_networks, mapped_networks, crowded_v4)


def _same_network_canonically(network: Network) -> Network:
    """What a rule means, computed with ipaddress alone: a mapped range is its IPv4 range."""
    if isinstance(network, IPv6Network):
        mapped = network.network_address.ipv4_mapped
        if mapped is not None and network.prefixlen >= 96:
            return IPv4Network((mapped, network.prefixlen - 96))
    return network


def _reference_client(text: str) -> Address:
    """parse_client_address written plainly with ipaddress."""
    if ":" in text and text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text and "%" in text:
        text, _, zone = text.partition("%")
        if not zone:
            raise ValueError("empty zone")
    address = ipaddress.ip_address(text)
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _texts_near(draw: st.DrawFn, rules: list[Network]) -> str:
    """A client address as text: at or next to a rule's edges, or anywhere."""
    choice = draw(st.integers(0, 5))
    if rules and choice < 4:
        network = draw(st.sampled_from(rules))
        bits = network.max_prefixlen
        first = int(network.network_address)
        last = int(network.broadcast_address)
        number = [first, last, first - 1, last + 1][choice] % (1 << bits)
        address: Address = IPv4Address(number) if bits == 32 else IPv6Address(number)
    elif choice == 4:
        address = IPv4Address(draw(st.integers(0, 2**32 - 1)))
    else:
        address = IPv6Address(draw(st.integers(0, 2**128 - 1)))
    form = draw(st.integers(0, 3))
    if isinstance(address, IPv6Address) and form == 1:
        return address.exploded
    if isinstance(address, IPv6Address) and form == 2:
        return f"[{address}]"
    if isinstance(address, IPv4Address) and form == 3:
        return f"::ffff:{address}"
    return str(address)


@PROPERTIES
@given(st.lists(networks, max_size=200), st.data())
def test_the_matcher_agrees_with_a_linear_scan(rules: list[Network], data: st.DataObject) -> None:
    values = [parse_ip_rule(str(network)) for network in rules]
    policy = Policy.compile("myregistry1", True, DefaultAction.DENY, values)
    matcher = policy.matcher
    canonical = [_same_network_canonically(network) for network in rules]
    for _ in range(20):
        text = _texts_near(data.draw, canonical)
        address = parse_client_address(text)
        reference = _reference_client(text)
        expected = any(
            reference in ipaddress.ip_network(v)
            for v in values
            if ipaddress.ip_network(v).version == reference.version
        )
        assert matcher.matches(address) is expected, (text, values)
        rule = matcher.matching_rule(address)
        assert (rule is not None) is expected
        if rule is not None:
            smallest = min(
                ipaddress.ip_network(v).num_addresses
                for v in values
                if ipaddress.ip_network(v).version == reference.version
                and reference in ipaddress.ip_network(v)
            )
            assert ipaddress.ip_network(rule).num_addresses == smallest


@PROPERTIES
@given(networks)
def test_a_rule_keeps_its_meaning_in_canonical_form(network: Network) -> None:
    canonical = parse_ip_rule(str(network))
    assert ipaddress.ip_network(canonical) == _same_network_canonically(network)
    assert parse_ip_rule(canonical) == canonical
    assert parse_ip_rule(network.exploded) == canonical
    assert parse_ip_rule(str(network.network_address) + f"/{network.prefixlen}") == canonical
    assert ("/" in canonical) is (_same_network_canonically(network).num_addresses > 1)


@PROPERTIES
@given(st.integers(0, 2**32 - 1), st.integers(0, 31))
def test_host_bits_are_refused_with_the_network_meant(number: int, prefix: int) -> None:
    value = f"{IPv4Address(number)}/{prefix}"
    network = ipaddress.ip_network(value, strict=False)
    if int(network.network_address) == number:
        assert parse_ip_rule(value) == str(network)
        return
    try:
        parse_ip_rule(value)
    except InvalidIPRule as e:
        assert f"did you mean '{network}' (the network) or '{IPv4Address(number)}'" in str(e)
    else:
        raise AssertionError(f"{value} was accepted")


rule_texts = st.one_of(
    st.text(alphabet="0123456789abcdefABCDEF:./ -x", max_size=45),
    st.builds(lambda n: f"{n.network_address}/{n.prefixlen}", networks),
    st.builds(lambda a, p: f"{a}/{p}", st.ip_addresses(), st.integers(0, 130)),
)


@PROPERTIES
@given(rule_texts)
def test_a_rule_is_never_accepted_that_ipaddress_refuses(text: str) -> None:
    try:
        canonical = parse_ip_rule(text)
    except InvalidIPRule:
        return
    assert ipaddress.ip_network(canonical) == _same_network_canonically(
        ipaddress.ip_network(text, strict=True)
    )


client_alphabet = st.text(alphabet="0123456789abcdefABCDEF:.%[]/ x", max_size=45)


@PROPERTIES
@given(st.one_of(client_alphabet, st.builds(str, st.ip_addresses())))
def test_client_addresses_parse_as_ipaddress_would(text: str) -> None:
    try:
        expected: Address | None = _reference_client(text)
    except ValueError:
        expected = None
    try:
        got: Address | None = parse_client_address(text)
    except ValueError:
        got = None
    assert got == expected
    assert type(got) is type(expected)


def _reference_decision(
    public_enabled: bool,
    default_action: str,
    rules: list[Network],
    approved: set[str],
    listener: str,
    endpoint: str | None,
    client: Address,
) -> tuple[str, str]:
    """The seed's model, written as plainly as possible."""
    if listener == "private":
        if endpoint in approved:
            return "allow", f"approved private endpoint {endpoint}"
        return "deny", "the registry has no approved connection on this private endpoint"
    if not public_enabled:
        return "deny", "public network access is disabled"
    if default_action == "Allow":
        return "allow", "default action Allow"
    for network in rules:
        if network.version == client.version and client in network:
            return "allow", "matched an IP rule"
    return "deny", "the client address is not in the registry's allowed IP ranges"


ENDPOINTS = ["pe1", "pe2", "pe3"]


@PROPERTIES
@given(
    st.booleans(),
    st.sampled_from(["Allow", "Deny"]),
    st.lists(networks, max_size=30),
    st.sets(st.sampled_from(ENDPOINTS)),
    st.sampled_from(["public", "private"]),
    st.one_of(st.none(), st.sampled_from([*ENDPOINTS, "pe4", ""])),
    st.data(),
)
def test_decide_agrees_with_a_plain_reference(
    public_enabled: bool,
    default_action: str,
    rules: list[Network],
    approved: set[str],
    listener: str,
    endpoint: str | None,
    data: st.DataObject,
) -> None:
    canonical = [_same_network_canonically(network) for network in rules]
    policy = Policy.compile(
        "myregistry1",
        public_enabled,
        DefaultAction(default_action),
        [str(network) for network in rules],
        approved_private_endpoints=approved,
    )
    text = _texts_near(data.draw, canonical)
    facts = AccessFacts(parse_client_address(text), Listener(listener), endpoint)
    decision = decide(facts, policy)
    verdict = "allow" if isinstance(decision, Allow) else "deny"
    assert isinstance(decision, Allow | Deny)
    assert (verdict, str(decision.reason)) == _reference_decision(
        public_enabled,
        default_action,
        canonical,
        approved,
        listener,
        endpoint,
        _reference_client(text),
    )
