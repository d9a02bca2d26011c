"""The network gate: the first thing every data-plane request meets.

A thin middleware over the pure `decide()`. It runs before authentication (a refused client
learns nothing about credentials) for every route on a registry's login server, and for the
default registry's data-plane paths on the bare host. The management API, identity endpoints
and portal on the bare host are not subject to a registry's rules.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import hdrs, web

from moorage.access.audit import DenialAudit
from moorage.access.client import CLIENT_KEY, ClientAddress, ClientResolver
from moorage.access.hosts import RegistryResolver, is_bare_host, registry_name_from_host
from moorage.access.listeners import Listeners
from moorage.access.policy import PolicyCache
from moorage.distribution.context import REGISTRY_KEY
from moorage.distribution.errors import DENIED, RegistryError, render, translate
from moorage.domain.errors import DomainError, RegistryNotFound
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
API_VERSION = {"Docker-Distribution-API-Version": "registry/2.0"}


TrustedBypass = Callable[[web.Request, Registry, str], Awaitable[bool]]
"""Whether the request carries the valid credentials of a trusted service (for the bypass)."""


class Gate:
    def __init__(
        self,
        resolver: RegistryResolver,
        clients: ClientResolver,
        policies: PolicyCache,
        audit: DenialAudit,
        suffix: str,
        listeners: Listeners | None = None,
        trusted: TrustedBypass | None = None,
        bare_hosts: tuple[str, ...] = (),
    ) -> None:
        self.resolver = resolver
        self.clients = clients
        self.policies = policies
        self.audit = audit
        self.suffix = suffix
        self.listeners = listeners or Listeners()
        self.trusted = trusted
        self.bare_hosts = bare_hosts

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
            return self.resolver.default_registry
        raise RegistryNotFound(
            f"no registry has the login server {host!r}; registries answer at <name>.{self.suffix}",
            host=host,
        )

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        endpoint = self.listeners.endpoint_for(request)
        try:
            name = self.data_plane_registry(request)
        except DomainError as e:
            return _oci(translate(e))
        if name is None:
            if endpoint is not None:
                raise web.HTTPNotFound(text="a private endpoint serves registries only\n")
            return await handler(request)
        try:
            registry = await self.resolver.by_name(name)
        except DomainError as e:
            return _oci(translate(e))
        client = request.get(CLIENT_KEY) or self.clients.resolve(request)
        facts = client.facts
        if endpoint is not None:
            facts = AccessFacts(client.address, Listener.PRIVATE, endpoint)
        policy = self.policies.policy(registry)
        decision = decide(facts, policy)
        if (
            isinstance(decision, Deny)
            and endpoint is None
            and self.trusted is not None
            and registry.network_rule_bypass_options == "AzureServices"
            and await self.trusted(request, registry, str(client.address))
        ):
            decision = ALLOW_TRUSTED_SERVICE
        if isinstance(decision, Deny):
            self.audit.record(registry.id, client, request.method, request.path, decision.reason)
            # A refusal is a 403 on every route and method, never a 401 with a challenge: a 401
            # on the version check makes skopeo/podman/docker report a password problem.
            return _oci(self.refusal(decision, client, registry, endpoint))
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
    ) -> RegistryError:
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
            return RegistryError(DENIED, message, detail)
        message = denial_message(
            decision,
            client=str(client.address),
            registry=registry.name,
            login_server=registry.login_server,
        )
        return RegistryError(DENIED, message, detail)


GATE: Final = web.AppKey("gate", Gate)


def _oci(error: RegistryError) -> web.Response:
    response = render(error)
    response.headers.update(API_VERSION)
    return response
