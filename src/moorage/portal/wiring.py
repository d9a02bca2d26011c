"""What the portal needs of the running server's services, and where it keeps them (the
management services it calls are the management part's)."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from moorage.portal.sessions import Sessions
from moorage.portal.web import SESSIONS


class PortalServices(Protocol):
    @property
    def sessions(self) -> Sessions: ...


def setup(app: web.Application, services: PortalServices) -> None:
    app[SESSIONS] = services.sessions
