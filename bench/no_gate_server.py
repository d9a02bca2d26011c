"""moorage with the network gate replaced by plain registry resolution: for bench/ only.

python bench/no_gate_server.py DATA_DIR PORT
"""

from __future__ import annotations

import sys
from pathlib import Path

from aiohttp import web

from moorage.access.gate import GATE, REGISTRY_KEY, Handler
from moorage.app import create_app
from moorage.config import Settings


@web.middleware
async def resolve_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """What the gate does before it decides: find the registry the Host names."""
    gate = request.app[GATE]
    name = gate.data_plane_registry(request)
    if name is not None:
        request[REGISTRY_KEY] = await gate.stores.resolver.by_name(name)
    return await handler(request)


def main() -> None:
    settings = Settings(data_dir=Path(sys.argv[1]), port=int(sys.argv[2]), max_ip_rules=20_000)
    app = create_app(settings)
    if "--with-gate" not in sys.argv:
        app.middlewares[:] = [app.middlewares[0], resolve_only]  # keep the client's own
    web.run_app(app, host="127.0.0.1", port=settings.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
