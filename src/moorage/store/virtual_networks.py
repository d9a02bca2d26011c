"""Virtual networks, their subnets, and registries' virtual-network rules.

A virtual network is a named set of address prefixes in a resource group; a subnet is one
prefix inside them. A registry's virtual-network rule names a subnet, and the gate admits
clients whose address is in that subnet's prefix on the public endpoint (while public access
is Enabled). The gate reads the prefixes with the registry (store/registries.py), so every
write that changes what a registry's rules cover gives that registry a new etag in the same
transaction (`touch`), and tells the caller which registries it touched.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from moorage.domain.errors import (
    DomainError,
    InvalidIPRule,
    PremiumSkuRequired,
    RegistryNotFound,
    RuleLimitExceeded,
)
from moorage.domain.network import parse_ip_rule
from moorage.domain.networks import (
    InvalidNetworkName,
    check_network_name,
    parse_subnet_id,
    subnet_id,
    virtual_network_id,
)
from moorage.domain.registry import Sku
from moorage.store.database import Database
from moorage.store.management import ResourceGroup
from moorage.store.registries import touch
from moorage.store.schema import (
    registries,
    resource_groups,
    subnets,
    virtual_network_rules,
    virtual_networks,
)
from moorage.store.types import as_utc, utcnow

MAX_VIRTUAL_NETWORK_RULES = 100
"""Virtual-network rules per registry, as in the cloud (counted apart from IP rules)."""

T = TypeVar("T")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
vn, sn, rule, g = virtual_networks, subnets, virtual_network_rules, resource_groups


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


# -- pure checks ---------------------------------------------------------------------------


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


def _vnet_not_found(group: ResourceGroup, name: str) -> VirtualNetworkNotFound:
    return VirtualNetworkNotFound(
        f"The virtual network '{name}' in resource group '{group.name}' could not be found; "
        f"see: moorage network vnet list --resource-group {group.name}",
        virtualNetwork=name,
    )


def _in_use(group: ResourceGroup, vnet: str, users: dict[str, list[str]]) -> SubnetInUse:
    named = "; ".join(
        f"subnet '{s}' by registry " + ", ".join(f"'{r}'" for r in names)
        for s, names in users.items()
    )
    subnet, names = next(iter(users.items()))
    return SubnetInUse(
        f"virtual network '{vnet}' has subnets in use by registries' virtual-network rules "
        f"({named}); remove those rules first, e.g.: moorage acr network-rule remove --name "
        f"{names[0]} --resource-group {group.name} --vnet-name {vnet} --subnet {subnet}",
        subnet=subnet,
        registries=sorted({r for names in users.values() for r in names}),
    )


# -- the store -----------------------------------------------------------------------------


class VirtualNetworkStore:
    def __init__(self, db: Database, *, max_rules: int = MAX_VIRTUAL_NETWORK_RULES) -> None:
        self._db = db
        self.max_rules = max_rules

    # reads

    async def get(self, group: ResourceGroup, name: str) -> VirtualNetwork:
        found = await self._select(
            vn.c.resource_group_id == group.id, vn.c.name_key == name.lower()
        )
        if not found:
            raise _vnet_not_found(group, name)
        return found[0]

    async def in_group(self, group: ResourceGroup) -> list[VirtualNetwork]:
        return await self._select(vn.c.resource_group_id == group.id)

    async def in_subscription(self, subscription_id: str) -> list[VirtualNetwork]:
        return await self._select(func.lower(g.c.subscription_id) == subscription_id.lower())

    async def get_subnet(self, group: ResourceGroup, vnet: str, name: str) -> Subnet:
        network = await self.get(group, vnet)
        for subnet in network.subnets:
            if subnet.name.lower() == name.lower():
                return subnet
        raise SubnetNotFound(
            f"The subnet '{name}' of virtual network '{network.name}' could not be found; see: "
            f"moorage network vnet subnet list --resource-group {group.name} --vnet-name "
            f"{network.name}",
            subnet=name,
        )

    async def _select(self, *where: ColumnElement[bool]) -> list[VirtualNetwork]:
        async with self._db.read() as conn:
            rows = (
                await conn.execute(
                    select(
                        vn,
                        g.c.subscription_id,
                        g.c.name.label("group_name"),
                        g.c.location,
                    )
                    .join(g, g.c.id == vn.c.resource_group_id)
                    .where(*where)
                    .order_by(g.c.name_key, vn.c.name_key)
                )
            ).all()
            ids = [r.id for r in rows]
            subnet_rows = (
                await conn.execute(
                    select(sn).where(sn.c.virtual_network_id.in_(ids)).order_by(sn.c.name_key)
                )
            ).all()
            users = await _users(conn, [s.id for s in subnet_rows])
        by_vnet: dict[int, list[Any]] = {}
        for s in subnet_rows:
            by_vnet.setdefault(s.virtual_network_id, []).append(s)
        return [
            VirtualNetwork(
                r.subscription_id,
                r.group_name,
                r.name,
                r.location,
                tuple(r.address_prefixes),
                tuple(
                    Subnet(
                        r.subscription_id,
                        r.group_name,
                        r.name,
                        s.name,
                        s.address_prefix,
                        as_utc(s.created_at),
                        tuple(name for _, name in users.get(s.id, [])),
                    )
                    for s in by_vnet.get(r.id, [])
                ),
                as_utc(r.created_at),
            )
            for r in rows
        ]

    # virtual networks and subnets

    async def put(
        self,
        group: ResourceGroup,
        name: str,
        prefixes: Sequence[str],
        wanted_subnets: Sequence[tuple[str, str]] | None = None,
    ) -> Written[VirtualNetwork]:
        """Create a virtual network or replace its address space. Subnets given replace the
        subnets (one in use cannot go); None keeps them (they must fit the new space)."""
        check_network_name("virtual network", name)
        space = check_address_space(name, prefixes)
        wanted = check_subnets(name, space, wanted_subnets) if wanted_subnets is not None else None
        touched: dict[int, str] = {}
        try:
            async with self._db.write() as conn:
                row = await _vnet_row(conn, group, name)
                existing: list[Any] = []
                if row is None:
                    vnet_id = (
                        await conn.execute(
                            insert(vn)
                            .values(
                                resource_group_id=group.id,
                                name=name,
                                name_key=name.lower(),
                                address_prefixes=list(space),
                                created_at=utcnow(),
                            )
                            .returning(vn.c.id)
                        )
                    ).scalar_one()
                else:
                    vnet_id, name = row.id, row.name
                    existing = await _subnet_rows(conn, vnet_id)
                    await conn.execute(
                        update(vn).where(vn.c.id == vnet_id).values(address_prefixes=list(space))
                    )
                if wanted is None:
                    check_subnets(name, space, [(s.name, s.address_prefix) for s in existing])
                else:
                    touched = await _sync_subnets(conn, group, name, vnet_id, existing, wanted)
                await touch(conn, list(touched))
        except IntegrityError:
            raise ConcurrentNetworkChange(
                f"virtual network '{name}' was changed by another request at the same moment; "
                "retry",
                virtualNetwork=name,
            ) from None
        return Written(await self.get(group, name), row is None, tuple(touched.values()))

    async def delete(self, group: ResourceGroup, name: str) -> bool:
        """Delete a virtual network and its subnets; refused while a registry's rule names
        one of them. False when there is no such network."""
        async with self._db.write() as conn:
            row = await _vnet_row(conn, group, name)
            if row is None:
                return False
            existing = await _subnet_rows(conn, row.id)
            users = await _users(conn, [s.id for s in existing])
            if users:
                by_name = {s.id: s.name for s in existing}
                raise _in_use(
                    group,
                    row.name,
                    {by_name[i]: [n for _, n in names] for i, names in users.items()},
                )
            await conn.execute(delete(vn).where(vn.c.id == row.id))
        return True

    async def put_subnet(
        self, group: ResourceGroup, vnet: str, name: str, prefix: str
    ) -> Written[Subnet]:
        """Create a subnet or change its prefix (the registries whose rules name it are
        touched, so the gate matches the new prefix)."""
        check_network_name("subnet", name)
        touched: dict[int, str] = {}
        try:
            async with self._db.write() as conn:
                row = await _vnet_row(conn, group, vnet)
                if row is None:
                    raise _vnet_not_found(group, vnet)
                existing = await _subnet_rows(conn, row.id)
                others = [
                    (s.name, s.address_prefix) for s in existing if s.name_key != name.lower()
                ]
                _, canonical = check_subnets(
                    row.name, row.address_prefixes, [*others, (name, prefix)]
                )[-1]
                old = next((s for s in existing if s.name_key == name.lower()), None)
                if old is None:
                    await conn.execute(
                        insert(sn).values(
                            virtual_network_id=row.id,
                            name=name,
                            name_key=name.lower(),
                            address_prefix=canonical,
                            created_at=utcnow(),
                        )
                    )
                elif old.address_prefix != canonical:
                    await conn.execute(
                        update(sn).where(sn.c.id == old.id).values(address_prefix=canonical)
                    )
                    touched = dict((await _users(conn, [old.id])).get(old.id, []))
                    await touch(conn, list(touched))
        except IntegrityError:
            raise ConcurrentNetworkChange(
                f"subnet '{name}' was changed by another request at the same moment; retry",
                subnet=name,
            ) from None
        return Written(
            await self.get_subnet(group, vnet, name), old is None, tuple(touched.values())
        )

    async def delete_subnet(self, group: ResourceGroup, vnet: str, name: str) -> bool:
        """Delete a subnet no registry's rule names. False when there is no such subnet."""
        async with self._db.write() as conn:
            row = await _vnet_row(conn, group, vnet)
            if row is None:
                raise _vnet_not_found(group, vnet)
            found = [s for s in await _subnet_rows(conn, row.id) if s.name_key == name.lower()]
            if not found:
                return False
            users = await _users(conn, [found[0].id])
            if users:
                raise _in_use(group, row.name, {found[0].name: [n for _, n in users[found[0].id]]})
            await conn.execute(delete(sn).where(sn.c.id == found[0].id))
        return True

    # registries' virtual-network rules

    async def check_rules(
        self,
        registry: str,
        sku: Sku,
        wanted: Sequence[str] | None,
        current: int,
        *,
        changing_sku: bool,
    ) -> None:
        """Would the registry be allowed these rules (None: its `current` number of rules)
        at this SKU? Every subnet named must exist. Changes nothing."""
        count = current
        if wanted is not None:
            async with self._db.read() as conn:
                count = len({(await _subnet_by_id(conn, s))[0] for s in wanted})
        check_virtual_network_rules(
            registry, sku, count, max_rules=self.max_rules, changing_sku=changing_sku
        )

    async def replace_rules(self, registry_id: int, wanted: Sequence[str]) -> bool:
        """Make the registry's rules name exactly these subnets; True when that changed them."""
        async with self._db.write() as conn:
            name, sku = await _registry(conn, registry_id)
            ids = list(dict.fromkeys([(await _subnet_by_id(conn, s))[0] for s in wanted]))
            check_virtual_network_rules(name, sku, len(ids), max_rules=self.max_rules)
            have = set(
                (
                    await conn.execute(
                        select(rule.c.subnet_id).where(rule.c.registry_id == registry_id)
                    )
                ).scalars()
            )
            if have == set(ids):
                return False
            # Rewritten as given: the rules then list in the order the request named them.
            await conn.execute(delete(rule).where(rule.c.registry_id == registry_id))
            await _insert_rules(conn, registry_id, ids)
            await touch(conn, [registry_id])
        return True

    async def add_rule(self, registry_id: int, subnet: str) -> bool:
        """Add one rule in one transaction; the others stay. False: it was already there."""
        async with self._db.write() as conn:
            name, sku = await _registry(conn, registry_id)
            found, _ = await _subnet_by_id(conn, subnet)
            have = list(
                (
                    await conn.execute(
                        select(rule.c.subnet_id).where(rule.c.registry_id == registry_id)
                    )
                ).scalars()
            )
            if found in have:
                return False
            check_virtual_network_rules(name, sku, len(have) + 1, max_rules=self.max_rules)
            await _insert_rules(conn, registry_id, [found])
            await touch(conn, [registry_id])
        return True

    async def remove_rule(self, registry_id: int, subnet: str) -> None:
        parse_subnet_id(subnet)  # a malformed id is refused as such, not as "no such rule"
        async with self._db.write() as conn:
            name, _ = await _registry(conn, registry_id)
            try:
                found, _ = await _subnet_by_id(conn, subnet)
            except InvalidSubnetReference:
                found = None
            removed = 0
            if found is not None:
                removed = (
                    await conn.execute(
                        delete(rule).where(
                            rule.c.registry_id == registry_id, rule.c.subnet_id == found
                        )
                    )
                ).rowcount
            if not removed:
                raise VirtualNetworkRuleNotFound(
                    f"registry '{name}' has no virtual-network rule for subnet '{subnet}'; "
                    f"see: moorage acr network-rule list --name {name}",
                    id=subnet,
                )
            await touch(conn, [registry_id])


