"""Virtual networks, their subnets, and registries' virtual-network rules: the values, the
errors and the checks. Pure, no I/O (the store is store/virtual_networks.py, the rules'
store store/virtual_network_rules.py).

A virtual network is a named set of address prefixes in a resource group; a subnet is one
prefix inside them. Prefixes are canonical CIDR ranges; a network's prefixes do not overlap,
and its subnets lie inside them without overlapping each other. A registry's virtual-network
rules are a Premium feature, at most MAX_VIRTUAL_NETWORK_RULES per registry.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from moorage.domain.errors import (
    DomainError,
    InvalidIPRule,
    PremiumSkuRequired,
    RuleLimitExceeded,
)
from moorage.domain.network import parse_ip_rule
from moorage.domain.networks import (
    InvalidNetworkName,
    check_network_name,
    subnet_id,
    virtual_network_id,
)
from moorage.domain.registry import Sku

MAX_VIRTUAL_NETWORK_RULES = 100
"""Virtual-network rules per registry, as in the cloud (counted apart from IP rules)."""

T = TypeVar("T")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class VirtualNetworkNotFound(DomainError):
    pass


class SubnetNotFound(DomainError):
    pass


class InvalidAddressPrefix(DomainError):
    """An address prefix that is not a CIDR range (the message says why)."""


class VirtualNetworkPrefixesOverlap(DomainError):
    """Two address prefixes of one virtual network overlap."""


class SubnetsOverlap(DomainError):
    """Two subnets of one virtual network overlap."""


class SubnetOutsideVirtualNetwork(DomainError):
    """A subnet's prefix is not inside any of its virtual network's prefixes."""


class SubnetInUse(DomainError):
    """A subnet that registries' virtual-network rules name cannot be deleted."""


class InvalidSubnetReference(DomainError):
    """A virtual-network rule names a subnet that does not exist."""


class VirtualNetworkRuleNotFound(DomainError):
    """A rule to remove is not among the registry's virtual-network rules."""


class VirtualNetworkRuleLimitExceeded(RuleLimitExceeded):
    """A change would leave a registry with more virtual-network rules than the limit."""


class ConcurrentNetworkChange(DomainError):
    """Another request created the same virtual network or subnet at the same moment."""


@dataclass(frozen=True, slots=True)
class Subnet:
    subscription_id: str
    resource_group: str
    virtual_network: str
    name: str
    address_prefix: str
    """Canonical CIDR, always with its prefix length."""
    created_at: datetime
    registries: tuple[str, ...] = ()
    """Names of the registries whose virtual-network rules name this subnet."""

    @property
    def id(self) -> str:
        return subnet_id(self.subscription_id, self.resource_group, self.virtual_network, self.name)


@dataclass(frozen=True, slots=True)
class VirtualNetwork:
    subscription_id: str
    resource_group: str
    name: str
    location: str
    """The resource group's location (moorage keeps no location of its own for a network)."""
    address_prefixes: tuple[str, ...]
    subnets: tuple[Subnet, ...]
    created_at: datetime

    @property
    def id(self) -> str:
        return virtual_network_id(self.subscription_id, self.resource_group, self.name)


@dataclass(frozen=True, slots=True)
class Written(Generic[T]):
    """What a write produced, whether it created it, and the registries it touched."""

    value: T
    created: bool = False
    touched: tuple[str, ...] = ()


# -- checks ----------------------------------------------------------------------------------


def address_prefix(value: str, what: str = "address prefix") -> Network:
    """A CIDR range, canonical (IPv4-mapped IPv6 as IPv4); host bits are refused."""
    if not isinstance(value, str) or "/" not in value:
        raise InvalidAddressPrefix(
            f"{what} {value!r} is not a CIDR range such as 10.0.0.0/16 or 2001:db8::/48: "
            "give the prefix length",
            addressPrefix=str(value),
        )
    try:
        canonical = parse_ip_rule(value)
    except InvalidIPRule as e:
        if "host bits" in e.message:
            network = ipaddress.ip_network(value, strict=False)
            raise InvalidAddressPrefix(
                f"{what} {value!r} has host bits set; did you mean '{network.with_prefixlen}'?",
                addressPrefix=value,
            ) from None
        raise InvalidAddressPrefix(
            e.message.replace("IP rule", what, 1), addressPrefix=value
        ) from None
    return ipaddress.ip_network(canonical)


def _overlap(a: Network, b: Network) -> bool:
    return (
        a.version == b.version
        and int(a.network_address) <= int(b.broadcast_address)
        and int(b.network_address) <= int(a.broadcast_address)
    )


