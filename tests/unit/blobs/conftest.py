"""The `driver` fixture: every driver factory listed here runs the whole shared suite.

A factory takes the pytest request (to reach session fixtures such as an object-store emulator)
and a fresh per-test directory, and yields an empty driver. To run the suite against a new
backend, add one `pytest.param(factory, id=...)` to FACTORIES (skip inside the factory when its
server is not installed).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from moorage.blobs.driver import BlobDriver
from moorage.blobs.filesystem import FilesystemDriver
from moorage.blobs.location import S3Location
from moorage.blobs.s3 import open_s3_driver
from tests.support.seaweedfs import SeaweedFS

DriverFactory = Callable[[pytest.FixtureRequest, Path], AbstractAsyncContextManager[BlobDriver]]


@asynccontextmanager
async def filesystem_driver(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[BlobDriver]:
    yield FilesystemDriver(tmp_path / "store")


@asynccontextmanager
async def s3_driver(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobDriver]:
    """A key prefix of its own in the session's SeaweedFS bucket."""
    s3: SeaweedFS = request.getfixturevalue("seaweedfs")
    location = S3Location.parse(s3.url(f"t-{uuid.uuid4().hex}"))
    async with open_s3_driver(
        location, access_key=s3.access_key, secret_key=s3.secret_key
    ) as driver:
        yield driver


FACTORIES = [
    pytest.param(filesystem_driver, id="filesystem"),
    pytest.param(s3_driver, id="s3"),
]


@pytest.fixture(params=FACTORIES)
async def driver(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobDriver]:
    factory: DriverFactory = request.param
    async with factory(request, tmp_path) as d:
        yield d
