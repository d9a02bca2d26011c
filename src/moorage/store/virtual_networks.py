"""Virtual networks and their subnets.

A virtual network is a named set of address prefixes in a resource group; a subnet is one
prefix inside them (the values and checks are domain/virtual_networks.py). A registry's
virtual-network rule names a subnet (store/virtual_network_rules.py), and the gate admits
clients whose address is in that subnet's prefix on the public endpoint (while public access
is Enabled). The gate reads the prefixes with the registry (store/registries.py), so every
write that changes what a registry's rules cover gives that registry a new etag in the same
transaction (`touch`), and tells the caller which registries it touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from moorage.domain.networks import check_network_name
from moorage.domain.virtual_networks import (
    ConcurrentNetworkChange,
    Subnet,
    SubnetNotFound,
    VirtualNetwork,
    Written,
    check_address_space,
    check_subnets,
    subnet_in_use,
    virtual_network_not_found,
)
from moorage.store.database import Database
from moorage.store.management import ResourceGroup
from moorage.store.registry_records import touch
from moorage.store.schema import (
    registries,
    resource_groups,
    subnets,
    virtual_network_rules,
    virtual_networks,
)
from moorage.store.types import as_utc, utcnow

vn, sn, rule, g = virtual_networks, subnets, virtual_network_rules, resource_groups


# -- the store -----------------------------------------------------------------------------


class VirtualNetworkStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # reads

    async def get(self, group: ResourceGroup, name: str) -> VirtualNetwork:
        found = await self._select(
            vn.c.resource_group_id == group.id, vn.c.name_key == name.lower()
        )
        if not found:
            raise virtual_network_not_found(group.name, name)
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
                raise subnet_in_use(
                    group.name,
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
                    raise virtual_network_not_found(group.name, vnet)
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
                raise virtual_network_not_found(group.name, vnet)
            found = [s for s in await _subnet_rows(conn, row.id) if s.name_key == name.lower()]
            if not found:
                return False
            users = await _users(conn, [found[0].id])
            if users:
                raise subnet_in_use(
                    group.name, row.name, {found[0].name: [n for _, n in users[found[0].id]]}
                )
            await conn.execute(delete(sn).where(sn.c.id == found[0].id))
        return True


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
        raise subnet_in_use(group.name, vnet, in_use)
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
