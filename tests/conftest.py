from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.postgres import Postgres, running_postgres
from tests.support.seaweedfs import SeaweedFS, running_seaweedfs
from tests.support.server import Server, running_server
from tests.support.tools import require


def pytest_runtest_setup(item: pytest.Item) -> None:
    """`@pytest.mark.tool("skopeo", ...)`: skip the test when a program is missing (fail under
    MOORAGE_REQUIRE_ALL=1), before any fixture starts a server for it."""
    for marker in item.iter_markers("tool"):
        for name in marker.args:
            require(name)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A real moorage process on a free loopback port with its own data directory."""
    with running_server(tmp_path / "data") as s:
        yield s


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for a whole test module (tests must use their own repository names)."""
    with running_server(tmp_path_factory.mktemp("moorage") / "data") as s:
        yield s


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One throwaway PostgreSQL 15 cluster for the session; tests take a database each."""
    with running_postgres() as pg:
        yield pg


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """One throwaway SeaweedFS S3 server for the session; tests take a key prefix each."""
    with running_seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as s3:
        yield s3
