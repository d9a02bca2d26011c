"""Request bodies of the management API, as pydantic models (validated at the edge).

Fields the resource manager defines but moorage does not act on (identity, encryption,
policies...) are accepted and ignored, so real clients that send them keep working.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from moorage.domain.errors import InvalidIPRule
from moorage.domain.network import parse_ip_rule
from moorage.domain.private_endpoints import InvalidListener, check_address
from moorage.domain.registry import (
    DefaultAction,
    IPRule,
    PublicNetworkAccess,
    RegistryChanges,
    Sku,
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class IPRuleModel(_Model):
    value: str = Field(description="An IPv4 or IPv6 address or CIDR range.")
    action: Literal["Allow"] = "Allow"
    expires_on: datetime | None = Field(
        None, alias="expiresOn", description="moorage: when the rule stops matching."
    )

    @field_validator("value")
    @classmethod
    def _address_or_range(cls, value: str) -> str:
        try:
            return parse_ip_rule(value)  # canonical, so the same rule is never stored twice
        except InvalidIPRule as e:
            raise ValueError(e.message) from None

    @field_validator("expires_on")
    @classmethod
    def _in_the_future(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"expiresOn '{value.isoformat()}' needs a time zone (e.g. Z)")
        if value <= datetime.now(UTC):
            raise ValueError(f"expiresOn '{value.isoformat()}' is in the past")
        return value


class IPRuleValueModel(_Model):
    value: str = Field(description="An IPv4 or IPv6 address or CIDR range.")

    @field_validator("value")
    @classmethod
    def _address_or_range(cls, value: str) -> str:
        try:
            return parse_ip_rule(value)
        except InvalidIPRule as e:
            raise ValueError(e.message) from None


class VirtualNetworkRuleModel(_Model):
    id: str = Field(
        description="The subnet's resource id: .../Microsoft.Network/virtualNetworks/<vnet>"
        "/subnets/<subnet>."
    )
    action: Literal["Allow"] = "Allow"


class NetworkRuleSetModel(_Model):
    default_action: Literal["Allow", "Deny"] | None = Field(None, alias="defaultAction")
    ip_rules: list[IPRuleModel] | None = Field(None, alias="ipRules")
    virtual_network_rules: list[VirtualNetworkRuleModel] | None = Field(
        None, alias="virtualNetworkRules"
    )


class RegistryPropertiesModel(_Model):
    admin_user_enabled: bool | None = Field(None, alias="adminUserEnabled")
    network_rule_set: NetworkRuleSetModel | None = Field(None, alias="networkRuleSet")
    public_network_access: Literal["Enabled", "Disabled"] | None = Field(
        None, alias="publicNetworkAccess"
    )
    network_rule_bypass_options: Literal["AzureServices", "None"] | None = Field(
        None, alias="networkRuleBypassOptions"
    )
    anonymous_pull_enabled: bool | None = Field(None, alias="anonymousPullEnabled")
    data_endpoint_enabled: bool | None = Field(None, alias="dataEndpointEnabled")
    zone_redundancy: Literal["Enabled", "Disabled"] | None = Field(None, alias="zoneRedundancy")


class SkuModel(_Model):
    name: Literal["Basic", "Standard", "Premium"]


class RegistryCreateModel(_Model):
    location: str = Field(min_length=1, max_length=64)
    sku: SkuModel
    tags: dict[str, str] | None = None
    properties: RegistryPropertiesModel | None = None


class RegistryUpdateModel(_Model):
    sku: SkuModel | None = None
    tags: dict[str, str] | None = None
    properties: RegistryPropertiesModel | None = None


class RegenerateCredentialModel(_Model):
    name: Literal["password", "password2"]


class NameCheckModel(_Model):
    name: str
    type: Literal["Microsoft.ContainerRegistry/registries"]


class ResourceGroupModel(_Model):
    location: str = Field(min_length=1, max_length=64)
    tags: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class RegistryUpdate(RegistryChanges):
    """RegistryChanges plus the subnets a PUT/PATCH names in networkRuleSet.virtualNetworkRules
    (their rules live in store/virtual_network_rules.py, not in the registry's row)."""

    virtual_network_rules: tuple[str, ...] | None = None
    """Subnet ids. None keeps the rules; a tuple (even empty) replaces them."""


def virtual_network_rules_of(changes: RegistryChanges) -> tuple[str, ...] | None:
    """The subnets a change names, or None when it leaves the virtual-network rules alone."""
    return changes.virtual_network_rules if isinstance(changes, RegistryUpdate) else None


def changes_from(
    properties: RegistryPropertiesModel | None,
    *,
    sku: SkuModel | None = None,
    tags: dict[str, str] | None = None,
    location: str | None = None,
) -> RegistryUpdate:
    p = properties or RegistryPropertiesModel()
    rules = p.network_rule_set
    return RegistryUpdate(
        location=location,
        tags=tags,
        sku=Sku(sku.name) if sku else None,
        admin_user_enabled=p.admin_user_enabled,
        anonymous_pull_enabled=p.anonymous_pull_enabled,
        data_endpoint_enabled=p.data_endpoint_enabled,
        zone_redundancy=p.zone_redundancy,
        network_rule_bypass_options=p.network_rule_bypass_options,
        public_network_access=(
            PublicNetworkAccess(p.public_network_access) if p.public_network_access else None
        ),
        default_action=(
            DefaultAction(rules.default_action) if rules and rules.default_action else None
        ),
        # A rule set without ipRules keeps the rules (the cloud CLI sends it that way).
        ip_rules=(
            tuple(IPRule(r.value, r.action, r.expires_on) for r in rules.ip_rules)
            if rules is not None and rules.ip_rules is not None
            else None
        ),
        # The same for virtualNetworkRules: left out, the rules stay.
        virtual_network_rules=(
            tuple(r.id for r in rules.virtual_network_rules)
            if rules is not None and rules.virtual_network_rules is not None
            else None
        ),
    )


class ServicePrincipalCreateModel(_Model):
    display_name: str = Field(alias="displayName", min_length=1, max_length=128)
    role: str = Field(description="Owner, Contributor, Reader, AcrPull, AcrPush or AcrDelete.")
    scopes: list[str] | None = Field(
        None, description="Resource ids the role applies to; default: the subscription."
    )
    trusted: bool = Field(False, description="May pass registries' network rules (bypass).")


# -- scope maps and tokens (Microsoft.ContainerRegistry/registries/scopeMaps, .../tokens) ------


class ScopeMapPropertiesModel(_Model):
    description: str | None = Field(None, max_length=256)
    actions: list[str] = Field(
        description="Lines 'repositories/<repository, * or prefix/*>/<content|metadata>/<verb>', "
        "e.g. 'repositories/app/content/read'."
    )


class ScopeMapModel(_Model):
    properties: ScopeMapPropertiesModel


class ScopeMapUpdatePropertiesModel(_Model):
    description: str | None = Field(None, max_length=256)
    actions: list[str] | None = Field(None, description="Replaces all the lines when given.")


class ScopeMapUpdateModel(_Model):
    properties: ScopeMapUpdatePropertiesModel | None = None


class TokenPasswordModel(_Model):
    name: Literal["password1", "password2"]


class TokenCredentialsModel(_Model):
    passwords: list[TokenPasswordModel] | None = Field(
        None, description="The passwords to keep; the others are deleted. New ones: generate."
    )


class TokenPropertiesModel(_Model):
    scope_map_id: str = Field(alias="scopeMapId", description="The scope map's resource id.")
    status: Literal["enabled", "disabled"] = "enabled"
    credentials: TokenCredentialsModel | None = None


class TokenModel(_Model):
    properties: TokenPropertiesModel


class TokenUpdatePropertiesModel(_Model):
    scope_map_id: str | None = Field(None, alias="scopeMapId")
    status: Literal["enabled", "disabled"] | None = None
    credentials: TokenCredentialsModel | None = None


class TokenUpdateModel(_Model):
    properties: TokenUpdatePropertiesModel | None = None


class GenerateCredentialsModel(_Model):
    token_id: str = Field(alias="tokenId", description="The token's resource id.")
    expiry: datetime | None = Field(
        None, description="When the new passwords stop working (UTC when no offset is given)."
    )
    name: Literal["password1", "password2"] | None = Field(
        None, description="The password to make anew; both when left out."
    )


# -- private endpoints (Microsoft.Network/privateEndpoints) and registries' connections --------


class PrivateLinkServiceConnectionPropertiesModel(_Model):
    private_link_service_id: str = Field(
        alias="privateLinkServiceId", description="The registry's resource id."
    )
    group_ids: list[str] | None = Field(
        None, alias="groupIds", description='The registry\'s private link resource: ["registry"].'
    )
    request_message: str | None = Field(
        None,
        alias="requestMessage",
        max_length=140,
        description="Shown to the registry's owner with a Pending connection.",
    )

    @field_validator("group_ids")
    @classmethod
    def _registry_group(cls, value: list[str] | None) -> list[str] | None:
        for group in value or []:
            if group.lower() != "registry":
                raise ValueError(
                    f"'{group}' is not a private link resource of a registry; use 'registry'"
                )
        return value


class PrivateLinkServiceConnectionModel(_Model):
    name: str = Field(description="The connection's name, on the endpoint and the registry.")
    properties: PrivateLinkServiceConnectionPropertiesModel


class ListenerModel(_Model):
    """moorage: where the endpoint listens (the cloud gives a subnet instead)."""

    address: str = Field(description="An IPv4 or IPv6 address of this machine.")
    port: int = Field(ge=1, le=65535)

    @field_validator("address")
    @classmethod
    def _ip_address(cls, value: str) -> str:
        try:
            return check_address(value)
        except InvalidListener as e:
            raise ValueError(e.message) from None


class PrivateEndpointPropertiesModel(_Model):
    private_link_service_connections: list[PrivateLinkServiceConnectionModel] | None = Field(
        None,
        alias="privateLinkServiceConnections",
        description="Approved at once when the caller may write the registry, else Pending.",
    )
    manual_private_link_service_connections: list[PrivateLinkServiceConnectionModel] | None = Field(
        None,
        alias="manualPrivateLinkServiceConnections",
        description="Pending until the registry's owner approves them.",
    )
    listener: ListenerModel | None = Field(
        None,
        description="moorage: the endpoint's listener; required for a new endpoint unless "
        "`moorage serve --private-endpoint` declared it.",
    )


class PrivateEndpointModel(_Model):
    location: str | None = Field(None, max_length=64)
    tags: dict[str, str] | None = None
    properties: PrivateEndpointPropertiesModel | None = None


class PrivateLinkServiceConnectionStateModel(_Model):
    status: Literal["Pending", "Approved", "Rejected", "Disconnected"]
    description: str | None = Field(None, max_length=256)
    actions_required: Literal["None", "Recreate"] | None = Field(None, alias="actionsRequired")

    @field_validator("status", mode="before")
    @classmethod
    def _any_case(cls, value: object) -> object:
        # The cloud's enums are case-insensitive.
        return value.capitalize() if isinstance(value, str) else value


class PrivateEndpointRefModel(_Model):
    id: str = Field(description="The private endpoint's resource id.")


class PrivateEndpointConnectionPropertiesModel(_Model):
    private_endpoint: PrivateEndpointRefModel | None = Field(
        None,
        alias="privateEndpoint",
        description="Needed to create a connection; an existing one keeps its endpoint.",
    )
    private_link_service_connection_state: PrivateLinkServiceConnectionStateModel = Field(
        alias="privateLinkServiceConnectionState"
    )


class PrivateEndpointConnectionModel(_Model):
    properties: PrivateEndpointConnectionPropertiesModel


# -- virtual networks and subnets (Microsoft.Network/virtualNetworks, .../subnets) -------------

SERVICE_ENDPOINT = "Microsoft.ContainerRegistry"


class ServiceEndpointModel(_Model):
    service: str = Field(description="Only Microsoft.ContainerRegistry: moorage's one service.")
    locations: list[str] | None = None

    @field_validator("service")
    @classmethod
    def _container_registry(cls, value: str) -> str:
        if value.lower() != SERVICE_ENDPOINT.lower():
            raise ValueError(
                f"service endpoint '{value}' is not offered here: moorage serves only "
                f"{SERVICE_ENDPOINT} (and every subnet has it)"
            )
        return SERVICE_ENDPOINT


class SubnetPropertiesModel(_Model):
    address_prefix: str | None = Field(
        None, alias="addressPrefix", description="The subnet's range: a CIDR inside the network's."
    )
    address_prefixes: list[str] | None = Field(
        None, alias="addressPrefixes", description="The same as a list of exactly one range."
    )
    service_endpoints: list[ServiceEndpointModel] | None = Field(None, alias="serviceEndpoints")

    @property
    def prefix(self) -> str:
        """The one address prefix (the model validator makes sure there is one)."""
        if self.address_prefix is not None:
            return self.address_prefix
        assert self.address_prefixes is not None
        return self.address_prefixes[0]

    @model_validator(mode="after")
    def _one_prefix(self) -> SubnetPropertiesModel:
        given = ([self.address_prefix] if self.address_prefix is not None else []) + list(
            self.address_prefixes or []
        )
        if len(given) != 1:
            raise ValueError(
                "a subnet has exactly one address prefix (addressPrefix), such as 10.0.1.0/24"
                + (f"; got {', '.join(given)}" if given else "")
            )
        return self


class SubnetModel(_Model):
    properties: SubnetPropertiesModel


class NamedSubnetModel(_Model):
    name: str = Field(min_length=1, max_length=80)
    properties: SubnetPropertiesModel


class AddressSpaceModel(_Model):
    address_prefixes: list[str] = Field(alias="addressPrefixes", min_length=1)


class VirtualNetworkPropertiesModel(_Model):
    address_space: AddressSpaceModel = Field(alias="addressSpace")
    subnets: list[NamedSubnetModel] | None = Field(
        None, description="Replaces the network's subnets when given; left out, they stay."
    )


class VirtualNetworkModel(_Model):
    location: str = Field(min_length=1, max_length=64)
    tags: dict[str, str] | None = None
    properties: VirtualNetworkPropertiesModel


class VirtualNetworkRuleIdModel(_Model):
    id: str = Field(description="The subnet's resource id.")
