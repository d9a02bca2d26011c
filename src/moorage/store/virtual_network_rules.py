"""Registries' virtual-network rules: each names a subnet (store/virtual_networks.py), and the
gate admits clients whose address is in that subnet's prefix on the public endpoint (while
public access is Enabled). The gate reads the rules with the registry (store/registries.py),
so every write here gives the registry a new etag in the same transaction (`touch`). The
Premium and limit checks are domain/virtual_networks.py's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from moorage.domain.errors import RegistryNotFound
from moorage.domain.networks import parse_subnet_id, subnet_id
from moorage.domain.registry import Sku
from moorage.domain.virtual_networks import (
    MAX_VIRTUAL_NETWORK_RULES,
    InvalidSubnetReference,
    VirtualNetworkRuleNotFound,
    check_virtual_network_rules,
)
from moorage.store.database import Database
from moorage.store.registry_records import touch
from moorage.store.schema import (
    registries,
    resource_groups,
    subnets,
    virtual_network_rules,
    virtual_networks,
)
from moorage.store.types import utcnow

vn, sn, rule, g = virtual_networks, subnets, virtual_network_rules, resource_groups


class VirtualNetworkRuleStore:
    def __init__(self, db: Database, *, max_rules: int = MAX_VIRTUAL_NETWORK_RULES) -> None:
        self._db = db
        self.max_rules = max_rules

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
            return await self.replace_rules_in(conn, registry_id, wanted)

    async def replace_rules_in(
        self, conn: AsyncConnection, registry_id: int, wanted: Sequence[str]
    ) -> bool:
        """replace_rules inside the caller's transaction (the registry's own update)."""
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


# -- queries ------------------------------------------------------------------------------


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
