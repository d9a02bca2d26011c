"""The management API's route table, and the OpenAPI document made from it."""

from __future__ import annotations

import re
from typing import Any, Final

from aiohttp import web

from moorage.auth.roles import Permission
from moorage.domain.networks import NETWORK_NAME_PATTERN
from moorage.domain.registry import REGISTRY_NAME_PATTERN
from moorage.domain.repository_access import SCOPE_MAP_NAME_PATTERN, TOKEN_NAME_PATTERN
from moorage.management import models, principals, registries, subscriptions
from moorage.management import private_endpoints as endpoints
from moorage.management import repository_access as access
from moorage.management import virtual_networks as vnets
from moorage.management.apiversions import (
    NEWEST_STABLE,
    REGISTRY_VERSIONS,
    RESOURCES_VERSIONS,
    Versions,
)
from moorage.management.router import (
    AUTHENTICATED,
    PUBLIC,
    ManagementRequest,
    Route,
    json_response,
)

SUB = "/subscriptions/{subscriptionId}"
GROUP = SUB + "/resourceGroups/{resourceGroupName}"
PROVIDER = "/providers/Microsoft.ContainerRegistry"
REGISTRY = GROUP + PROVIDER + "/registries/{registryName}"
IDENTITY = SUB + "/providers/Moorage.Identity/servicePrincipals"
SCOPE_MAPS, TOKENS = REGISTRY + "/scopeMaps", REGISTRY + "/tokens"
SCOPE_MAP, TOKEN = SCOPE_MAPS + "/{scopeMapName}", TOKENS + "/{tokenName}"
R, W, D, A = Permission.READ, Permission.WRITE, Permission.DELETE, Permission.ACTION
M = Permission.MANAGE_ACCESS
REG, RES = REGISTRY_VERSIONS, RESOURCES_VERSIONS
VNETS = GROUP + "/providers/Microsoft.Network/virtualNetworks"
VNET = VNETS + "/{virtualNetworkName}"
SUBNETS = VNET + "/subnets"
SUBNET = SUBNETS + "/{subnetName}"
NETWORK = "/providers/Microsoft.Network/privateEndpoints"
ENDPOINTS = GROUP + NETWORK
ENDPOINT = ENDPOINTS + "/{privateEndpointName}"
CONNECTIONS = REGISTRY + "/privateEndpointConnections"
CONNECTION = CONNECTIONS + "/{privateEndpointConnectionName}"
LINK_RESOURCES = REGISTRY + "/privateLinkResources"
NET = Versions("Microsoft.Network", None)  # any dated api-version, as for Microsoft.Resources


async def _openapi(req: ManagementRequest) -> web.Response:
    return json_response(openapi_document(ROUTES))


