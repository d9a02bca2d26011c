from __future__ import annotations

from pathlib import Path

import pytest

from moorage.auth.keys import SigningKeys
from moorage.auth.principals import PrincipalStore
from moorage.auth.tokens import TokenService, issuer_for
from moorage.store.database import Database

BASE_URL = "https://127.0.0.1:5443"
MANAGEMENT = "https://management.azure.com/"


@pytest.fixture
def principals(db: Database) -> PrincipalStore:
    return PrincipalStore(db)


@pytest.fixture
async def tenant_id(principals: PrincipalStore) -> str:
    return await principals.ensure_tenant()


@pytest.fixture
def keys(tmp_path: Path) -> SigningKeys:
    return SigningKeys.load_or_create(tmp_path)


@pytest.fixture
def tokens(keys: SigningKeys) -> TokenService:
    return TokenService(keys, issuer_for(BASE_URL, "tenant-1"))
