"""Request bodies of the management API's network resources, as pydantic models: private
endpoints and registries' connections to them (Microsoft.Network/privateEndpoints), virtual
networks and their subnets (Microsoft.Network/virtualNetworks)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from moorage.domain.private_endpoints import InvalidListener, check_address
from moorage.management.models import Model

# -- private endpoints (Microsoft.Network/privateEndpoints) and registries' connections --------


class PrivateLinkServiceConnectionPropertiesModel(Model):
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


class PrivateLinkServiceConnectionModel(Model):
    name: str = Field(description="The connection's name, on the endpoint and the registry.")
    properties: PrivateLinkServiceConnectionPropertiesModel


class ListenerModel(Model):
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


class PrivateEndpointPropertiesModel(Model):
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


class PrivateEndpointModel(Model):
    location: str | None = Field(None, max_length=64)
    tags: dict[str, str] | None = None
    properties: PrivateEndpointPropertiesModel | None = None


class PrivateLinkServiceConnectionStateModel(Model):
    status: Literal["Pending", "Approved", "Rejected", "Disconnected"]
    description: str | None = Field(None, max_length=256)
    actions_required: Literal["None", "Recreate"] | None = Field(None, alias="actionsRequired")

    @field_validator("status", mode="before")
    @classmethod
    def _any_case(cls, value: object) -> object:
        # The cloud's enums are case-insensitive.
        return value.capitalize() if isinstance(value, str) else value


class PrivateEndpointRefModel(Model):
    id: str = Field(description="The private endpoint's resource id.")


class PrivateEndpointConnectionPropertiesModel(Model):
    private_endpoint: PrivateEndpointRefModel | None = Field(
        None,
        alias="privateEndpoint",
        description="Needed to create a connection; an existing one keeps its endpoint.",
    )
    private_link_service_connection_state: PrivateLinkServiceConnectionStateModel = Field(
        alias="privateLinkServiceConnectionState"
    )


class PrivateEndpointConnectionModel(Model):
    properties: PrivateEndpointConnectionPropertiesModel


# -- virtual networks and subnets (Microsoft.Network/virtualNetworks, .../subnets) -------------

SERVICE_ENDPOINT = "Microsoft.ContainerRegistry"


class ServiceEndpointModel(Model):
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


class SubnetPropertiesModel(Model):
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


class SubnetModel(Model):
    properties: SubnetPropertiesModel


class NamedSubnetModel(Model):
    name: str = Field(min_length=1, max_length=80)
    properties: SubnetPropertiesModel


class AddressSpaceModel(Model):
    address_prefixes: list[str] = Field(alias="addressPrefixes", min_length=1)


class VirtualNetworkPropertiesModel(Model):
    address_space: AddressSpaceModel = Field(alias="addressSpace")
    subnets: list[NamedSubnetModel] | None = Field(
        None, description="Replaces the network's subnets when given; left out, they stay."
    )


class VirtualNetworkModel(Model):
    location: str = Field(min_length=1, max_length=64)
    tags: dict[str, str] | None = None
    properties: VirtualNetworkPropertiesModel
