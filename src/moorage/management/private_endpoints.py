"""Private endpoints on the management API (Microsoft.Network/privateEndpoints) and registries'
connections to them (Microsoft.ContainerRegistry/registries/privateEndpointConnections and
.../privateLinkResources).

In moorage a private endpoint is a listener of the service on its own address and port. A
registry is served on it only while the registry's connection to it is Approved (the network
gate decides that). `PrivateEndpoints` is the service; the handlers below translate HTTP to it.
"""

from __future__ import annotations

import re
from typing import Final, Protocol

from aiohttp import web

from moorage.auth.bearer import Principal
from moorage.auth.roles import Permission, allows
from moorage.domain.private_endpoints import (
    ConnectionRequest,
    InvalidConnectionField,
    Listener,
    ListenerUnavailable,
    Origin,
    PrivateEndpoint,
    PrivateEndpointNotFound,
    connection_not_found,
    endpoint_not_found,
)
from moorage.domain.registry import ConnectionStatus, PrivateEndpointConnection, Registry
from moorage.management import errors, network_models, resources
from moorage.management.router import ManagementRequest, json_response
from moorage.management.service import ManagementService
from moorage.store.private_endpoints import PrivateEndpointStore

AUTO_APPROVED = "Auto-Approved"
_REGISTRY_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<group>[^/]+)"
    r"/providers/Microsoft\.ContainerRegistry/registries/(?P<name>[^/]+)$",
    re.IGNORECASE,
)
_ENDPOINT_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<group>[^/]+)"
    r"/providers/Microsoft\.Network/privateEndpoints/(?P<name>[^/]+)$",
    re.IGNORECASE,
)


class EndpointListeners(Protocol):
    """The running listeners of private endpoints (the server provides them). `start` raises
    OSError when the address and port cannot be listened on."""

    async def start(self, name: str, address: str, port: int) -> None: ...

    async def stop(self, name: str) -> None: ...


ENDPOINT_LISTENERS: Final = web.AppKey[EndpointListeners]("endpoint_listeners")
"""Set by the server: endpoints created through the API start listening at once, and stop when
deleted. Without it the endpoint is only recorded."""