def _inside(inner: Network, outer: Network) -> bool:
    return (
        inner.version == outer.version
        and int(outer.network_address) <= int(inner.network_address)
        and int(inner.broadcast_address) <= int(outer.broadcast_address)
    )


def check_address_space(name: str, prefixes: Sequence[str]) -> tuple[str, ...]:
    """A virtual network's prefixes, canonical; at least one, and no two overlapping."""
    if not prefixes:
        raise InvalidAddressPrefix(
            f"virtual network '{name}' needs at least one address prefix "
            "(addressSpace.addressPrefixes), such as 10.0.0.0/16",
            addressPrefixes=[],
        )
    networks: list[Network] = []
    for prefix in prefixes:
        network = address_prefix(prefix)
        for other in networks:
            if _overlap(network, other):
                twice = " (given twice)" if network == other else ""
                raise VirtualNetworkPrefixesOverlap(
                    f"the address prefixes of virtual network '{name}' overlap: "
                    f"'{other.with_prefixlen}' and '{network.with_prefixlen}'{twice}",
                    addressPrefix=network.with_prefixlen,
                )
        networks.append(network)
    return tuple(n.with_prefixlen for n in networks)


def check_subnets(
    vnet: str, space: Sequence[str], wanted: Iterable[tuple[str, str]]
) -> list[tuple[str, str]]:
    """(name, canonical prefix) of a virtual network's subnets: names valid and distinct,
    each prefix inside the address space, no two overlapping."""
    space_networks = [ipaddress.ip_network(p) for p in space]
    seen: dict[str, tuple[str, Network]] = {}
    for name, prefix in wanted:
        check_network_name("subnet", name)
        if name.lower() in seen:
            raise InvalidNetworkName(
                f"subnet name '{name}' is given twice in virtual network '{vnet}'", name=name
            )
        network = address_prefix(prefix, f"subnet '{name}' address prefix")
        if not any(_inside(network, s) for s in space_networks):
            raise SubnetOutsideVirtualNetwork(
                f"subnet '{name}' address prefix '{network.with_prefixlen}' is not inside the "
                f"address space of virtual network '{vnet}' ({', '.join(space)})",
                addressPrefix=network.with_prefixlen,
            )
        for other_name, other in seen.values():
            if _overlap(network, other):
                raise SubnetsOverlap(
                    f"subnet '{name}' address prefix '{network.with_prefixlen}' overlaps subnet "
                    f"'{other_name}' ('{other.with_prefixlen}') of virtual network '{vnet}'",
                    addressPrefix=network.with_prefixlen,
                )
        seen[name.lower()] = (name, network)
    return [(name, network.with_prefixlen) for name, network in seen.values()]


def check_virtual_network_rules(
    name: str, sku: Sku, count: int, *, max_rules: int, changing_sku: bool = False
) -> None:
    """Virtual-network rules are a Premium feature, at most `max_rules` per registry."""
    if count and sku is not Sku.PREMIUM:
        if changing_sku:
            raise PremiumSkuRequired(
                f"registry '{name}' has {count} virtual-network rule(s), which need the Premium "
                f"SKU; remove them before moving it to {sku.value}",
                sku=sku.value,
            )
        raise PremiumSkuRequired(
            f"virtual-network rules need the Premium SKU and registry '{name}' is {sku.value}; "
            f"upgrade it with: moorage acr update --name {name} --sku Premium",
            sku=sku.value,
        )
    if count > max_rules:
        raise VirtualNetworkRuleLimitExceeded(
            f"registry '{name}' would have {count} virtual-network rules; the limit is "
            f"{max_rules}. Nothing was changed.",
            limit=max_rules,
        )


def virtual_network_not_found(group: str, name: str) -> VirtualNetworkNotFound:
    """The error for a virtual network `name` missing from resource group `group`."""
    return VirtualNetworkNotFound(
        f"The virtual network '{name}' in resource group '{group}' could not be found; "
        f"see: moorage network vnet list --resource-group {group}",
        virtualNetwork=name,
    )


def subnet_in_use(group: str, vnet: str, users: dict[str, list[str]]) -> SubnetInUse:
    """The error for subnets of `vnet` that registries' rules name: {subnet: [registry]}."""
    named = "; ".join(
        f"subnet '{s}' by registry " + ", ".join(f"'{r}'" for r in names)
        for s, names in users.items()
    )
    subnet, names = next(iter(users.items()))
    return SubnetInUse(
        f"virtual network '{vnet}' has subnets in use by registries' virtual-network rules "
        f"({named}); remove those rules first, e.g.: moorage acr network-rule remove --name "
        f"{names[0]} --resource-group {group} --vnet-name {vnet} --subnet {subnet}",
        subnet=subnet,
        registries=sorted({r for names in users.values() for r in names}),
    )
