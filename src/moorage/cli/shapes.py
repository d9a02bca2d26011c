"""Pure mappings, no I/O: command flags -> request bodies, and wire JSON -> what the cloud CLI
prints (it flattens `properties`, adds `resourceGroup`, and calls an IP rule's `value`
`ipAddressOrRange`)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from moorage.cli.client import CliError

DEFAULT_LOCATION = "local"
ALLOW = "Allow"


# -- flags -> bodies -----------------------------------------------------------------------


def parse_tags(values: Iterable[str] | None) -> dict[str, str] | None:
    """`--tags a=1 b` -> {"a": "1", "b": ""}; `--tags ""` clears the tags ({})."""
    if not values:
        return None
    tags: dict[str, str] = {}
    for value in values:
        if not value:
            continue
        key, _, text = value.partition("=")
        if not key:
            raise CliError(f"--tags: {value!r} has no key; use key[=value]", exit_code=2)
        tags[key] = text
    return tags


def _properties(
    *,
    admin_enabled: bool | None = None,
    default_action: str | None = None,
    public_network_enabled: bool | None = None,
    allow_trusted_services: bool | None = None,
    anonymous_pull_enabled: bool | None = None,
    data_endpoint_enabled: bool | None = None,
) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    if admin_enabled is not None:
        properties["adminUserEnabled"] = admin_enabled
    if default_action is not None:
        # Without ipRules: the server keeps the rules a rule set leaves out.
        properties["networkRuleSet"] = {"defaultAction": default_action.capitalize()}
    if public_network_enabled is not None:
        properties["publicNetworkAccess"] = "Enabled" if public_network_enabled else "Disabled"
    if allow_trusted_services is not None:
        properties["networkRuleBypassOptions"] = (
            "AzureServices" if allow_trusted_services else "None"
        )
    if anonymous_pull_enabled is not None:
        properties["anonymousPullEnabled"] = anonymous_pull_enabled
    if data_endpoint_enabled is not None:
        properties["dataEndpointEnabled"] = data_endpoint_enabled
    return properties


def create_body(
    *,
    sku: str,
    location: str | None = None,
    admin_enabled: bool | None = None,
    default_action: str | None = None,
    public_network_enabled: bool | None = None,
    allow_trusted_services: bool | None = None,
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """PUT body of `acr create`; the admin user is off unless asked for, as in the cloud."""
    return {
        "location": location or DEFAULT_LOCATION,
        **update_body(
            sku=sku,
            tags=tags,
            admin_enabled=bool(admin_enabled),
            default_action=default_action,
            public_network_enabled=public_network_enabled,
            allow_trusted_services=allow_trusted_services,
        ),
    }


def update_body(
    *,
    sku: str | None = None,
    tags: dict[str, str] | None = None,
    admin_enabled: bool | None = None,
    default_action: str | None = None,
    public_network_enabled: bool | None = None,
    allow_trusted_services: bool | None = None,
    anonymous_pull_enabled: bool | None = None,
    data_endpoint_enabled: bool | None = None,
) -> dict[str, Any]:
    """PATCH body of `acr update`: only what was given (the server keeps the rest)."""
    body: dict[str, Any] = {}
    if sku is not None:
        body["sku"] = {"name": sku.capitalize()}
    if tags is not None:
        body["tags"] = tags
    properties = _properties(
        admin_enabled=admin_enabled,
        default_action=default_action,
        public_network_enabled=public_network_enabled,
        allow_trusted_services=allow_trusted_services,
        anonymous_pull_enabled=anonymous_pull_enabled,
        data_endpoint_enabled=data_endpoint_enabled,
    )
    if properties:
        body["properties"] = properties
    return body


# -- wire -> printed -----------------------------------------------------------------------


def group_of(resource_id: str) -> str | None:
    parts = resource_id.split("/")
    for i, part in enumerate(parts[:-1]):
        if part.lower() == "resourcegroups":
            return parts[i + 1]
    return None


def _printed_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    printed = {"action": rule.get("action") or ALLOW, "ipAddressOrRange": rule.get("value")}
    if rule.get("expiresOn"):
        printed["expiresOn"] = rule["expiresOn"]  # moorage's addition
    return printed


def _printed_rule_set(rule_set: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if rule_set is None:
        return None
    printed = {k: v for k, v in rule_set.items() if k != "ipRules"}
    printed["ipRules"] = [_printed_rule(r) for r in rule_set.get("ipRules") or []]
    return printed


def registry_view(registry: Mapping[str, Any]) -> dict[str, Any]:
    """A registry as `az acr show` prints it."""
    view: dict[str, Any] = {k: v for k, v in registry.items() if k not in ("properties", "etag")}
    view.update(registry.get("properties") or {})
    view["networkRuleSet"] = _printed_rule_set(view.get("networkRuleSet"))
    view["resourceGroup"] = group_of(str(registry.get("id", "")))
    for absent in ("identity", "status", "systemData"):
        view.setdefault(absent, None)
    return view


def network_rules_view(registry: Mapping[str, Any]) -> dict[str, Any]:
    """What `az acr network-rule list` prints."""
    rule_set = (registry.get("properties") or {}).get("networkRuleSet") or {}
    return {
        "ipRules": [_printed_rule(r) for r in rule_set.get("ipRules") or []],
        "virtualNetworkRules": [],
    }


def _date(text: Any) -> str:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
    except ValueError:
        return str(text or "")


def registry_table(result: Any) -> Any:
    """The columns of `az acr list -o table`."""

    def row(item: Mapping[str, Any]) -> OrderedDict[str, Any]:
        return OrderedDict(
            [
                ("NAME", item.get("name")),
                ("RESOURCE GROUP", item.get("resourceGroup")),
                ("LOCATION", item.get("location")),
                ("SKU", (item.get("sku") or {}).get("name")),
                ("LOGIN SERVER", item.get("loginServer")),
                ("CREATION DATE", _date(item.get("creationDate"))),
                ("ADMIN ENABLED", item.get("adminUserEnabled")),
            ]
        )

    return [row(i) for i in result] if isinstance(result, list) else row(result)


def account_view(subscription: Mapping[str, Any], app_id: str, *, key: str) -> dict[str, Any]:
    """A subscription as `az login` (key "cloudName") or `az account show` (key
    "environmentName") prints it."""
    tenant = subscription.get("tenantId")
    return {
        key: "moorage",
        "homeTenantId": tenant,
        "id": subscription.get("subscriptionId"),
        "isDefault": True,
        "managedByTenants": subscription.get("managedByTenants") or [],
        "name": subscription.get("displayName"),
        "state": subscription.get("state"),
        "tenantId": tenant,
        "user": {"name": app_id, "type": "servicePrincipal"},
    }
