"""The real application in the test's own process, on a free loopback port: no process to
spawn, the same routes, stores and wiring as `moorage serve` (its event loop runs in a thread,
so tests talk to it over TCP with ordinary blocking clients)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiohttp import web

from moorage.access.listeners import LISTENERS
from moorage.app import create_app
from moorage.config import Settings
from tests.support.server import Server, free_port


@contextmanager
def inprocess_server(data_dir: Path, **settings: Any) -> Iterator[Server]:
    """A `Server` (no process: `url`, `owner`, `data_dir` as usual) serving until the block
    ends; `settings` are those of `Settings`."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="moorage-inprocess", daemon=True)
    thread.start()
    runner: web.AppRunner | None = None
    try:
        for attempt in range(5):  # a free port may be taken before it is bound
            port = free_port()
            app = create_app(Settings(data_dir=data_dir, port=port, **settings))
            runner = web.AppRunner(app, access_log=None, handle_signals=False)
            try:
                asyncio.run_coroutine_threadsafe(_start(runner, port), loop).result(60)
                break
            except OSError:
                asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(60)
                runner = None
                if attempt == 4:
                    raise
        yield Server(data_dir, port)
    finally:
        if runner is not None:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


async def _start(runner: web.AppRunner, port: int) -> None:
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    runner.app[LISTENERS].attach(runner, None)
