from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.inprocess import inprocess_server
from tests.support.management import Management
from tests.support.server import Server


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real application in this process, on a free loopback port, for a whole module."""
    with inprocess_server(tmp_path_factory.mktemp("inprocess") / "data") as s:
        yield s


@pytest.fixture(scope="module")
def app_mgmt(app_server: Server) -> Iterator[Management]:
    """The owner's management API client of `app_server`."""
    m = Management(app_server)
    m.http.timeout = httpx.Timeout(120)  # argon2 checks queue up on a busy machine
    yield m
    m.close()
