"""How resources look on the wire: the resource manager's JSON for each record."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from moorage.domain.private_endpoints import EndpointConnection, PrivateEndpoint
from moorage.domain.registry import IPRule, PrivateEndpointConnection, Registry
from moorage.domain.repository_access import GeneratedPassword, ScopeMap, Token, TokenPassword
from moorage.domain.virtual_networks import Subnet, VirtualNetwork
from moorage.store.audit import Denial, DeniedClient
from moorage.store.management import ResourceGroup, Subscription

REGISTRY_TYPE = "Microsoft.ContainerRegistry/registries"


def _time(value: Any) -> str:
    return str(value.isoformat().replace("+00:00", "Z"))


def registry(r: Registry) -> dict[str, Any]:
    return {
        "id": r.resource_id,
        "name": r.name,
        "type": REGISTRY_TYPE,
        "location": r.location,
        "tags": r.tags,
        "etag": r.etag,
        "sku": {"name": r.sku.value, "tier": r.sku.value},
        "properties": {
            "loginServer": r.login_server,
            "creationDate": _time(r.created_at),
            "provisioningState": "Succeeded",
            "adminUserEnabled": r.admin_user_enabled,
            "networkRuleSet": _rule_set(r),
            "policies": {
                "quarantinePolicy": {"status": "disabled"},
                "trustPolicy": {"type": "Notary", "status": "disabled"},
                "retentionPolicy": {"days": 7, "status": "disabled"},
                "exportPolicy": {"status": "enabled"},
            },
            "encryption": {"status": "disabled"},
            "dataEndpointEnabled": r.data_endpoint_enabled,
            "dataEndpointHostNames": [],
            "privateEndpointConnections": [
                private_endpoint_connection(r, c) for c in r.private_endpoint_connections
            ],
            "publicNetworkAccess": r.public_network_access.value,
            "networkRuleBypassOptions": r.network_rule_bypass_options,
            "zoneRedundancy": r.zone_redundancy,
            "anonymousPullEnabled": r.anonymous_pull_enabled,
        },
    }


def _rule_set(r: Registry) -> dict[str, Any]:
    rules = r.network_rule_set
    out: dict[str, Any] = {
        "defaultAction": rules.default_action.value,
        "ipRules": [_rule(rule) for rule in rules.ip_rules],
    }
    if rules.virtual_network_rules:
        # Shown only when there are some: clients written for ipRules alone see no change.
        out["virtualNetworkRules"] = [
            {"action": v.action, "id": v.subnet_id} for v in rules.virtual_network_rules
        ]
    return out


def _rule(rule: IPRule) -> dict[str, Any]:
    out: dict[str, Any] = {"action": rule.action, "value": rule.value}
    if rule.expires_at is not None:
        out["expiresOn"] = _time(rule.expires_at)  # moorage's addition to the cloud's shape
    return out


def denied_client(c: DeniedClient) -> dict[str, Any]:
    return {
        "address": c.client,
        "count": c.count,
        "firstSeen": _time(c.first_at),
        "lastSeen": _time(c.last_at),
        "lastReason": c.last_reason,
    }


def denial(d: Denial) -> dict[str, Any]:
    return {
        "time": _time(d.at),
        "address": d.client,
        "peer": d.peer,
        "forwarded": d.forwarded,
        "method": d.method,
        "path": d.path,
        "reason": d.reason,
    }


def generic_resource(r: Registry) -> dict[str, Any]:
    """A registry as `/subscriptions/{sub}/resources` lists it."""
    return {
        "id": r.resource_id,
        "name": r.name,
        "type": REGISTRY_TYPE,
        "location": r.location,
        "tags": r.tags,
        "sku": {"name": r.sku.value, "tier": r.sku.value},
    }


def subscription(s: Subscription) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{s.id}",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": s.id,
        "tenantId": s.tenant_id,
        "displayName": s.display_name,
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "moorage",
            "spendingLimit": "Off",
        },
    }


def resource_group(g: ResourceGroup) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{g.subscription_id}/resourceGroups/{g.name}",
        "name": g.name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": g.location,
        "tags": g.tags,
        "properties": {"provisioningState": "Succeeded"},
    }


SCOPE_MAP_TYPE = REGISTRY_TYPE + "/scopeMaps"
TOKEN_TYPE = REGISTRY_TYPE + "/tokens"


def scope_map_id(r: Registry, name: str) -> str:
    return f"{r.resource_id}/scopeMaps/{name}"


def token_id(r: Registry, name: str) -> str:
    return f"{r.resource_id}/tokens/{name}"


def scope_map(r: Registry, m: ScopeMap) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "description": m.description,
        "type": "SystemDefined" if m.system else "UserDefined",
        # A system map is as old as the registry it belongs to.
        "creationDate": _time(m.created_at or r.created_at),
        "provisioningState": "Succeeded",
        "actions": list(m.actions),
    }
    return {
        "id": scope_map_id(r, m.name),
        "name": m.name,
        "type": SCOPE_MAP_TYPE,
        "properties": properties,
    }


def _token_password(p: TokenPassword | GeneratedPassword) -> dict[str, Any]:
    out: dict[str, Any] = {"creationTime": _time(p.created_at), "name": p.name}
    if p.expires_at is not None:
        out["expiry"] = _time(p.expires_at)
    return out


def token(r: Registry, t: Token) -> dict[str, Any]:
    """A token: its passwords' names and times, never a value (generateCredentials only)."""
    return {
        "id": token_id(r, t.name),
        "name": t.name,
        "type": TOKEN_TYPE,
        "properties": {
            "creationDate": _time(t.created_at),
            "provisioningState": "Succeeded",
            "scopeMapId": scope_map_id(r, t.scope_map),
            "status": t.status.value,
            "credentials": {
                "certificates": [],
                "passwords": [_token_password(p) for p in t.passwords],
            },
        },
    }


