"""Microsoft.Network/virtualNetworks and their subnets on the management API, and the
registries' addVirtualNetworkRule / removeVirtualNetworkRule actions.

`VirtualNetworks` is the service: it finds the resource group (or the registry, so a rule is
only ever changed through the registry's own URL), calls the store, and makes this process
forget the registries a write touched, so the gate judges the very next request by the new
prefixes (other replicas see the new etag within the resolver's cache time). The handlers
below translate HTTP to it and back.
"""

from __future__ import annotations

from typing import TypeVar

from aiohttp import web

from moorage.domain.registry import Registry
from moorage.domain.virtual_networks import Subnet, VirtualNetwork, Written
from moorage.management import models, network_models, resources
from moorage.management.registries import SERVICE
from moorage.management.router import ManagementRequest, json_response
from moorage.management.service import ManagementService
from moorage.store.management import ResourceGroup

T = TypeVar("T")


class VirtualNetworks:
    def __init__(self, management: ManagementService) -> None:
        self.management = management
        self.store = management.virtual_networks
        self.rules = management.virtual_network_rules

    async def group(self, subscription_id: str, group: str) -> ResourceGroup:
        return await self.management.subscriptions.group(subscription_id, group)

    async def put(
        self, group: ResourceGroup, name: str, body: network_models.VirtualNetworkModel
    ) -> Written[VirtualNetwork]:
        p = body.properties
        subnets = (
            [(s.name, s.properties.prefix) for s in p.subnets] if p.subnets is not None else None
        )
        return self._forget(
            await self.store.put(group, name, p.address_space.address_prefixes, subnets)
        )

    async def put_subnet(
        self, group: ResourceGroup, vnet: str, name: str, body: network_models.SubnetModel
    ) -> Written[Subnet]:
        return self._forget(await self.store.put_subnet(group, vnet, name, body.properties.prefix))

    async def add_rule(self, registry: Registry, subnet: str) -> Registry:
        if await self.rules.add_rule(registry.id, subnet):
            return await self._changed(registry)
        return registry

    async def remove_rule(self, registry: Registry, subnet: str) -> Registry:
        await self.rules.remove_rule(registry.id, subnet)
        return await self._changed(registry)

    async def _changed(self, registry: Registry) -> Registry:
        self.management.resolver.forget(registry.name)
        return await self.management.registries.get(registry.name)

    def _forget(self, written: Written[T]) -> Written[T]:
        for name in written.touched:
            self.management.resolver.forget(name)
        return written


def _service(req: ManagementRequest) -> VirtualNetworks:
    return VirtualNetworks(req.http.config_dict[SERVICE])


async def _group(req: ManagementRequest) -> tuple[VirtualNetworks, ResourceGroup]:
    service = _service(req)
    p = req.params
    return service, await service.group(p["subscriptionId"], p["resourceGroupName"])


async def _registry(req: ManagementRequest) -> tuple[VirtualNetworks, Registry]:
    service = _service(req)
    p = req.params
    registry = await service.management.get(
        p["subscriptionId"], p["resourceGroupName"], p["registryName"]
    )
    return service, registry


# -- handlers ----------------------------------------------------------------------------------


async def list_in_subscription(req: ManagementRequest) -> web.Response:
    service = _service(req)
    await service.management.subscriptions.get(req.params["subscriptionId"])
    found = await service.store.in_subscription(req.params["subscriptionId"])
    return json_response({"value": [resources.virtual_network(v) for v in found]})


async def list_in_group(req: ManagementRequest) -> web.Response:
    service, group = await _group(req)
    found = await service.store.in_group(group)
    return json_response({"value": [resources.virtual_network(v) for v in found]})


async def get(req: ManagementRequest) -> web.Response:
    service, group = await _group(req)
    found = await service.store.get(group, req.params["virtualNetworkName"])
    return json_response(resources.virtual_network(found))


async def put(req: ManagementRequest) -> web.Response:
    service, group = await _group(req)
    written = await service.put(group, req.params["virtualNetworkName"], req.body)
    return json_response(resources.virtual_network(written.value), 201 if written.created else 200)


async def delete(req: ManagementRequest) -> web.Response:
    service, group = await _group(req)
    deleted = await service.store.delete(group, req.params["virtualNetworkName"])
    return web.Response(status=200 if deleted else 204)


async def list_subnets(req: ManagementRequest) -> web.Response:
    service, group = await _group(req)
    found = await service.store.get(group, req.params["virtualNetworkName"])
    return json_response({"value": [resources.subnet(s) for s in found.subnets]})


async def get_subnet(req: ManagementRequest) -> web.Response:
    service, group = await _group(req)
    p = req.params
    found = await service.store.get_subnet(group, p["virtualNetworkName"], p["subnetName"])
    return json_response(resources.subnet(found))


async def put_subnet(req: ManagementRequest) -> web.Response:
    service, group = await _group(req)
    p = req.params
    written = await service.put_subnet(group, p["virtualNetworkName"], p["subnetName"], req.body)
    return json_response(resources.subnet(written.value), 201 if written.created else 200)


async def delete_subnet(req: ManagementRequest) -> web.Response:
    service, group = await _group(req)
    p = req.params
    deleted = await service.store.delete_subnet(group, p["virtualNetworkName"], p["subnetName"])
    return web.Response(status=200 if deleted else 204)


async def add_rule(req: ManagementRequest) -> web.Response:
    """moorage: add one virtual-network rule in one transaction, leaving the others."""
    body: models.VirtualNetworkRuleIdModel = req.body
    service, registry = await _registry(req)
    updated = await service.add_rule(registry, body.id)
    return json_response(resources.registry(updated), etag=updated.etag)


async def remove_rule(req: ManagementRequest) -> web.Response:
    body: models.VirtualNetworkRuleIdModel = req.body
    service, registry = await _registry(req)
    updated = await service.remove_rule(registry, body.id)
    return json_response(resources.registry(updated), etag=updated.etag)