class PrivateEndpoints:
    def __init__(self, management: ManagementService, store: PrivateEndpointStore) -> None:
        self.management = management
        self.store = store

    # -- endpoints -----------------------------------------------------------------------------

    async def all_endpoints(self) -> list[PrivateEndpoint]:
        """Every private endpoint of the service, by name (the listeners to run)."""
        return await self.store.all()

    async def endpoint(self, subscription_id: str, group: str, name: str) -> PrivateEndpoint:
        await self.management.subscriptions.group(subscription_id, group)
        found = await self.store.find(name)
        if (
            found is None
            or found.subscription_id.lower() != subscription_id.lower()
            or found.resource_group.lower() != group.lower()
        ):
            raise endpoint_not_found(name)
        return found

    async def endpoints(self, subscription_id: str, group: str | None) -> list[PrivateEndpoint]:
        await self.management.subscriptions.get(subscription_id)
        if group is not None:
            rg = await self.management.subscriptions.group(subscription_id, group)
            return await self.store.in_group(rg.id)
        return [
            e
            for e in await self.store.all()
            if e.subscription_id.lower() == subscription_id.lower()
        ]

    async def put_endpoint(
        self,
        subscription_id: str,
        group: str,
        name: str,
        body: network_models.PrivateEndpointModel,
        caller: Principal,
        listeners: EndpointListeners | None,
    ) -> tuple[PrivateEndpoint, bool]:
        """Create the endpoint with its connections, or add connections to it. A connection
        asked for in privateLinkServiceConnections is Approved when the caller may write the
        registry (the cloud's auto-approval), else Pending; manual ones are Pending."""
        rg = await self.management.subscriptions.group(subscription_id, group)
        p = body.properties or network_models.PrivateEndpointPropertiesModel()
        requests: list[ConnectionRequest] = []
        touched: list[Registry] = []
        for manual, entries in (
            (False, p.private_link_service_connections or []),
            (True, p.manual_private_link_service_connections or []),
        ):
            for entry in entries:
                registry = await self._registry(entry.properties.private_link_service_id)
                approved = not manual and allows(
                    caller.roles, Permission.WRITE, registry.resource_id
                )
                requests.append(
                    ConnectionRequest(
                        registry.id,
                        entry.name,
                        ConnectionStatus.APPROVED if approved else ConnectionStatus.PENDING,
                        AUTO_APPROVED if approved else entry.properties.request_message,
                    )
                )
                touched.append(registry)
        listener = Listener(p.listener.address, p.listener.port) if p.listener else None
        endpoint, created = await self.store.put(rg.id, name, listener, requests)
        try:
            if created and listeners is not None:
                await self._start(endpoint, listeners)
        finally:
            for registry in touched:
                self.management.resolver.forget(registry.name)
        return endpoint, created

    async def _start(self, endpoint: PrivateEndpoint, listeners: EndpointListeners) -> None:
        """Listen on the new endpoint; when that fails, the endpoint is not kept."""
        try:
            await listeners.start(endpoint.name, endpoint.listener.address, endpoint.listener.port)
        except OSError as e:
            await self.store.delete(endpoint.name, with_connections=True)
            raise ListenerUnavailable(
                f"the private endpoint '{endpoint.name}' cannot listen on {endpoint.listener}: "
                f"{e.strerror or e}; choose another address or port (nothing was created)",
                listener=str(endpoint.listener),
            ) from None

    async def delete_endpoint(
        self, subscription_id: str, group: str, name: str, listeners: EndpointListeners | None
    ) -> bool:
        """Delete the endpoint: its listener stops, its connections stay, Disconnected."""
        try:
            endpoint = await self.endpoint(subscription_id, group, name)
        except PrivateEndpointNotFound:
            return False
        deleted = await self.store.delete(endpoint.name)
        if deleted is None:
            return False
        for connection in deleted.connections:
            self.management.resolver.forget(connection.registry)
        if listeners is not None and deleted.origin is Origin.API:
            await listeners.stop(deleted.name)
        return True

    async def _registry(self, resource_id: str) -> Registry:
        match = _REGISTRY_ID.match(resource_id.strip())
        if match is None:
            raise InvalidConnectionField(
                f"privateLinkServiceId {resource_id!r} is not a registry's resource id: expected "
                "/subscriptions/<id>/resourceGroups/<group>/providers/"
                "Microsoft.ContainerRegistry/registries/<name>",
                privateLinkServiceId=resource_id,
            )
        return await self.management.get(match["sub"], match["group"], match["name"])

    async def _endpoint_by_id(self, resource_id: str) -> PrivateEndpoint:
        match = _ENDPOINT_ID.match(resource_id.strip())
        if match is None:
            raise InvalidConnectionField(
                f"privateEndpoint.id {resource_id!r} is not a private endpoint's resource id: "
                "expected /subscriptions/<id>/resourceGroups/<group>/providers/"
                "Microsoft.Network/privateEndpoints/<name>",
                privateEndpoint=resource_id,
            )
        return await self.endpoint(match["sub"], match["group"], match["name"])

    # -- a registry's connections ----------------------------------------------------------------

    async def put_connection(
        self,
        registry: Registry,
        name: str,
        status: ConnectionStatus,
        *,
        description: str | None = None,
        actions_required: str | None = None,
        endpoint_id: str | None = None,
    ) -> tuple[PrivateEndpointConnection, bool]:
        """Set the connection's state (approve, reject); a new connection names its endpoint
        (by resource id)."""
        existing = _connection(registry, name)
        try:
            if existing is None:
                if endpoint_id is None:
                    raise InvalidConnectionField(
                        f"registry '{registry.name}' has no private endpoint connection "
                        f"'{name}': to create one, give properties.privateEndpoint.id",
                        privateEndpoint=None,
                    )
                endpoint = await self._endpoint_by_id(endpoint_id)
                created = await self.store.connect(
                    registry.id, endpoint.name, name, status=status, description=description
                )
                return created, True
            if (
                endpoint_id is not None
                and endpoint_id.strip().lower() != (existing.private_endpoint_id or "").lower()
            ):
                raise InvalidConnectionField(
                    f"the private endpoint connection '{existing.name}' of registry "
                    f"'{registry.name}' connects to "
                    f"{existing.private_endpoint_id or 'a deleted endpoint'}, not {endpoint_id}; "
                    "a connection's endpoint cannot be changed",
                    privateEndpoint=endpoint_id,
                )
            updated = await self.store.set_status(
                registry.id, name, status, description, actions_required
            )
            return updated, False
        finally:
            self.management.resolver.forget(registry.name)

    async def delete_connection(self, registry: Registry, name: str) -> bool:
        deleted = await self.store.disconnect(registry.id, name)
        self.management.resolver.forget(registry.name)
        return deleted