ROUTES: Final[tuple[Route, ...]] = (
    Route("GET", "/openapi.json", _openapi, PUBLIC, None, "This document"),
    Route(
        "GET",
        "/subscriptions",
        subscriptions.list_subscriptions,
        AUTHENTICATED,
        RES,
        "Subscriptions the caller has a role in",
    ),
    Route("GET", SUB, subscriptions.get_subscription, R, RES, "A subscription"),
    Route("GET", SUB + "/resourcegroups", subscriptions.list_groups, R, RES, "Resource groups"),
    Route("GET", GROUP, subscriptions.get_group, R, RES, "A resource group"),
    Route(
        "PUT",
        GROUP,
        subscriptions.put_group,
        W,
        RES,
        "Create or update a resource group",
        models.ResourceGroupModel,
    ),
    Route(
        "GET",
        SUB + "/resources",
        subscriptions.list_resources,
        AUTHENTICATED,
        RES,
        "Resources of the subscription ($filter=resourceType eq '...')",
    ),
    Route(
        "GET",
        SUB + PROVIDER + "/registries",
        registries.list_in_subscription,
        R,
        REG,
        "Registries of the subscription",
    ),
    Route(
        "POST",
        SUB + PROVIDER + "/checkNameAvailability",
        registries.check_name,
        R,
        REG,
        "Whether a registry name can be used",
        models.NameCheckModel,
        action=True,
    ),
    Route(
        "GET",
        GROUP + PROVIDER + "/registries",
        registries.list_in_group,
        R,
        REG,
        "Registries of the resource group",
    ),
    Route("GET", REGISTRY, registries.get, R, REG, "A registry"),
    Route(
        "PUT",
        REGISTRY,
        registries.put,
        W,
        REG,
        "Create a registry or replace its settings",
        models.RegistryCreateModel,
    ),
    Route(
        "PATCH",
        REGISTRY,
        registries.patch,
        W,
        REG,
        "Update a registry: fields left out keep their values",
        models.RegistryUpdateModel,
    ),
    Route("DELETE", REGISTRY, registries.delete, D, REG, "Delete a registry"),
    Route(
        "POST",
        REGISTRY + "/listCredentials",
        registries.list_credentials,
        A,
        REG,
        "The admin user's name and passwords",
        action=True,
    ),
    Route(
        "POST",
        REGISTRY + "/regenerateCredential",
        registries.regenerate_credential,
        A,
        REG,
        "Make a new admin password",
        models.RegenerateCredentialModel,
        action=True,
    ),
    Route(
        "POST",
        IDENTITY,
        principals.create,
        M,
        RES,
        "Create a service principal with a role (as `create-for-rbac`)",
        models.ServicePrincipalCreateModel,
        action=True,
    ),
    Route("GET", IDENTITY, principals.list_all, M, RES, "Service principals and their roles"),
    Route(
        "DELETE",
        IDENTITY + "/{appId}",
        principals.delete,
        M,
        RES,
        "Delete a service principal",
        action=True,
    ),
    Route(
        "POST",
        IDENTITY + "/{appId}/resetCredential",
        principals.reset,
        M,
        RES,
        "Give a service principal a new secret",
        action=True,
    ),
    Route(
        "POST",
        REGISTRY + "/addIpRule",
        registries.add_ip_rule,
        W,
        REG,
        "moorage: add one IP rule (optionally expiring) without rewriting the others",
        models.IPRuleModel,
        action=True,
    ),
    Route(
        "POST",
        REGISTRY + "/removeIpRule",
        registries.remove_ip_rule,
        W,
        REG,
        "moorage: remove one IP rule",
        models.IPRuleValueModel,
        action=True,
    ),
    Route(
        "GET",
        REGISTRY + "/deniedClients",
        registries.denied_clients,
        R,
        REG,
        "moorage: addresses refused by the network rules, with counts",
        action=True,
    ),
    Route(
        "POST",
        REGISTRY + "/addVirtualNetworkRule",
        vnets.add_rule,
        W,
        REG,
        "moorage: add one virtual-network rule (a subnet id) without rewriting the others",
        models.VirtualNetworkRuleIdModel,
        action=True,
    ),
    Route(
        "POST",
        REGISTRY + "/removeVirtualNetworkRule",
        vnets.remove_rule,
        W,
        REG,
        "moorage: remove one virtual-network rule",
        models.VirtualNetworkRuleIdModel,
        action=True,
    ),
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
        models.VirtualNetworkModel,
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
        models.SubnetModel,
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
    Route(
        "GET",
        SCOPE_MAPS,
        access.list_scope_maps,
        R,
        REG,
        "Scope maps of the registry, the system-defined ones first",
    ),
    Route("GET", SCOPE_MAP, access.get_scope_map, R, REG, "A scope map"),
    Route(
        "PUT",
        SCOPE_MAP,
        access.put_scope_map,
        W,
        REG,
        "Create a scope map, or replace its actions and description",
        models.ScopeMapModel,
    ),
    Route(
        "PATCH",
        SCOPE_MAP,
        access.patch_scope_map,
        W,
        REG,
        "Update a scope map: fields left out keep their values",
        models.ScopeMapUpdateModel,
    ),
    Route(
        "DELETE",
        SCOPE_MAP,
        access.delete_scope_map,
        D,
        REG,
        "Delete a scope map that no token uses",
    ),
    Route("GET", TOKENS, access.list_tokens, R, REG, "Tokens of the registry"),
    Route("GET", TOKEN, access.get_token, R, REG, "A token (never its passwords' values)"),
    Route(
        "PUT",
        TOKEN,
        access.put_token,
        W,
        REG,
        "Create a token, or replace its scope map and status",
        models.TokenModel,
    ),
    Route(
        "PATCH",
        TOKEN,
        access.patch_token,
        W,
        REG,
        "Update a token: scope map, status, or the passwords to keep",
        models.TokenUpdateModel,
    ),
    Route("DELETE", TOKEN, access.delete_token, D, REG, "Delete a token"),
    Route(
        "POST",
        REGISTRY + "/generateCredentials",
        access.generate_credentials,
        A,
        REG,
        "New passwords for a token; their values are shown this once",
        models.GenerateCredentialsModel,
        action=True,
    ),
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
        models.PrivateEndpointModel,
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
        models.PrivateEndpointConnectionModel,
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


# Path parameters whose values the server checks against a rule: the document states the same
# rule (the domain's own pattern), so it allows no name the server refuses.
PARAMETER_PATTERNS: Final = {
    "registryName": REGISTRY_NAME_PATTERN,
    "scopeMapName": SCOPE_MAP_NAME_PATTERN,
    "tokenName": TOKEN_NAME_PATTERN,
    "virtualNetworkName": NETWORK_NAME_PATTERN,
    "subnetName": NETWORK_NAME_PATTERN,
    "privateEndpointName": NETWORK_NAME_PATTERN,
}


def _parameter_schema(name: str) -> dict[str, str]:
    pattern = PARAMETER_PATTERNS.get(name)
    return {"type": "string", "pattern": pattern} if pattern else {"type": "string"}


def openapi_document(routes: tuple[Route, ...]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    for route in routes:
        params = [
            {"name": name, "in": "path", "required": True, "schema": _parameter_schema(name)}
            for name in re.findall(r"\{(\w+)\}", route.path)
        ]
        if route.versions is not None:
            params.append(
                {
                    "name": "api-version",
                    "in": "query",
                    "required": True,
                    "schema": route.versions.schema(),
                    "description": route.versions.describe(),
                }
            )
        operation: dict[str, Any] = {
            "summary": route.summary,
            "operationId": f"{route.handler.__module__.rsplit('.', 1)[-1]}_"
            f"{route.handler.__name__.strip('_')}_{route.method.lower()}",
            "parameters": params,
            "responses": {
                "200": {"description": "OK"},
                "default": {"description": 'An error: {"error": {code, message, target}}'},
            },
        }
        if route.permission is not PUBLIC:
            operation["security"] = [{"bearer": []}]
            operation["x-moorage-permission"] = str(
                getattr(route.permission, "value", route.permission)
            )
        if route.body is not None:
            name = route.body.__name__.removesuffix("Model")
            schema = route.body.model_json_schema(
                by_alias=True, ref_template="#/components/schemas/{model}"
            )
            schemas.update(schema.pop("$defs", {}))
            schemas[name] = schema
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                },
            }
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "moorage management API",
            "version": NEWEST_STABLE,
            "description": "Microsoft.ContainerRegistry/registries in the resource manager's "
            "shape, served by moorage.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
