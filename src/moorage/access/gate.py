"""The network gate: the first thing every data-plane request meets.

A thin middleware over the pure `decide()`. It runs before authentication (a refused client
learns nothing about credentials) for every route on a registry's login server, and for the
default registry's data-plane paths on the bare host. The management API, identity endpoints
and portal on the bare host are not subject to a registry's rules.

The gate owns its request keys (the registry it resolved; the client is access/client.py's) and
answers through the renderer the wiring hands it (the data plane's error body): it imports
nothing of distribution/. It is built with the application and opened, once the stores are,
before the first request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from aiohttp import hdrs, web

from moorage.access.audit import DenialAudit
from moorage.access.client import CLIENT_KEY, ClientAddress, ClientResolver
from moorage.access.hosts import RegistryResolver, is_bare_host, registry_name_from_host
from moorage.access.listeners import Listeners
from moorage.access.policy import PolicyCache
from moorage.domain.errors import DomainError, NetworkAccessDenied, RegistryNotFound
from moorage.domain.network import (
    ALLOW_TRUSTED_SERVICE,
    AccessFacts,
    Deny,
    Listener,
    decide,
)
from moorage.domain.network_messages import denial_message, explain, private_denial_message
from moorage.domain.registry import Registry

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DATA_PLANE_PATHS: Final = ("/v2", "/oauth2/", "/acr/")
REGISTRY_KEY: Final = web.RequestKey("registry", Registry)
"""The registry the gate resolved and admitted the request to."""

TrustedBypass = Callable[[web.Request, Registry, str], Awaitable[bool]]
"""Whether the request carries the valid credentials of a trusted service (for the bypass)."""
Render = Callable[[DomainError], web.StreamResponse]
"""How a refusal (or a Host that names no registry) is answered: the data plane's error body."""


@dataclass(frozen=True, slots=True)
class GateStores:
    """What the gate reads from the metadata store, there once the store is open."""

    resolver: RegistryResolver
    audit: DenialAudit
    trusted: TrustedBypass | None = None


class Gate:
    def __init__(
        self,
        clients: ClientResolver,
        policies: PolicyCache,
        suffix: str,
        render: Render,
        listeners: Listeners | None = None,
        bare_hosts: tuple[str, ...] = (),
    ) -> None:
        self.clients = clients
        self.policies = policies
        self.suffix = suffix
        self.render = render
        self.listeners = listeners or Listeners()
        self.bare_hosts = bare_hosts
        self._stores: GateStores | None = None

    def open(self, stores: GateStores) -> None:
        """Attach the stores (at start-up, before the first request)."""
        self._stores = stores

    @property
    def stores(self) -> GateStores:
        if self._stores is None:  # fails closed: no request is judged without the rules
            raise RuntimeError("the network gate is used before the metadata store is open")
        return self._stores

    def data_plane_registry(self, request: web.Request) -> str | None:
        """The registry a data-plane request is for; None for the management host's routes.

        A Host that is neither a login server nor the service's own name names no registry:
        its data-plane paths answer 404 NAME_UNKNOWN, never the default registry's content."""
        host = request.host if hdrs.HOST in request.headers else ""
        name = registry_name_from_host(host, self.suffix)
        if name is not None:
            return name  # every path on a login server
        if not request.path.startswith(DATA_PLANE_PATHS):
            return None
        if is_bare_host(host, self.suffix, self.bare_hosts):
            return self.stores.resolver.default_registry
        raise RegistryNotFound(
            f"no registry has the login server {host!r}; registries answer at <name>.{self.suffix}",
            host=host,
        )

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        endpoint = self.listeners.endpoint_for(request)
        stores = self.stores
        try:
            name = self.data_plane_registry(request)
        except DomainError as e:
            return self.render(e)
        if name is None:
            if endpoint is not None:
                raise web.HTTPNotFound(text="a private endpoint serves registries only\n")
            return await handler(request)
        try:
            registry = await stores.resolver.by_name(name)
        except DomainError as e:
            return self.render(e)
        client = request.get(CLIENT_KEY) or self.clients.resolve(request)
        facts = client.facts
        if endpoint is not None:
            facts = AccessFacts(client.address, Listener.PRIVATE, endpoint)
        policy = self.policies.policy(registry)
        decision = decide(facts, policy)
        if (
            isinstance(decision, Deny)
            and endpoint is None
            and stores.trusted is not None
            and registry.network_rule_bypass_options == "AzureServices"
            and await stores.trusted(request, registry, str(client.address))
        ):
            decision = ALLOW_TRUSTED_SERVICE
        if isinstance(decision, Deny):
            stores.audit.record(registry.id, client, request.method, request.path, decision.reason)
            # A refusal is a 403 on every route and method, never a 401 with a challenge: a 401
            # on the version check makes skopeo/podman/docker report a password problem.
            return self.render(self.refusal(decision, client, registry, endpoint))
        request[REGISTRY_KEY] = registry
        response = await handler(request)
        if request.path == "/v2/" and request.method in ("GET", "HEAD") and not response.prepared:
            # What `acr check-health` reports: the address the registry saw, and why it was let
            # in (the caller is let in: it may know which of the rules admits it).
            response.headers["X-Moorage-Client-Address"] = str(client.address)
            response.headers["X-Moorage-Network-Rule"] = explain(facts, policy, decision)
        return response

    def refusal(
        self,
        decision: Deny,
        client: ClientAddress,
        registry: Registry,
        endpoint: str | None = None,
    ) -> NetworkAccessDenied:
        detail: dict[str, object] = {
            "client": str(client.address),
            "registry": registry.name,
            "reason": decision.reason.value,
        }
        if client.peer != client.address:
            detail["peer"] = str(client.peer)
        if endpoint is not None:
            connection = next(
                (
                    c
                    for c in registry.private_endpoint_connections
                    if c.private_endpoint == endpoint
                ),
                None,
            )
            detail["privateEndpoint"] = endpoint
            detail["connectionState"] = connection.status.value if connection else "none"
            message = private_denial_message(
                client=str(client.address),
                registry=registry.name,
                endpoint=endpoint,
                connection=connection.name if connection else None,
                state=connection.status.value if connection else None,
            )
            return NetworkAccessDenied(message, **detail)
        message = denial_message(
            decision,
            client=str(client.address),
            registry=registry.name,
            login_server=registry.login_server,
        )
        return NetworkAccessDenied(message, **detail)


GATE: Final = web.AppKey("gate", Gate)
