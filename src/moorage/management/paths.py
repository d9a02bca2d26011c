"""The management API's URL templates and the route tables' shorthands (permissions, the
api-versions each resource provider accepts)."""

from __future__ import annotations

from moorage.auth.roles import Permission
from moorage.management.apiversions import REGISTRY_VERSIONS, RESOURCES_VERSIONS, Versions

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
