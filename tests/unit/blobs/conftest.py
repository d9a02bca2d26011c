"""The `driver` fixture: every driver factory listed here runs the whole shared suite.

A factory takes the pytest request (to reach session fixtures such as an object-store emulator)
and a fresh per-test directory, and yields an empty driver. To run the suite against a new
backend, add one `pytest.param(factory, id=...)` to FACTORIES (skip inside the factory when its
server is not installed).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from moorage.blobs.driver import BlobDriver
from moorage.blobs.filesystem import FilesystemDriver

DriverFactory = Callable[[pytest.FixtureRequest, Path], AbstractAsyncContextManager[BlobDriver]]


@asynccontextmanager
async def filesystem_driver(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[BlobDriver]:
    yield FilesystemDriver(tmp_path / "store")


FACTORIES = [
    pytest.param(filesystem_driver, id="filesystem"),
]


@pytest.fixture(params=FACTORIES)
async def driver(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobDriver]:
    factory: DriverFactory = request.param
    async with factory(request, tmp_path) as d:
        yield d