def generated_credentials(t: Token, generated: list[GeneratedPassword]) -> dict[str, Any]:
    """What generateCredentials answers: the token's name and the new passwords' values."""
    return {
        "username": t.name,
        "passwords": [{**_token_password(p), "value": p.value} for p in generated],
    }


# -- private endpoints and their connections ---------------------------------------------------

CONNECTION_TYPE = REGISTRY_TYPE + "/privateEndpointConnections"
PRIVATE_LINK_RESOURCE_TYPE = REGISTRY_TYPE + "/privateLinkResources"
PRIVATE_ENDPOINT_TYPE = "Microsoft.Network/privateEndpoints"
GROUP_ID = "registry"
"""The one private link resource (sub-resource) of a registry, as in the cloud."""


def _connection_state(status: str, description: str | None, actions: str | None) -> dict[str, Any]:
    return {"status": status, "description": description, "actionsRequired": actions or "None"}


def private_endpoint_connection(r: Registry, c: PrivateEndpointConnection) -> dict[str, Any]:
    """A registry's connection (Microsoft.ContainerRegistry/registries/privateEndpointConnections);
    once its endpoint is deleted it is Disconnected and names no endpoint."""
    properties: dict[str, Any] = {
        "privateLinkServiceConnectionState": _connection_state(
            c.status.value, c.description, c.actions_required
        ),
        "provisioningState": "Succeeded",
    }
    if c.private_endpoint_id is not None:
        properties["privateEndpoint"] = {"id": c.private_endpoint_id}
    return {
        "id": f"{r.resource_id}/privateEndpointConnections/{c.name}",
        "name": c.name,
        "type": CONNECTION_TYPE,
        "properties": properties,
    }


def _host(login_server: str) -> str:
    """The login server's host name, without a port."""
    host, _, port = login_server.rpartition(":")
    return host if host and port.isdigit() else login_server


