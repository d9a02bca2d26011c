"""Reading registry records whole (settings, IP rules, virtual-network rules, private endpoint
connections) and the helpers other stores use inside their own transactions: a new etag, and
`touch` to give registries one when something their policy depends on changes."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from moorage.domain.networks import private_endpoint_id, subnet_id
from moorage.domain.registry import (
    ConnectionStatus,
    DefaultAction,
    IPRule,
    NetworkRuleSet,
    PrivateEndpointConnection,
    PublicNetworkAccess,
    Registry,
    Sku,
    VirtualNetworkRule,
)
from moorage.store.schema import (
    ip_rules,
    private_endpoint_connections,
    private_endpoints,
    registries,
    resource_groups,
    subnets,
    virtual_network_rules,
    virtual_networks,
)
from moorage.store.types import as_utc, utcnow


def new_etag() -> str:
    return uuid.uuid4().hex


async def load_registries(
    conn: AsyncConnection, where: ColumnElement[bool] | None
) -> list[Registry]:
    """The registries `where` picks (all with None), by name, with their IP rules (expired ones
    left out), virtual-network rules and private endpoint connections."""
    query = (
        select(
            registries,
            resource_groups.c.subscription_id.label("subscription_id"),
            resource_groups.c.name.label("resource_group"),
        )
        .outerjoin(resource_groups, resource_groups.c.id == registries.c.resource_group_id)
        .order_by(registries.c.name_key)
    )
    if where is not None:
        query = query.where(where)
    rows = (await conn.execute(query)).mappings().all()
    if not rows:
        return []
    rule_rows = (
        await conn.execute(
            select(
                ip_rules.c.registry_id,
                ip_rules.c.value,
                ip_rules.c.action,
                ip_rules.c.expires_at,
            )
            .where(ip_rules.c.registry_id.in_([r["id"] for r in rows]))
            .order_by(ip_rules.c.id)
        )
    ).all()
    ids = [r["id"] for r in rows]
    connections = await registry_connections(conn, ids)
    vnet_rules = await _virtual_network_rules(conn, ids)
    now = utcnow()
    rules: dict[int, list[IPRule]] = {}
    for registry_id, value, action, expires_at in rule_rows:
        expires = as_utc(expires_at) if expires_at is not None else None
        if expires is None or expires > now:  # an expired rule is gone from listings
            rules.setdefault(registry_id, []).append(IPRule(value, action, expires))
    return [
        Registry(
            id=r["id"],
            name=r["name"],
            login_server=r["login_server"],
            location=r["location"],
            sku=Sku(r["sku"]),
            public_network_access=PublicNetworkAccess(r["public_network_access"]),
            network_rule_set=NetworkRuleSet(
                DefaultAction(r["default_action"]),
                tuple(rules.get(r["id"], ())),
                tuple(vnet_rules.get(r["id"], ())),
            ),
            created_at=as_utc(r["created_at"]),
            tags=dict(r["tags"] or {}),
            subscription_id=r["subscription_id"] or "",
            resource_group=r["resource_group"] or "",
            admin_user_enabled=bool(r["admin_user_enabled"]),
            anonymous_pull_enabled=bool(r["anonymous_pull_enabled"]),
            data_endpoint_enabled=bool(r["data_endpoint_enabled"]),
            zone_redundancy=r["zone_redundancy"],
            network_rule_bypass_options=r["network_rule_bypass_options"],
            etag=r["etag"],
            private_endpoint_connections=tuple(connections.get(r["id"], ())),
        )
        for r in rows
    ]


async def live_rule_count(conn: AsyncConnection, registry_id: int) -> int:
    now = utcnow()
    return int(
        (
            await conn.execute(
                select(func.count())
                .select_from(ip_rules)
                .where(
                    ip_rules.c.registry_id == registry_id,
                    (ip_rules.c.expires_at.is_(None)) | (ip_rules.c.expires_at > now),
                )
            )
        ).scalar_one()
    )


async def registry_connections(
    conn: AsyncConnection, registry_ids: list[int]
) -> dict[int, list[PrivateEndpointConnection]]:
    """Private endpoint connections of these registries, oldest first."""
    c, e, g = private_endpoint_connections, private_endpoints, resource_groups
    rows = await conn.execute(
        select(
            c.c.registry_id,
            c.c.name,
            c.c.status,
            c.c.description,
            c.c.actions_required,
            e.c.name.label("endpoint"),
            g.c.subscription_id,
            g.c.name.label("group"),
        )
        .select_from(
            c.outerjoin(e, e.c.id == c.c.private_endpoint_id).outerjoin(
                g, g.c.id == e.c.resource_group_id
            )
        )
        .where(c.c.registry_id.in_(registry_ids))
        .order_by(c.c.created_at, c.c.id)
    )
    found: dict[int, list[PrivateEndpointConnection]] = {}
    for row in rows:
        endpoint = row.endpoint
        found.setdefault(row.registry_id, []).append(
            PrivateEndpointConnection(
                name=row.name,
                private_endpoint=endpoint,
                private_endpoint_id=None
                if endpoint is None
                else private_endpoint_id(row.subscription_id, row.group, endpoint),
                # An endpoint deleted under an Approved connection leaves it Disconnected.
                status=ConnectionStatus.DISCONNECTED
                if endpoint is None
                else ConnectionStatus(row.status),
                description=row.description,
                actions_required=row.actions_required,
            )
        )
    return found


async def _virtual_network_rules(
    conn: AsyncConnection, registry_ids: list[int]
) -> dict[int, list[VirtualNetworkRule]]:
    rule, sn, vn, g = virtual_network_rules, subnets, virtual_networks, resource_groups
    rows = await conn.execute(
        select(
            rule.c.registry_id,
            rule.c.action,
            sn.c.name.label("subnet"),
            sn.c.address_prefix,
            vn.c.name.label("vnet"),
            g.c.subscription_id,
            g.c.name.label("group"),
        )
        .select_from(
            rule.join(sn, sn.c.id == rule.c.subnet_id)
            .join(vn, vn.c.id == sn.c.virtual_network_id)
            .join(g, g.c.id == vn.c.resource_group_id)
        )
        .where(rule.c.registry_id.in_(registry_ids))
        .order_by(rule.c.created_at, rule.c.subnet_id)
    )
    found: dict[int, list[VirtualNetworkRule]] = {}
    for row in rows:
        found.setdefault(row.registry_id, []).append(
            VirtualNetworkRule(
                subnet_id(row.subscription_id, row.group, row.vnet, row.subnet),
                row.address_prefix,
                row.action,
            )
        )
    return found


async def touch(conn: AsyncConnection, registry_ids: list[int]) -> None:
    """Give these registries a new etag inside the caller's transaction: a change to something
    their policy depends on (a connection, a subnet's range) must reach the gate."""
    if registry_ids:
        await conn.execute(
            update(registries)
            .where(registries.c.id.in_(registry_ids))
            .values(etag=new_etag(), updated_at=utcnow())
        )
