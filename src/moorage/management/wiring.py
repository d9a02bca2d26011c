"""What the management API needs of the running server's services, and where it keeps them."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from moorage.access.audit import DenialAudit
from moorage.management.private_endpoints import (
    ENDPOINT_LISTENERS,
    PRIVATE_ENDPOINTS,
    EndpointListeners,
    PrivateEndpoints,
)
from moorage.management.registries import AUDIT, SERVICE
from moorage.management.repository_access import REPOSITORY_ACCESS, RepositoryAccess
from moorage.management.service import ManagementService


class ManagementServices(Protocol):
    @property
    def management(self) -> ManagementService: ...
    @property
    def audit(self) -> DenialAudit: ...
    @property
    def private_endpoints(self) -> PrivateEndpoints: ...
    @property
    def listeners(self) -> EndpointListeners: ...
    @property
    def repository_access(self) -> RepositoryAccess: ...


def setup(app: web.Application, services: ManagementServices) -> None:
    app[SERVICE] = services.management
    app[AUDIT] = services.audit
    app[PRIVATE_ENDPOINTS] = services.private_endpoints
    app[ENDPOINT_LISTENERS] = services.listeners
    app[REPOSITORY_ACCESS] = services.repository_access
