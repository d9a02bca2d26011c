"""Registry records, shaped for the management API (Microsoft.ContainerRegistry/registries)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from moorage.domain.errors import (
    InvalidRegistryName,
    PremiumSkuRequired,
    RuleLimitExceeded,
    SkuFeatureUnavailable,
)

_REGISTRY_NAME = re.compile(r"^[a-zA-Z0-9]{5,50}$")
REGISTRY_NAME_PATTERN = _REGISTRY_NAME.pattern  # the OpenAPI document's, for the same rule
DEFAULT_REGISTRY = "default"


class Sku(StrEnum):
    BASIC = "Basic"
    STANDARD = "Standard"
    PREMIUM = "Premium"


class DefaultAction(StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


class PublicNetworkAccess(StrEnum):
    ENABLED = "Enabled"
    DISABLED = "Disabled"


@dataclass(frozen=True, slots=True)
class IPRule:
    value: str
    action: str = "Allow"
    expires_at: datetime | None = None
    """When the rule stops matching and leaves listings; None: never."""


@dataclass(frozen=True, slots=True)
class VirtualNetworkRule:
    """Traffic from a subnet is admitted on the public endpoint (while public access is on)."""

    subnet_id: str
    """The subnet's resource id: .../virtualNetworks/<vnet>/subnets/<subnet>."""
    address_prefix: str
    """The subnet's address range (canonical CIDR), what the gate matches."""
    action: str = "Allow"


@dataclass(frozen=True, slots=True)
class NetworkRuleSet:
    default_action: DefaultAction = DefaultAction.ALLOW
    ip_rules: tuple[IPRule, ...] = ()
    virtual_network_rules: tuple[VirtualNetworkRule, ...] = ()


class ConnectionStatus(StrEnum):
    """A private endpoint connection's state, as the cloud names them."""

    PENDING = "Pending"
    APPROVED = "Approved"
    REJECTED = "Rejected"
    DISCONNECTED = "Disconnected"


@dataclass(frozen=True, slots=True)
class PrivateEndpointConnection:
    """A registry's connection to a private endpoint (a listener of the service)."""

    name: str
    private_endpoint: str | None
    """The endpoint's name; None once the endpoint is deleted (the connection is Disconnected)."""
    private_endpoint_id: str | None
    """The endpoint's resource id."""
    status: ConnectionStatus
    description: str | None = None
    actions_required: str | None = None


@dataclass(frozen=True, slots=True)
class Registry:
    id: int
    name: str
    login_server: str
    location: str
    sku: Sku
    public_network_access: PublicNetworkAccess
    network_rule_set: NetworkRuleSet
    created_at: datetime
    tags: dict[str, str] = field(default_factory=dict)
    subscription_id: str = ""
    resource_group: str = ""
    admin_user_enabled: bool = False
    anonymous_pull_enabled: bool = False
    data_endpoint_enabled: bool = False
    zone_redundancy: str = "Disabled"
    network_rule_bypass_options: str = "AzureServices"
    etag: str = ""
    private_endpoint_connections: tuple[PrivateEndpointConnection, ...] = ()

    @property
    def resource_id(self) -> str:
        return registry_resource_id(self.subscription_id, self.resource_group, self.name)


@dataclass(frozen=True, slots=True)
class RegistryChanges:
    """What an update sets; None leaves a field as it is (PATCH merges)."""

    location: str | None = None
    tags: dict[str, str] | None = None
    sku: Sku | None = None
    admin_user_enabled: bool | None = None
    anonymous_pull_enabled: bool | None = None
    data_endpoint_enabled: bool | None = None
    zone_redundancy: str | None = None
    network_rule_bypass_options: str | None = None
    public_network_access: PublicNetworkAccess | None = None
    default_action: DefaultAction | None = None
    ip_rules: tuple[IPRule, ...] | None = None
    """None keeps the rules; a tuple (even empty) replaces them."""
    virtual_network_rules: tuple[str, ...] | None = None
    """Subnet ids (the rules live in store/virtual_network_rules.py, not in the registry's row).
    None keeps the rules; a tuple (even empty) replaces them."""


def registry_resource_id(subscription_id: str, resource_group: str, name: str) -> str:
    return (
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
        f"/providers/Microsoft.ContainerRegistry/registries/{name}"
    )


def check_registry_name(name: str) -> str:
    """Registry names follow the cloud's rule: 5 to 50 letters and digits."""
    if not _REGISTRY_NAME.fullmatch(name):
        raise InvalidRegistryName(
            f"invalid registry name {name!r}: use 5 to 50 letters and digits (a-z, A-Z, 0-9)",
            name=name,
        )
    return name


def login_server(name: str, suffix: str) -> str:
    return f"{name.lower()}.{suffix}"


def check_network_settings(
    name: str,
    sku: Sku,
    public_network_access: PublicNetworkAccess,
    default_action: DefaultAction,
    rule_count: int,
    *,
    max_rules: int,
    changing_sku: bool = False,
) -> None:
    """What the seed's tiers allow: IP rules, default action Deny and disabling public access
    are Premium features, and a registry holds at most `max_rules` IP rules."""
    if sku is not Sku.PREMIUM:
        needs = [
            what
            for what, used in (
                (f"{rule_count} IP rule(s)", rule_count > 0),
                ("default action Deny", default_action is DefaultAction.DENY),
                (
                    "public network access Disabled",
                    public_network_access is PublicNetworkAccess.DISABLED,
                ),
            )
            if used
        ]
        if needs:
            if changing_sku:
                raise PremiumSkuRequired(
                    f"registry '{name}' uses {', '.join(needs)}, which need the Premium SKU; "
                    f"remove them before moving it to {sku.value}",
                    sku=sku.value,
                )
            raise PremiumSkuRequired(
                f"{', '.join(needs)} need the Premium SKU and registry '{name}' is "
                f"{sku.value}; upgrade it with: moorage acr update --name {name} --sku Premium",
                sku=sku.value,
            )
    if rule_count > max_rules:
        raise RuleLimitExceeded(
            f"registry '{name}' would have {rule_count} IP rules; the limit is {max_rules} "
            "(the service's max_ip_rules setting). Nothing was changed.",
            limit=max_rules,
        )


def check_anonymous_pull(name: str, sku: Sku, enabled: bool, *, changing_sku: bool) -> None:
    """Anonymous pull is a Standard and Premium feature, as in the cloud."""
    if enabled and sku is Sku.BASIC:
        if changing_sku:
            raise SkuFeatureUnavailable(
                f"registry '{name}' has anonymous pull on, which needs the Standard or Premium "
                f"SKU; turn it off before moving it to {sku.value}",
                sku=sku.value,
            )
        raise SkuFeatureUnavailable(
            f"anonymous pull needs the Standard or Premium SKU and registry '{name}' is "
            f"{sku.value}; upgrade it with: moorage acr update --name {name} --sku Standard",
            sku=sku.value,
        )
