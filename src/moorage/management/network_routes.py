"""The management API's routes of the network resources: virtual networks and their subnets,
private endpoints and registries' connections to them (part of management.routes.ROUTES)."""

from __future__ import annotations

from typing import Final

from moorage.management import network_models
from moorage.management import private_endpoints as endpoints
from moorage.management import virtual_networks as vnets
from moorage.management.paths import (
    CONNECTION,
    CONNECTIONS,
    ENDPOINT,
    ENDPOINTS,
    LINK_RESOURCES,
    NET,
    NETWORK,
    REG,
    SUB,
    SUBNET,
    SUBNETS,
    VNET,
    VNETS,
    D,
    R,
    W,
)
from moorage.management.router import Route

VIRTUAL_NETWORK_ROUTES: Final[tuple[Route, ...]] = (
    # Virtual networks and their subnets (management/virtual_networks.py).
    Route(
        "GET",
        SUB + "/providers/Microsoft.Network/virtualNetworks",
        vnets.list_in_subscription,
        R,
        NET,
        "Virtual networks of the subscription",
    ),
    Route("GET", VNETS, vnets.list_in_group, R, NET, "Virtual networks of the resource group"),
    Route("GET", VNET, vnets.get, R, NET, "A virtual network with its subnets"),
    Route(
        "PUT",
        VNET,
        vnets.put,
        W,
        NET,
        "Create a virtual network or replace its address space (and its subnets, when given)",
        network_models.VirtualNetworkModel,
    ),
    Route(
        "DELETE",
        VNET,
        vnets.delete,
        D,
        NET,
        "Delete a virtual network; refused while a registry's rule names one of its subnets",
    ),
    Route("GET", SUBNETS, vnets.list_subnets, R, NET, "Subnets of a virtual network"),
    Route("GET", SUBNET, vnets.get_subnet, R, NET, "A subnet"),
    Route(
        "PUT",
        SUBNET,
        vnets.put_subnet,
        W,
        NET,
        "Create a subnet or change its address prefix",
        network_models.SubnetModel,
    ),
    Route(
        "DELETE",
        SUBNET,
        vnets.delete_subnet,
        D,
        NET,
        "Delete a subnet; refused while a registry's rule names it",
    ),
    # Scope maps and repository-scoped tokens (management/repository_access.py).
)

PRIVATE_ENDPOINT_ROUTES: Final[tuple[Route, ...]] = (
    # Private endpoints and registries' connections to them (management/private_endpoints.py).
    Route(
        "GET",
        SUB + NETWORK,
        endpoints.list_endpoints_in_subscription,
        R,
        NET,
        "Private endpoints of the subscription",
    ),
    Route("GET", ENDPOINTS, endpoints.list_endpoints, R, NET, "Private endpoints of the group"),
    Route("GET", ENDPOINT, endpoints.get_endpoint, R, NET, "A private endpoint"),
    Route(
        "PUT",
        ENDPOINT,
        endpoints.put_endpoint,
        W,
        NET,
        "Create a private endpoint (a listener) with its connections, or add connections",
        network_models.PrivateEndpointModel,
    ),
    Route(
        "DELETE",
        ENDPOINT,
        endpoints.delete_endpoint,
        D,
        NET,
        "Delete a private endpoint; its connections become Disconnected",
    ),
    Route(
        "GET",
        CONNECTIONS,
        endpoints.list_connections,
        R,
        REG,
        "Private endpoint connections of the registry",
    ),
    Route("GET", CONNECTION, endpoints.get_connection, R, REG, "A private endpoint connection"),
    Route(
        "PUT",
        CONNECTION,
        endpoints.put_connection,
        W,
        REG,
        "Approve or reject a private endpoint connection, or create one to an endpoint",
        network_models.PrivateEndpointConnectionModel,
    ),
    Route(
        "DELETE",
        CONNECTION,
        endpoints.delete_connection,
        D,
        REG,
        "Delete a private endpoint connection",
    ),
    Route(
        "GET",
        LINK_RESOURCES,
        endpoints.list_private_link_resources,
        R,
        REG,
        "What a private endpoint can connect to on the registry",
    ),
    Route(
        "GET",
        LINK_RESOURCES + "/{groupName}",
        endpoints.get_private_link_resource,
        R,
        REG,
        "A private link resource of the registry",
    ),
)
