"""The network gate: the first thing every data-plane request meets.

A thin middleware over the pure `decide()`. It runs before authentication (a refused client
learns nothing about credentials) for every route on a registry's login server, and for the
default registry's data-plane paths on the bare host. The management API, identity endpoints
and portal on the bare host are not subject to a registry's rules.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

from moorage.access.audit import DenialAudit
from moorage.access.client import ClientAddress, ClientResolver
from moorage.access.hosts import RegistryResolver, registry_name_from_host
from moorage.access.policy import PolicyCache
from moorage.distribution.context import REGISTRY_KEY
from moorage.distribution.errors import DENIED, RegistryError, render, translate
from moorage.domain.errors import DomainError
from moorage.domain.network import Deny, decide, denial_message

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CLIENT_KEY: Final = web.RequestKey("client", ClientAddress)
DATA_PLANE_PATHS: Final = ("/v2", "/oauth2/", "/acr/")
API_VERSION = {"Docker-Distribution-API-Version": "registry/2.0"}


class Gate:
    def __init__(
        self,
        resolver: RegistryResolver,
        clients: ClientResolver,
        policies: PolicyCache,
        audit: DenialAudit,
        suffix: str,
    ) -> None:
        self.resolver = resolver
        self.clients = clients
        self.policies = policies
        self.audit = audit
        self.suffix = suffix

    def data_plane_registry(self, request: web.Request) -> str | None:
        """The registry a data-plane request is for; None for the management host's routes."""
        name = registry_name_from_host(request.host, self.suffix)
        if name is not None:
            return name  # every path on a login server
        if request.path.startswith(DATA_PLANE_PATHS):
            return self.resolver.default_registry
        return None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        name = self.data_plane_registry(request)
        if name is None:
            return await handler(request)
        try:
            registry = await self.resolver.by_name(name)
        except DomainError as e:
            return _oci(translate(e))
        client = self.clients.resolve(request)
        decision = decide(client.facts, self.policies.policy(registry))
        if isinstance(decision, Deny):
            self.audit.record(registry.id, client, request.method, request.path, decision.reason)
            response = _oci(self.refusal(decision, client, registry.name, registry.login_server))
            if _reported_only_as_401(request):
                # Go clients (skopeo, podman, docker) drop the body of a 403 on the version
                # check and on the Docker token request, and print only "403 (Forbidden)";
                # the body of a 401 they print. So these two answer 401 (same body, same for
                # every credential), and the client's next step, the token, carries the
                # reason to the user. Every other route answers 403.
                response.set_status(401)
                response.headers["WWW-Authenticate"] = (
                    f'Bearer realm="{request.scheme}://{request.host}/oauth2/token",'
                    f'service="{registry.login_server}",error="access_denied"'
                )
            return response
        request[REGISTRY_KEY] = registry
        request[CLIENT_KEY] = client
        return await handler(request)

    def refusal(
        self, decision: Deny, client: ClientAddress, registry: str, login_server: str
    ) -> RegistryError:
        detail: dict[str, object] = {
            "client": str(client.address),
            "registry": registry,
            "reason": decision.reason.value,
        }
        if client.peer != client.address:
            detail["peer"] = str(client.peer)
        message = denial_message(
            decision, client=str(client.address), registry=registry, login_server=login_server
        )
        return RegistryError(DENIED, message, detail)


def _reported_only_as_401(request: web.Request) -> bool:
    if request.method in ("GET", "HEAD") and request.path in ("/v2/", "/v2"):
        return True
    return request.method == "GET" and request.path == "/oauth2/token"


def _oci(error: RegistryError) -> web.Response:
    response = render(error)
    response.headers.update(API_VERSION)
    return response
