"""Private endpoints and their connections, the pure rules: the errors, the values the store
returns (an endpoint, its listener and the connections it sees), and the checks of a listener,
a description and a connection's move between the cloud's states Pending, Approved, Rejected
and Disconnected.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from moorage.domain.errors import DomainError
from moorage.domain.networks import private_endpoint_id
from moorage.domain.registry import ConnectionStatus

MAX_DESCRIPTION = 256

# The moves the cloud allows; staying in the same state (a new description) is always allowed.
TRANSITIONS: dict[ConnectionStatus, frozenset[ConnectionStatus]] = {
    ConnectionStatus.PENDING: frozenset({ConnectionStatus.APPROVED, ConnectionStatus.REJECTED}),
    ConnectionStatus.APPROVED: frozenset({ConnectionStatus.REJECTED}),
    ConnectionStatus.REJECTED: frozenset(),
    ConnectionStatus.DISCONNECTED: frozenset(),
}


class PrivateEndpointError(DomainError):
    """Base of the errors of private endpoints and their connections."""


class PrivateEndpointNotFound(PrivateEndpointError):
    pass


class PrivateEndpointNameTaken(PrivateEndpointError):
    """Endpoint names are unique in the service (they name listeners), whatever the group."""


class InvalidListener(PrivateEndpointError):
    """A listener address or port that cannot be listened on."""


class ListenerRequired(PrivateEndpointError):
    """A new endpoint needs a listener unless `moorage serve` declared it."""


class ListenerInUse(PrivateEndpointError):
    """Another endpoint listens on that address and port."""


class ListenerUnavailable(PrivateEndpointError):
    """The service could not listen on the endpoint's address and port."""


class ListenerImmutable(PrivateEndpointError):
    """An endpoint's listener cannot be changed (the cloud's subnet cannot be either)."""


class DeclaredEndpointKept(PrivateEndpointError):
    """An endpoint declared by `moorage serve --private-endpoint` is not deleted through the API."""


class ConnectionNotFound(PrivateEndpointError):
    pass


class ConnectionExists(PrivateEndpointError):
    """The name is taken in the registry, or the registry is already connected to the endpoint."""


class InvalidConnectionState(PrivateEndpointError):
    """A status change the cloud does not allow (Rejected is final, ...)."""


class InvalidConnectionField(PrivateEndpointError):
    """A description or another field of a connection with a value that is not allowed."""


class Origin(StrEnum):
    SERVE = "serve"
    """Declared with `moorage serve --private-endpoint NAME=ADDRESS:PORT`."""
    API = "api"
    """Created through the management API (or `moorage network private-endpoint create`)."""


@dataclass(frozen=True, slots=True)
class Listener:
    address: str
    """Canonical IP address (IPv6 compressed)."""
    port: int

    def __str__(self) -> str:
        return (
            f"[{self.address}]:{self.port}"
            if ":" in self.address
            else f"{self.address}:{self.port}"
        )


@dataclass(frozen=True, slots=True)
class EndpointConnection:
    """A connection as its endpoint sees it: which registry, under which name, in which state."""

    name: str
    registry: str
    registry_id: str
    """The registry's resource id."""
    login_server: str
    status: ConnectionStatus
    description: str | None
    actions_required: str | None


@dataclass(frozen=True, slots=True)
class PrivateEndpoint:
    id: int
    name: str
    subscription_id: str
    resource_group: str
    location: str
    listener: Listener
    origin: Origin
    created_at: datetime
    connections: tuple[EndpointConnection, ...] = ()

    @property
    def resource_id(self) -> str:
        return private_endpoint_id(self.subscription_id, self.resource_group, self.name)


@dataclass(frozen=True, slots=True)
class ConnectionRequest:
    """A registry's connection to make when an endpoint is created."""

    registry_id: int
    name: str
    status: ConnectionStatus = ConnectionStatus.PENDING
    description: str | None = None


def check_address(address: str) -> str:
    """A listener's IP address, canonical (so one listener is never stored twice under two
    spellings: 127.0.0.5 and ::1, not [0:0::1])."""
    try:
        return ipaddress.ip_address(address.strip().strip("[]")).compressed
    except ValueError:
        raise InvalidListener(
            f"listener address {address!r} is not an IPv4 or IPv6 address", address=address
        ) from None


def check_listener(address: str, port: int) -> Listener:
    """An IP address and a TCP port 1-65535."""
    canonical = check_address(address)
    if isinstance(port, bool) or not 1 <= port <= 65535:
        raise InvalidListener(f"listener port {port!r} is not a TCP port (1-65535)", port=port)
    return Listener(canonical, port)


def check_description(description: str | None) -> str | None:
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise InvalidConnectionField(
            f"description is {len(description)} characters long; at most {MAX_DESCRIPTION}",
            description=description[:64],
        )
    return description


def check_transition(
    registry: str, name: str, current: ConnectionStatus, wanted: ConnectionStatus
) -> None:
    if wanted == current or wanted in TRANSITIONS[current]:
        return
    if current is ConnectionStatus.REJECTED:
        why = (
            "a rejected connection cannot be approved or reopened: delete it (moorage acr "
            f"private-endpoint-connection delete -r {registry} -n {name}) and request a new one"
        )
    elif current is ConnectionStatus.DISCONNECTED:
        why = "its private endpoint was deleted: delete the connection and connect again"
    elif wanted is ConnectionStatus.DISCONNECTED:
        why = "moorage sets Disconnected itself when the private endpoint is deleted"
    else:
        allowed = " or ".join(s.value for s in sorted(TRANSITIONS[current]))
        why = f"from {current.value} it can move to {allowed} only"
    raise InvalidConnectionState(
        f"the private endpoint connection '{name}' of registry '{registry}' cannot move from "
        f"{current.value} to {wanted.value}: {why}",
        status=wanted.value,
        current=current.value,
    )


def endpoint_not_found(name: str) -> PrivateEndpointNotFound:
    return PrivateEndpointNotFound(
        f"The private endpoint '{name}' could not be found; see: moorage network "
        "private-endpoint list",
        name=name,
    )


def connection_not_found(registry: str, name: str) -> ConnectionNotFound:
    return ConnectionNotFound(
        f"The private endpoint connection '{name}' of registry '{registry}' could not be "
        f"found; see: moorage acr private-endpoint-connection list -r {registry}",
        name=name,
    )
