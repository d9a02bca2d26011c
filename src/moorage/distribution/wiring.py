"""What the registry API needs of the running server's services, and where it keeps them."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from moorage.access.hosts import RegistryResolver
from moorage.auth.registry_oauth import RegistryTokenService
from moorage.distribution.context import CONTENT, RESOLVER
from moorage.distribution.oauth import TOKENS
from moorage.distribution.service import RegistryContent


class DistributionServices(Protocol):
    @property
    def content(self) -> RegistryContent: ...
    @property
    def resolver(self) -> RegistryResolver: ...
    @property
    def tokens(self) -> RegistryTokenService: ...


def setup(app: web.Application, services: DistributionServices) -> None:
    app[CONTENT] = services.content
    app[RESOLVER] = services.resolver
    app[TOKENS] = services.tokens
