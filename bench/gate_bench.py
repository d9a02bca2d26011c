"""Cost of one network-gate decision, as the gate pays it, against a linear scan with ipaddress.

    uv run python bench/gate_bench.py

Each figure is nanoseconds per call, the best of 5 timeit runs (each run long enough for
timeit.autorange, i.e. at least 0.2 s). "moorage" times
`decide(AccessFacts(parse_client_address(text)), policy)`, parsing the client's address text as
the gate does. "linear" times the plain way: `ipaddress.ip_address(text)`, IPv4-mapped
normalisation, then `any(address in network for network in networks)` over pre-parsed networks.
Rules are seeded random networks, half IPv4 (/16../32), half IPv6 (/32../128), default action
Deny; a hit is an address inside the rule halfway down the list (a linear scan stops there on
average), a miss is in no rule (a linear scan reads them all).
"""

from __future__ import annotations

import ipaddress
import platform
import random
import sys
import timeit
from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from moorage.domain.network import (
    AccessFacts,
    Allow,
    Matcher,
    Policy,
    decide,
    parse_client_address,
    parse_ip_rule,
)
from moorage.domain.registry import DefaultAction

REPEAT = 5
RULE_COUNTS = (0, 100, 10_000)


def best_ns(stmt: str, namespace: dict[str, object]) -> float:
    timer = timeit.Timer(stmt, globals=namespace)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=REPEAT, number=number)) / number * 1e9


def make_rules(count: int, rng: random.Random) -> list[str]:
    rules: list[str] = []
    for i in range(count):
        if i % 2 == 0:
            prefix = rng.randint(16, 32)
            number = rng.getrandbits(32) >> (32 - prefix) << (32 - prefix)
            rules.append(parse_ip_rule(str(IPv4Network((number, prefix)))))
        else:
            prefix = rng.randint(32, 128)
            number = rng.getrandbits(128) >> (128 - prefix) << (128 - prefix)
            rules.append(parse_ip_rule(str(IPv6Network((number, prefix)))))
    return rules


def pick_clients(
    rules: list[str], matcher: Matcher, version: int, rng: random.Random
) -> dict[str, str]:
    """{"hit": text, "miss": text} for one family (no hit without rules of that family)."""
    clients: dict[str, str] = {}
    family = [r for r in rules if ipaddress.ip_network(r).version == version]
    if family:
        network = ipaddress.ip_network(family[len(family) // 2])
        offset = rng.randrange(network.num_addresses)
        clients["hit"] = str(network.network_address + offset)
    while "miss" not in clients:
        address = (
            IPv4Address(rng.getrandbits(32)) if version == 4 else IPv6Address(rng.getrandbits(128))
        )
        if not matcher.matches(address):
            clients["miss"] = str(address)
    return clients


def linear_reference(rules: list[str]) -> Callable[[str], bool]:
    networks = [ipaddress.ip_network(r) for r in rules]

    def allowed(text: str) -> bool:
        address = ipaddress.ip_address(text)
        if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in networks)

    return allowed


def main() -> None:
    rng = random.Random(20240601)  # seeded: the same rules and clients on every run
    print(
        f"gate decision cost, ns per call (best of {REPEAT}); Python {platform.python_version()}"
        f" on {platform.machine()}, {sys.platform}"
    )
    print(f"{'rules':>6}  {'client':<6} {'case':<5} {'moorage':>10} {'linear':>12} {'ratio':>8}")
    for count in RULE_COUNTS:
        rules = make_rules(count, rng)
        policy = Policy.compile("bench", True, DefaultAction.DENY, rules)
        reference = linear_reference(rules)
        for version in (4, 6):
            for case, text in pick_clients(rules, policy.matcher, version, rng).items():
                expected = case == "hit"
                decision = decide(AccessFacts(parse_client_address(text)), policy)
                assert isinstance(decision, Allow) is expected
                assert reference(text) is expected
                ours = best_ns(
                    "decide(AccessFacts(parse(text)), policy)",
                    {
                        "decide": decide,
                        "AccessFacts": AccessFacts,
                        "parse": parse_client_address,
                        "text": text,
                        "policy": policy,
                    },
                )
                if count:
                    linear = best_ns("reference(text)", {"reference": reference, "text": text})
                    theirs, ratio = f"{linear:12.0f}", f"{linear / ours:7.1f}x"
                else:
                    theirs, ratio = f"{'-':>12}", f"{'-':>8}"
                print(f"{count:>6}  IPv{version:<3} {case:<5} {ours:10.0f} {theirs} {ratio}")

    print()
    print(f"compile, ms (best of {REPEAT})")
    for count in RULE_COUNTS[1:]:
        rules = make_rules(count, rng)
        seconds = min(
            timeit.repeat(lambda rules=rules: Matcher.compile(rules), repeat=REPEAT, number=1)
        )
        print(f"{count:>6} rules  {seconds * 1e3:8.2f}")


if __name__ == "__main__":
    main()