def _connection(registry: Registry, name: str) -> PrivateEndpointConnection | None:
    return next(
        (c for c in registry.private_endpoint_connections if c.name.lower() == name.lower()),
        None,
    )


PRIVATE_ENDPOINTS: Final = web.AppKey("private_endpoints", PrivateEndpoints)


def _service(req: ManagementRequest) -> PrivateEndpoints:
    return req.http.config_dict[PRIVATE_ENDPOINTS]


def _listeners(req: ManagementRequest) -> EndpointListeners | None:
    return req.http.config_dict.get(ENDPOINT_LISTENERS)


async def _registry(req: ManagementRequest) -> tuple[PrivateEndpoints, Registry]:
    p = req.params
    service = _service(req)
    registry = await service.management.get(
        p["subscriptionId"], p["resourceGroupName"], p["registryName"]
    )
    return service, registry


# -- handlers: Microsoft.Network/privateEndpoints ----------------------------------------------


async def list_endpoints(req: ManagementRequest) -> web.Response:
    found = await _service(req).endpoints(
        req.params["subscriptionId"], req.params["resourceGroupName"]
    )
    return json_response({"value": [resources.private_endpoint(e) for e in found]})


async def list_endpoints_in_subscription(req: ManagementRequest) -> web.Response:
    found = await _service(req).endpoints(req.params["subscriptionId"], None)
    return json_response({"value": [resources.private_endpoint(e) for e in found]})


async def get_endpoint(req: ManagementRequest) -> web.Response:
    p = req.params
    found = await _service(req).endpoint(
        p["subscriptionId"], p["resourceGroupName"], p["privateEndpointName"]
    )
    return json_response(resources.private_endpoint(found))


async def put_endpoint(req: ManagementRequest) -> web.Response:
    p = req.params
    assert req.principal is not None  # the route needs write: the caller is authenticated
    found, created = await _service(req).put_endpoint(
        p["subscriptionId"],
        p["resourceGroupName"],
        p["privateEndpointName"],
        req.body,
        req.principal,
        _listeners(req),
    )
    return json_response(resources.private_endpoint(found), 201 if created else 200)


async def delete_endpoint(req: ManagementRequest) -> web.Response:
    p = req.params
    deleted = await _service(req).delete_endpoint(
        p["subscriptionId"], p["resourceGroupName"], p["privateEndpointName"], _listeners(req)
    )
    return web.Response(status=200 if deleted else 204)


# -- handlers: a registry's connections and private link resources ------------------------------


async def list_connections(req: ManagementRequest) -> web.Response:
    _, registry = await _registry(req)
    return json_response(
        {
            "value": [
                resources.private_endpoint_connection(registry, c)
                for c in registry.private_endpoint_connections
            ]
        }
    )


async def get_connection(req: ManagementRequest) -> web.Response:
    _, registry = await _registry(req)
    name = req.params["privateEndpointConnectionName"]
    found = _connection(registry, name)
    if found is None:
        raise connection_not_found(registry.name, name)
    return json_response(resources.private_endpoint_connection(registry, found))


async def put_connection(req: ManagementRequest) -> web.Response:
    service, registry = await _registry(req)
    body: network_models.PrivateEndpointConnectionModel = req.body
    state = body.properties.private_link_service_connection_state
    ref = body.properties.private_endpoint
    found, created = await service.put_connection(
        registry,
        req.params["privateEndpointConnectionName"],
        ConnectionStatus(state.status),
        description=state.description,
        actions_required=state.actions_required,
        endpoint_id=None if ref is None else ref.id,
    )
    return json_response(
        resources.private_endpoint_connection(registry, found), 201 if created else 200
    )


async def delete_connection(req: ManagementRequest) -> web.Response:
    service, registry = await _registry(req)
    deleted = await service.delete_connection(registry, req.params["privateEndpointConnectionName"])
    return web.Response(status=200 if deleted else 204)


async def list_private_link_resources(req: ManagementRequest) -> web.Response:
    _, registry = await _registry(req)
    return json_response({"value": [resources.private_link_resource(registry)]})


async def get_private_link_resource(req: ManagementRequest) -> web.Response:
    _, registry = await _registry(req)
    group = req.params["groupName"]
    if group.lower() != resources.GROUP_ID:
        raise errors.ArmError(
            errors.RESOURCE_NOT_FOUND,
            f"registry '{registry.name}' has no private link resource '{group}'; its one "
            f"private link resource is '{resources.GROUP_ID}'",
            target="groupName",
        )
    return json_response(resources.private_link_resource(registry))
