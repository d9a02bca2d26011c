from __future__ import annotations

import pytest

from moorage.domain.registry import Registry
from moorage.store.content import ContentStore
from moorage.store.database import Database
from moorage.store.registries import RegistryStore


@pytest.fixture
def registries(db: Database) -> RegistryStore:
    return RegistryStore(db, login_server_suffix="localhost:5000", location="local")


@pytest.fixture
async def registry(registries: RegistryStore) -> Registry:
    return await registries.create("testreg1")


@pytest.fixture
def content(db: Database) -> ContentStore:
    return ContentStore(db)
