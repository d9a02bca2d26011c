from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from moorage.store.database import Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated SQLite metadata store in the test's own directory."""
    database = Database.for_data_dir(tmp_path)
    await database.migrate()
    yield database
    await database.close()