# -- queries shared by the writes ------------------------------------------------------------


async def _vnet_row(conn: AsyncConnection, group: ResourceGroup, name: str) -> Any:
    """The network's row, locked for the transaction (PostgreSQL; SQLite has one writer)."""
    return (
        await conn.execute(
            select(vn.c.id, vn.c.name, vn.c.address_prefixes)
            .where(vn.c.resource_group_id == group.id, vn.c.name_key == name.lower())
            .with_for_update()
        )
    ).first()


async def _subnet_rows(conn: AsyncConnection, vnet_id: int) -> list[Any]:
    return list(
        (
            await conn.execute(
                select(sn.c.id, sn.c.name, sn.c.name_key, sn.c.address_prefix)
                .where(sn.c.virtual_network_id == vnet_id)
                .order_by(sn.c.name_key)
            )
        ).all()
    )


async def _users(conn: AsyncConnection, subnet_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    """(registry id, registry name) of the rules naming each subnet, by subnet id."""
    if not subnet_ids:
        return {}
    rows = await conn.execute(
        select(rule.c.subnet_id, registries.c.id, registries.c.name)
        .join(registries, registries.c.id == rule.c.registry_id)
        .where(rule.c.subnet_id.in_(subnet_ids))
        .order_by(registries.c.name_key)
    )
    found: dict[int, list[tuple[int, str]]] = {}
    for subnet, registry_id, name in rows:
        found.setdefault(subnet, []).append((registry_id, name))
    return found


async def _sync_subnets(
    conn: AsyncConnection,
    group: ResourceGroup,
    vnet: str,
    vnet_id: int,
    existing: list[Any],
    wanted: list[tuple[str, str]],
) -> dict[int, str]:
    """Make the network's subnets these; returns the registries whose rules' prefixes changed."""
    keys = {name.lower() for name, _ in wanted}
    users = await _users(conn, [s.id for s in existing])
    gone = [s for s in existing if s.name_key not in keys]
    in_use = {s.name: [n for _, n in users[s.id]] for s in gone if s.id in users}
    if in_use:
        raise _in_use(group, vnet, in_use)
    if gone:
        await conn.execute(delete(sn).where(sn.c.id.in_([s.id for s in gone])))
    by_key = {s.name_key: s for s in existing}
    touched: dict[int, str] = {}
    for name, prefix in wanted:
        old = by_key.get(name.lower())
        if old is None:
            await conn.execute(
                insert(sn).values(
                    virtual_network_id=vnet_id,
                    name=name,
                    name_key=name.lower(),
                    address_prefix=prefix,
                    created_at=utcnow(),
                )
            )
        elif old.address_prefix != prefix:
            await conn.execute(update(sn).where(sn.c.id == old.id).values(address_prefix=prefix))
            touched.update(users.get(old.id, []))
    return touched


async def _subnet_by_id(conn: AsyncConnection, value: str) -> tuple[int, str]:
    """(row id, canonical resource id) of the subnet a resource id names."""
    ref = parse_subnet_id(value)
    row = (
        await conn.execute(
            select(
                sn.c.id,
                sn.c.name,
                vn.c.name.label("vnet"),
                g.c.name.label("group_name"),
                g.c.subscription_id,
            )
            .select_from(
                sn.join(vn, vn.c.id == sn.c.virtual_network_id).join(
                    g, g.c.id == vn.c.resource_group_id
                )
            )
            .where(
                func.lower(g.c.subscription_id) == ref.subscription_id.lower(),
                g.c.name_key == ref.resource_group.lower(),
                vn.c.name_key == ref.virtual_network.lower(),
                sn.c.name_key == ref.subnet.lower(),
            )
        )
    ).first()
    if row is None:
        raise InvalidSubnetReference(
            f"the subnet '{value.strip()}' could not be found; create it with: moorage network "
            f"vnet subnet create --resource-group {ref.resource_group} --vnet-name "
            f"{ref.virtual_network} --name {ref.subnet} --address-prefixes <prefix>",
            id=value,
        )
    return row.id, subnet_id(row.subscription_id, row.group_name, row.vnet, row.name)


async def _registry(conn: AsyncConnection, registry_id: int) -> tuple[str, Sku]:
    row = (
        await conn.execute(
            select(registries.c.name, registries.c.sku)
            .where(registries.c.id == registry_id)
            .with_for_update()
        )
    ).first()
    if row is None:
        raise RegistryNotFound(f"The registry with id {registry_id} no longer exists.")
    return row.name, Sku(row.sku)


async def _insert_rules(conn: AsyncConnection, registry_id: int, subnet_ids: list[int]) -> None:
    """Rules list oldest first: a microsecond apart, they keep the order they were given in."""
    if subnet_ids:
        now = utcnow()
        await conn.execute(
            insert(rule),
            [
                {
                    "registry_id": registry_id,
                    "subnet_id": s,
                    "action": "Allow",
                    "created_at": now + timedelta(microseconds=i),
                }
                for i, s in enumerate(subnet_ids)
            ],
        )
