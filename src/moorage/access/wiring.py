"""What the access part needs of the running server's services, and where it keeps them."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from moorage.access.gate import GATE, GateStores


class AccessServices(Protocol):
    @property
    def gate_stores(self) -> GateStores: ...


def setup(app: web.Application, services: AccessServices) -> None:
    """The gate, built with the application, gets its stores: it fails closed until then."""
    app[GATE].open(services.gate_stores)
