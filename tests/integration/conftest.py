from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.management import Management
from tests.support.registry_http import new_repo, open_client
from tests.support.server import Server


@pytest.fixture(scope="module")
def client(shared_server: Server) -> Iterator[httpx.Client]:
    """A raw HTTP client on the module's server, sending no Accept header of its own."""
    with open_client(shared_server) as c:
        yield c


@pytest.fixture
def repo(request: pytest.FixtureRequest) -> str:
    """A fresh repository name under the test module's REPO_PREFIX."""
    return new_repo(request.module.REPO_PREFIX)


@pytest.fixture(scope="module")
def shared_mgmt(shared_server: Server) -> Iterator[Management]:
    """The management API of the module's server, as its owner."""
    api = Management(shared_server)
    yield api
    api.close()
