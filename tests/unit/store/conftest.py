from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from moorage.domain.registry import Registry
from moorage.store.content import ContentStore
from moorage.store.database import Database
from moorage.store.registries import RegistryStore
from tests.support.postgres import Postgres


@pytest.fixture(scope="session")
def migrated_template(postgres: Postgres) -> str:
    """A PostgreSQL database migrated to head once; each test gets a copy (CREATE DATABASE
    ... TEMPLATE takes milliseconds where migrating takes a second)."""
    url = postgres.create_database()

    async def migrate() -> None:
        database = Database(url)
        await database.migrate()
        await database.close()

    with ThreadPoolExecutor(1) as pool:  # no event loop may be running in this thread
        pool.submit(asyncio.run, migrate()).result()
    return url.rsplit("/", 1)[1]


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty metadata store: every store test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        database = Database.for_data_dir(tmp_path)
    else:
        postgres: Postgres = request.getfixturevalue("postgres")
        template = request.getfixturevalue("migrated_template")
        database = Database(postgres.create_database(template))
    await database.migrate()
    yield database
    await database.close()


@pytest.fixture
def registries(db: Database) -> RegistryStore:
    return RegistryStore(db, login_server_suffix="localhost:5000", location="local")


@pytest.fixture
async def registry(registries: RegistryStore) -> Registry:
    return await registries.create("testreg1")


@pytest.fixture
def content(db: Database) -> ContentStore:
    return ContentStore(db)
