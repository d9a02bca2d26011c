"""Private endpoints (named listeners of the service, each on its own address:port) and the
connections of registries to them, in the cloud's states Pending, Approved, Rejected and
Disconnected: the store. The rules and values are in `moorage.domain.private_endpoints`.

A connection's change (created, status changed, deleted) and the deletion of an endpoint with
connections give the registries concerned a new etag in the same transaction (`touch`), so the
network gate recompiles their policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, select, update

from moorage.domain.networks import check_network_name
from moorage.domain.private_endpoints import (
    ConnectionRequest,
    DeclaredEndpointKept,
    InvalidConnectionState,
    Listener,
    ListenerImmutable,
    ListenerRequired,
    Origin,
    PrivateEndpoint,
    PrivateEndpointNameTaken,
    check_description,
    check_listener,
    check_transition,
    connection_not_found,
    endpoint_not_found,
)
from moorage.domain.registry import (
    ConnectionStatus,
    PrivateEndpointConnection,
)
from moorage.store.database import Database
from moorage.store.private_endpoint_rows import (
    check_listener_free,
    connection_row,
    endpoint_connections,
    endpoint_row,
    insert_connection,
    insert_endpoint,
)
from moorage.store.registry_records import registry_connections, touch
from moorage.store.schema import (
    private_endpoint_connections,
    private_endpoints,
    resource_groups,
)
from moorage.store.scope_maps import registry_name
from moorage.store.types import as_utc


class PrivateEndpointStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- endpoints -----------------------------------------------------------------------------

    async def get(self, name: str) -> PrivateEndpoint:
        found = await self.find(name)
        if found is None:
            raise endpoint_not_found(name)
        return found

    async def find(self, name: str) -> PrivateEndpoint | None:
        found = await self._select(private_endpoints.c.name_key == name.lower())
        return found[0] if found else None

    async def all(self) -> list[PrivateEndpoint]:
        return await self._select(None)

    async def in_group(self, resource_group_id: int) -> list[PrivateEndpoint]:
        return await self._select(private_endpoints.c.resource_group_id == resource_group_id)

    async def ensure_declared(
        self, name: str, address: str, port: int, resource_group_id: int
    ) -> PrivateEndpoint:
        """The endpoint `moorage serve --private-endpoint NAME=ADDRESS:PORT` declares: created,
        or given that listener (and origin "serve") when it is already there."""
        check_network_name("private endpoint", name)
        listener = check_listener(address, port)
        async with self._db.write() as conn:
            row = await endpoint_row(conn, name)
            await check_listener_free(conn, listener, name)
            if row is None:
                await insert_endpoint(conn, resource_group_id, name, listener, Origin.SERVE)
            else:
                await conn.execute(
                    update(private_endpoints)
                    .where(private_endpoints.c.id == row.id)
                    .values(address=listener.address, port=listener.port, origin=Origin.SERVE)
                )
        return await self.get(name)

    async def release_undeclared(self, declared: Sequence[str]) -> list[str]:
        """Endpoints of origin "serve" that `moorage serve` no longer declares become ordinary
        ("api") endpoints, which the API can delete. Their names, in order."""
        keys = {name.lower() for name in declared}
        async with self._db.write() as conn:
            rows = (
                await conn.execute(
                    select(
                        private_endpoints.c.id,
                        private_endpoints.c.name,
                        private_endpoints.c.name_key,
                    )
                    .where(private_endpoints.c.origin == Origin.SERVE)
                    .order_by(private_endpoints.c.name_key)
                )
            ).all()
            released = [row for row in rows if row.name_key not in keys]
            if released:
                await conn.execute(
                    update(private_endpoints)
                    .where(private_endpoints.c.id.in_([row.id for row in released]))
                    .values(origin=Origin.API)
                )
        return [row.name for row in released]

    async def put(
        self,
        resource_group_id: int,
        name: str,
        listener: Listener | None,
        connections: Sequence[ConnectionRequest] = (),
    ) -> tuple[PrivateEndpoint, bool]:
        """Create the endpoint (with its connections) or add to an existing one the connections
        it does not have yet, in one transaction; True when created. The listener of an
        existing endpoint stays as it is: giving another one is refused."""
        check_network_name("private endpoint", name)
        for request in connections:
            check_network_name("private endpoint connection", request.name)
            check_description(request.description)
        async with self._db.write() as conn:
            row = await endpoint_row(conn, name)
            created = row is None
            if row is None:
                if listener is None:
                    raise ListenerRequired(
                        f"the private endpoint '{name}' is new: give its listener "
                        '(properties.listener: {"address": ..., "port": ...}; in the CLI '
                        "--address and --port), or declare it with `moorage serve "
                        f"--private-endpoint {name}=ADDRESS:PORT`",
                        listener=None,
                    )
                await check_listener_free(conn, listener, name)
                endpoint_id = await insert_endpoint(
                    conn, resource_group_id, name, listener, Origin.API
                )
            else:
                endpoint_id = row.id
                if row.resource_group_id != resource_group_id:
                    group = await conn.scalar(
                        select(resource_groups.c.name).where(
                            resource_groups.c.id == row.resource_group_id
                        )
                    )
                    raise PrivateEndpointNameTaken(
                        f"The private endpoint name '{row.name}' is in use in resource group "
                        f"'{group}': endpoint names are unique in the service (each names a "
                        "listener); choose another name",
                        name=name,
                    )
                current = Listener(row.address, row.port)
                if listener is not None and listener != current:
                    how = (
                        f"it is declared by `moorage serve --private-endpoint {row.name}="
                        f"{current}`: change it there"
                        if row.origin == Origin.SERVE
                        else "delete the endpoint and create it again"
                    )
                    raise ListenerImmutable(
                        f"the private endpoint '{row.name}' listens on {current}, not "
                        f"{listener}; its listener cannot be changed: {how}",
                        listener=str(listener),
                    )
            touched = [
                request.registry_id
                for request in connections
                if await insert_connection(conn, endpoint_id, name, request)
            ]
            await touch(conn, touched)
        return await self.get(name), created

    async def delete(
        self, name: str, *, allow_declared: bool = False, with_connections: bool = False
    ) -> PrivateEndpoint | None:
        """Delete the endpoint; its connections stay, Disconnected (or go too, with
        `with_connections`: undoing an endpoint just created). The endpoint as it was (with
        its connections) or None when there was none."""
        endpoint = await self.find(name)
        if endpoint is None:
            return None
        if endpoint.origin is Origin.SERVE and not allow_declared:
            raise DeclaredEndpointKept(
                f"the private endpoint '{endpoint.name}' is declared by `moorage serve "
                f"--private-endpoint {endpoint.name}={endpoint.listener}`: stop declaring it "
                "and restart the server, then delete it",
                name=endpoint.name,
            )
        async with self._db.write() as conn:
            registry_ids = (
                await conn.scalars(
                    select(private_endpoint_connections.c.registry_id).where(
                        private_endpoint_connections.c.private_endpoint_id == endpoint.id
                    )
                )
            ).all()
            if with_connections:
                await conn.execute(
                    delete(private_endpoint_connections).where(
                        private_endpoint_connections.c.private_endpoint_id == endpoint.id
                    )
                )
            gone = await conn.execute(
                delete(private_endpoints).where(private_endpoints.c.id == endpoint.id)
            )
            if gone.rowcount == 0:
                return None
            await touch(conn, sorted(set(registry_ids)))
        return endpoint

    # -- connections ---------------------------------------------------------------------------

    async def connections(self, registry_id: int) -> list[PrivateEndpointConnection]:
        """The registry's connections, oldest first (Disconnected once their endpoint is gone)."""
        async with self._db.read() as conn:
            return (await registry_connections(conn, [registry_id])).get(registry_id, [])

    async def connection(self, registry_id: int, name: str) -> PrivateEndpointConnection:
        for found in await self.connections(registry_id):
            if found.name.lower() == name.lower():
                return found
        async with self._db.read() as conn:
            raise connection_not_found(await registry_name(conn, registry_id), name)

    async def connect(
        self,
        registry_id: int,
        endpoint: str,
        name: str,
        *,
        status: ConnectionStatus = ConnectionStatus.PENDING,
        description: str | None = None,
    ) -> PrivateEndpointConnection:
        """A new connection of the registry to the endpoint: Pending unless asked otherwise."""
        check_network_name("private endpoint connection", name)
        check_description(description)
        if status not in (ConnectionStatus.PENDING, ConnectionStatus.APPROVED):
            raise InvalidConnectionState(
                f"a new private endpoint connection is Pending or Approved, not {status.value}",
                status=status.value,
            )
        async with self._db.write() as conn:
            row = await endpoint_row(conn, endpoint)
            if row is None:
                raise endpoint_not_found(endpoint)
            request = ConnectionRequest(registry_id, name, status, description)
            if await insert_connection(conn, row.id, row.name, request):
                await touch(conn, [registry_id])
        return await self.connection(registry_id, name)

    async def set_status(
        self,
        registry_id: int,
        name: str,
        status: ConnectionStatus,
        description: str | None = None,
        actions_required: str | None = None,
    ) -> PrivateEndpointConnection:
        """Move the connection to `status` (and set its description) if the cloud allows it."""
        check_description(description)
        async with self._db.write() as conn:
            registry = await registry_name(conn, registry_id)
            row = await connection_row(conn, registry_id, name)
            if row is None:
                raise connection_not_found(registry, name)
            current = (
                ConnectionStatus.DISCONNECTED
                if row.private_endpoint_id is None
                else ConnectionStatus(row.status)
            )
            check_transition(registry, row.name, current, status)
            values: dict[str, Any] = {"status": status.value}
            if description is not None:
                values["description"] = description
            if actions_required is not None:
                values["actions_required"] = actions_required
            await conn.execute(
                update(private_endpoint_connections)
                .where(private_endpoint_connections.c.id == row.id)
                .values(values)
            )
            await touch(conn, [registry_id])
        return await self.connection(registry_id, name)

    async def disconnect(self, registry_id: int, name: str) -> bool:
        """Delete the connection; False when there was none."""
        async with self._db.write() as conn:
            gone = await conn.execute(
                delete(private_endpoint_connections).where(
                    private_endpoint_connections.c.registry_id == registry_id,
                    private_endpoint_connections.c.name_key == name.lower(),
                )
            )
            if gone.rowcount == 0:
                return False
            await touch(conn, [registry_id])
        return True

    # -- reading -------------------------------------------------------------------------------

    async def _select(self, where: ColumnElement[bool] | None) -> list[PrivateEndpoint]:
        e, g = private_endpoints, resource_groups
        query = (
            select(
                e,
                g.c.subscription_id,
                g.c.name.label("group"),
                g.c.location,
            )
            .join(g, g.c.id == e.c.resource_group_id)
            .order_by(e.c.name_key)
        )
        if where is not None:
            query = query.where(where)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
            if not rows:
                return []
            connections = await endpoint_connections(conn, [row.id for row in rows])
        return [
            PrivateEndpoint(
                id=row.id,
                name=row.name,
                subscription_id=row.subscription_id,
                resource_group=row.group,
                location=row.location,
                listener=Listener(row.address, row.port),
                origin=Origin(row.origin),
                created_at=as_utc(row.created_at),
                connections=tuple(connections.get(row.id, ())),
            )
            for row in rows
        ]
