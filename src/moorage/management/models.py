"""Request bodies of the management API, as pydantic models (validated at the edge).

Fields the resource manager defines but moorage does not act on (identity, encryption,
policies...) are accepted and ignored, so real clients that send them keep working.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from moorage.domain.errors import InvalidIPRule
from moorage.domain.network import parse_ip_rule
from moorage.domain.registry import (
    DefaultAction,
    IPRule,
    PublicNetworkAccess,
    RegistryChanges,
    Sku,
)


class Model(BaseModel):
    """The base of every request body: unknown fields are ignored, fields by alias or name."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class IPRuleModel(Model):
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


class IPRuleValueModel(Model):
    value: str = Field(description="An IPv4 or IPv6 address or CIDR range.")

    @field_validator("value")
    @classmethod
    def _address_or_range(cls, value: str) -> str:
        try:
            return parse_ip_rule(value)
        except InvalidIPRule as e:
            raise ValueError(e.message) from None


class VirtualNetworkRuleModel(Model):
    id: str = Field(
        description="The subnet's resource id: .../Microsoft.Network/virtualNetworks/<vnet>"
        "/subnets/<subnet>."
    )
    action: Literal["Allow"] = "Allow"


class NetworkRuleSetModel(Model):
    default_action: Literal["Allow", "Deny"] | None = Field(None, alias="defaultAction")
    ip_rules: list[IPRuleModel] | None = Field(None, alias="ipRules")
    virtual_network_rules: list[VirtualNetworkRuleModel] | None = Field(
        None, alias="virtualNetworkRules"
    )


class RegistryPropertiesModel(Model):
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


class SkuModel(Model):
    name: Literal["Basic", "Standard", "Premium"]


class RegistryCreateModel(Model):
    location: str = Field(min_length=1, max_length=64)
    sku: SkuModel
    tags: dict[str, str] | None = None
    properties: RegistryPropertiesModel | None = None


class RegistryUpdateModel(Model):
    sku: SkuModel | None = None
    tags: dict[str, str] | None = None
    properties: RegistryPropertiesModel | None = None


class RegenerateCredentialModel(Model):
    name: Literal["password", "password2"]


class NameCheckModel(Model):
    name: str
    type: Literal["Microsoft.ContainerRegistry/registries"]


class ResourceGroupModel(Model):
    location: str = Field(min_length=1, max_length=64)
    tags: dict[str, str] | None = None


def changes_from(
    properties: RegistryPropertiesModel | None,
    *,
    sku: SkuModel | None = None,
    tags: dict[str, str] | None = None,
    location: str | None = None,
) -> RegistryChanges:
    """The domain's RegistryChanges a PUT or PATCH body asks for (the services take no models)."""
    p = properties or RegistryPropertiesModel()
    rules = p.network_rule_set
    return RegistryChanges(
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


class ServicePrincipalCreateModel(Model):
    display_name: str = Field(alias="displayName", min_length=1, max_length=128)
    role: str = Field(description="Owner, Contributor, Reader, AcrPull, AcrPush or AcrDelete.")
    scopes: list[str] | None = Field(
        None, description="Resource ids the role applies to; default: the subscription."
    )
    trusted: bool = Field(False, description="May pass registries' network rules (bypass).")


# -- scope maps and tokens (Microsoft.ContainerRegistry/registries/scopeMaps, .../tokens) ------


class ScopeMapPropertiesModel(Model):
    description: str | None = Field(None, max_length=256)
    actions: list[str] = Field(
        description="Lines 'repositories/<repository, * or prefix/*>/<content|metadata>/<verb>', "
        "e.g. 'repositories/app/content/read'."
    )


class ScopeMapModel(Model):
    properties: ScopeMapPropertiesModel


class ScopeMapUpdatePropertiesModel(Model):
    description: str | None = Field(None, max_length=256)
    actions: list[str] | None = Field(None, description="Replaces all the lines when given.")


class ScopeMapUpdateModel(Model):
    properties: ScopeMapUpdatePropertiesModel | None = None


class TokenPasswordModel(Model):
    name: Literal["password1", "password2"]


class TokenCredentialsModel(Model):
    passwords: list[TokenPasswordModel] | None = Field(
        None, description="The passwords to keep; the others are deleted. New ones: generate."
    )


class TokenPropertiesModel(Model):
    scope_map_id: str = Field(alias="scopeMapId", description="The scope map's resource id.")
    status: Literal["enabled", "disabled"] = "enabled"
    credentials: TokenCredentialsModel | None = None


class TokenModel(Model):
    properties: TokenPropertiesModel


class TokenUpdatePropertiesModel(Model):
    scope_map_id: str | None = Field(None, alias="scopeMapId")
    status: Literal["enabled", "disabled"] | None = None
    credentials: TokenCredentialsModel | None = None


class TokenUpdateModel(Model):
    properties: TokenUpdatePropertiesModel | None = None


class GenerateCredentialsModel(Model):
    token_id: str = Field(alias="tokenId", description="The token's resource id.")
    expiry: datetime | None = Field(
        None, description="When the new passwords stop working (UTC when no offset is given)."
    )
    name: Literal["password1", "password2"] | None = Field(
        None, description="The password to make anew; both when left out."
    )


class VirtualNetworkRuleIdModel(Model):
    id: str = Field(description="The subnet's resource id.")
