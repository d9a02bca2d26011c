"""What the auth part needs of the running server's services, and where it keeps them."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from moorage.auth.dataplane import AUTHENTICATOR, Authenticator
from moorage.auth.identity import IDENTITY, IdentityService


class AuthServices(Protocol):
    @property
    def identity(self) -> IdentityService: ...
    @property
    def authenticator(self) -> Authenticator: ...


def setup(app: web.Application, services: AuthServices) -> None:
    app[IDENTITY] = services.identity
    app[AUTHENTICATOR] = services.authenticator
