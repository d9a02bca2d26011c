from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import Server, running_server


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