def private_link_resource(r: Registry) -> dict[str, Any]:
    """What a private endpoint connects to on a registry: the registry and its data, served on
    the endpoint's listener under the login server's own DNS zone."""
    zone = _host(r.login_server).partition(".")[2] or _host(r.login_server)
    return {
        "id": f"{r.resource_id}/privateLinkResources/{GROUP_ID}",
        "name": GROUP_ID,
        "type": PRIVATE_LINK_RESOURCE_TYPE,
        "properties": {
            "groupId": GROUP_ID,
            "requiredMembers": [GROUP_ID, f"registry_data_{r.location}"],
            "requiredZoneNames": [zone],
        },
    }


def _service_connection(e: PrivateEndpoint, c: EndpointConnection) -> dict[str, Any]:
    return {
        "id": f"{e.resource_id}/privateLinkServiceConnections/{c.name}",
        "name": c.name,
        "type": PRIVATE_ENDPOINT_TYPE + "/privateLinkServiceConnections",
        "properties": {
            "provisioningState": "Succeeded",
            "privateLinkServiceId": c.registry_id,
            "groupIds": [GROUP_ID],
            "privateLinkServiceConnectionState": _connection_state(
                c.status.value, c.description, c.actions_required
            ),
        },
    }


def private_endpoint(e: PrivateEndpoint) -> dict[str, Any]:
    """A private endpoint (Microsoft.Network/privateEndpoints). moorage has no subnets or
    network interfaces here: the endpoint is a listener, shown under `properties.listener`;
    each connected registry's login server resolves to its address (`customDnsConfigs`).
    Every connection is listed under privateLinkServiceConnections, with its state."""
    fqdns = dict.fromkeys(_host(c.login_server) for c in e.connections)
    return {
        "id": e.resource_id,
        "name": e.name,
        "type": PRIVATE_ENDPOINT_TYPE,
        "location": e.location,
        "tags": {},
        "properties": {
            "provisioningState": "Succeeded",
            "privateLinkServiceConnections": [_service_connection(e, c) for c in e.connections],
            "manualPrivateLinkServiceConnections": [],
            "customDnsConfigs": [
                {"fqdn": fqdn, "ipAddresses": [e.listener.address]} for fqdn in fqdns
            ],
            "ipConfigurations": [],
            "networkInterfaces": [],
            "listener": {
                "address": e.listener.address,
                "port": e.listener.port,
                "origin": e.origin.value,
            },
        },
    }


VIRTUAL_NETWORK_TYPE = "Microsoft.Network/virtualNetworks"
SUBNET_TYPE = VIRTUAL_NETWORK_TYPE + "/subnets"
SERVICE_ENDPOINTS = [
    # Every moorage subnet has the one service endpoint moorage has: its registries.
    {"service": "Microsoft.ContainerRegistry", "locations": ["*"], "provisioningState": "Succeeded"}
]


def _content_etag(*parts: Any) -> str:
    """A network resource's etag: it changes exactly when what it shows changes."""
    digest = hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()
    return f'W/"{uuid.UUID(digest[:32])}"'


def subnet(s: Subnet) -> dict[str, Any]:
    return {
        "name": s.name,
        "id": s.id,
        "etag": _content_etag(s.id, s.address_prefix),
        "type": SUBNET_TYPE,
        "properties": {
            "provisioningState": "Succeeded",
            "addressPrefix": s.address_prefix,
            "serviceEndpoints": SERVICE_ENDPOINTS,
            "delegations": [],
        },
    }


def virtual_network(v: VirtualNetwork) -> dict[str, Any]:
    subnets = [(s.name, s.address_prefix) for s in v.subnets]
    guid = uuid.uuid5(uuid.NAMESPACE_URL, f"{v.id.lower()}@{_time(v.created_at)}")
    return {
        "name": v.name,
        "id": v.id,
        "etag": _content_etag(v.id, v.address_prefixes, subnets),
        "type": VIRTUAL_NETWORK_TYPE,
        "location": v.location,
        "tags": {},
        "properties": {
            "provisioningState": "Succeeded",
            "resourceGuid": str(guid),
            "addressSpace": {"addressPrefixes": list(v.address_prefixes)},
            "subnets": [subnet(s) for s in v.subnets],
            "virtualNetworkPeerings": [],
            "enableDdosProtection": False,
        },
    }
