"""Private endpoints and their connections, inside a transaction: the rows the store reads and
writes, and the checks that need the database (a listener in use, a connection that exists)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from moorage.domain.private_endpoints import (
    ConnectionExists,
    ConnectionRequest,
    EndpointConnection,
    Listener,
    ListenerInUse,
    Origin,
)
from moorage.domain.registry import ConnectionStatus, registry_resource_id
from moorage.store.schema import (
    private_endpoint_connections,
    private_endpoints,
    registries,
    resource_groups,
)
from moorage.store.scope_maps import registry_name
from moorage.store.types import utcnow


async def endpoint_row(conn: AsyncConnection, name: str) -> Any:
    return (
        await conn.execute(
            select(private_endpoints).where(private_endpoints.c.name_key == name.lower())
        )
    ).first()


async def insert_endpoint(
    conn: AsyncConnection, resource_group_id: int, name: str, listener: Listener, origin: Origin
) -> int:
    return int(
        (
            await conn.execute(
                insert(private_endpoints)
                .values(
                    resource_group_id=resource_group_id,
                    name=name,
                    name_key=name.lower(),
                    address=listener.address,
                    port=listener.port,
                    origin=origin.value,
                    created_at=utcnow(),
                )
                .returning(private_endpoints.c.id)
            )
        ).scalar_one()
    )


async def check_listener_free(conn: AsyncConnection, listener: Listener, name: str) -> None:
    """No other endpoint may listen on the same address and port."""
    other = await conn.scalar(
        select(private_endpoints.c.name).where(
            private_endpoints.c.address == listener.address,
            private_endpoints.c.port == listener.port,
            private_endpoints.c.name_key != name.lower(),
        )
    )
    if other is not None:
        raise ListenerInUse(
            f"the private endpoint '{name}' cannot listen on {listener}: the private endpoint "
            f"'{other}' listens there; choose another address or port",
            listener=str(listener),
        )


async def connection_row(conn: AsyncConnection, registry_id: int, name: str) -> Any:
    return (
        await conn.execute(
            select(private_endpoint_connections).where(
                private_endpoint_connections.c.registry_id == registry_id,
                private_endpoint_connections.c.name_key == name.lower(),
            )
        )
    ).first()


async def insert_connection(
    conn: AsyncConnection, endpoint_id: int, endpoint: str, request: ConnectionRequest
) -> bool:
    """Insert the connection; False when the registry already has it (same name, same
    endpoint: a repeated PUT). Another connection of that name, or another connection of the
    registry to this endpoint, is refused."""
    c = private_endpoint_connections
    registry = await registry_name(conn, request.registry_id)
    same_name = await connection_row(conn, request.registry_id, request.name)
    if same_name is not None:
        if same_name.private_endpoint_id == endpoint_id:
            return False
        raise ConnectionExists(
            f"registry '{registry}' already has a private endpoint connection named "
            f"'{same_name.name}' (to another endpoint, or to a deleted one); choose another "
            "connection name",
            name=request.name,
        )
    to_endpoint = await conn.scalar(
        select(c.c.name).where(
            c.c.registry_id == request.registry_id, c.c.private_endpoint_id == endpoint_id
        )
    )
    if to_endpoint is not None:
        raise ConnectionExists(
            f"registry '{registry}' is already connected to the private endpoint '{endpoint}' "
            f"by the connection '{to_endpoint}'; a registry has one connection per endpoint",
            name=request.name,
        )
    await conn.execute(
        insert(c).values(
            registry_id=request.registry_id,
            name=request.name,
            name_key=request.name.lower(),
            private_endpoint_id=endpoint_id,
            status=request.status.value,
            description=request.description,
            actions_required="None",
            created_at=utcnow(),
        )
    )
    return True


async def endpoint_connections(
    conn: AsyncConnection, endpoint_ids: list[int]
) -> dict[int, list[EndpointConnection]]:
    c, r, g = private_endpoint_connections, registries, resource_groups
    rows = await conn.execute(
        select(
            c.c.private_endpoint_id,
            c.c.name,
            c.c.status,
            c.c.description,
            c.c.actions_required,
            r.c.name.label("registry"),
            r.c.login_server,
            g.c.subscription_id,
            g.c.name.label("group"),
        )
        .select_from(
            c.join(r, r.c.id == c.c.registry_id).outerjoin(g, g.c.id == r.c.resource_group_id)
        )
        .where(c.c.private_endpoint_id.in_(endpoint_ids))
        .order_by(c.c.created_at, c.c.id)
    )
    found: dict[int, list[EndpointConnection]] = {}
    for row in rows:
        found.setdefault(row.private_endpoint_id, []).append(
            EndpointConnection(
                name=row.name,
                registry=row.registry,
                registry_id=registry_resource_id(
                    row.subscription_id or "", row.group or "", row.registry
                ),
                login_server=row.login_server,
                status=ConnectionStatus(row.status),
                description=row.description,
                actions_required=row.actions_required,
            )
        )
    return found
