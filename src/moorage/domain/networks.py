"""Resource ids of the network resources moorage keeps (private endpoints, virtual networks and
their subnets), shaped as the cloud's Microsoft.Network ids. Pure, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

from moorage.domain.errors import DomainError

NETWORK = "/providers/Microsoft.Network"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,78}[A-Za-z0-9_]$|^[A-Za-z0-9]$")
NETWORK_NAME_PATTERN = _NAME.pattern  # the OpenAPI document's, for the same rule
_SUBNET_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<group>[^/]+)"
    r"/providers/Microsoft\.Network/virtualNetworks/(?P<vnet>[^/]+)/subnets/(?P<subnet>[^/]+)$",
    re.IGNORECASE,
)


class InvalidNetworkName(DomainError):
    """A private endpoint, virtual network or subnet name the cloud would refuse."""


def check_network_name(kind: str, name: str) -> str:
    """Names of Microsoft.Network resources: 1 to 80 characters, letters, digits, '_', '.', '-',
    starting with a letter or digit and ending with a letter, digit or '_'."""
    if not _NAME.fullmatch(name):
        raise InvalidNetworkName(
            f"{kind} name {name!r} is not allowed: use 1 to 80 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit and ending with a letter, digit or '_'",
            name=name,
        )
    return name


def group_id(subscription_id: str, resource_group: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"


def private_endpoint_id(subscription_id: str, resource_group: str, name: str) -> str:
    return f"{group_id(subscription_id, resource_group)}{NETWORK}/privateEndpoints/{name}"


def virtual_network_id(subscription_id: str, resource_group: str, name: str) -> str:
    return f"{group_id(subscription_id, resource_group)}{NETWORK}/virtualNetworks/{name}"


def subnet_id(subscription_id: str, resource_group: str, vnet: str, subnet: str) -> str:
    return f"{virtual_network_id(subscription_id, resource_group, vnet)}/subnets/{subnet}"


@dataclass(frozen=True, slots=True)
class SubnetRef:
    subscription_id: str
    resource_group: str
    virtual_network: str
    subnet: str


def parse_subnet_id(value: str) -> SubnetRef:
    """The parts of a subnet's resource id; InvalidNetworkName when it is not one."""
    match = _SUBNET_ID.match(value.strip())
    if match is None:
        raise InvalidNetworkName(
            f"{value!r} is not a subnet id: expected /subscriptions/<id>/resourceGroups/<group>"
            "/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>",
            id=value,
        )
    return SubnetRef(match["sub"], match["group"], match["vnet"], match["subnet"])
