from __future__ import annotations

import json
import stat
import uuid
from pathlib import Path

from moorage.auth.bootstrap import ensure_owner_credential
from moorage.auth.principals import PrincipalStore
from moorage.auth.roles import Permission, RoleAssignment, allows

SUBSCRIPTION = str(uuid.uuid4())


async def _ensure(principals: PrincipalStore, data_dir: Path, tenant_id: str) -> Path:
    return await ensure_owner_credential(
        principals, data_dir, tenant_id=tenant_id, subscription_id=SUBSCRIPTION
    )


async def test_first_start_writes_an_owner_credential(
    principals: PrincipalStore, tmp_path: Path, tenant_id: str
) -> None:
    path = await _ensure(principals, tmp_path, tenant_id)
    assert path == tmp_path / "owner-credential.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    document = json.loads(path.read_text())
    assert document["tenant"] == tenant_id
    assert document["subscription"] == SUBSCRIPTION
    assert document["displayName"] == "moorage-owner"
    owner = await principals.authenticate(document["appId"], document["password"])
    assert owner is not None
    roles = await principals.assignments(owner.app_id)
    assert roles == [RoleAssignment("Owner", f"/subscriptions/{SUBSCRIPTION}")]
    assert allows(roles, Permission.MANAGE_ACCESS, f"/subscriptions/{SUBSCRIPTION}/x")


async def test_later_starts_keep_it(
    principals: PrincipalStore, tmp_path: Path, tenant_id: str
) -> None:
    path = await _ensure(principals, tmp_path, tenant_id)
    before = path.read_text()
    await _ensure(principals, tmp_path, tenant_id)
    assert path.read_text() == before
    assert len(await principals.all()) == 1


async def test_a_missing_file_makes_a_new_owner(
    principals: PrincipalStore, tmp_path: Path, tenant_id: str
) -> None:
    path = await _ensure(principals, tmp_path, tenant_id)
    old = json.loads(path.read_text())
    path.unlink()
    await _ensure(principals, tmp_path, tenant_id)
    new = json.loads(path.read_text())
    assert new["appId"] != old["appId"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert await principals.authenticate(new["appId"], new["password"]) is not None


async def test_a_file_naming_a_deleted_principal_is_replaced(
    principals: PrincipalStore, tmp_path: Path, tenant_id: str
) -> None:
    path = await _ensure(principals, tmp_path, tenant_id)
    old = json.loads(path.read_text())
    await principals.delete(old["appId"])
    await _ensure(principals, tmp_path, tenant_id)
    new = json.loads(path.read_text())
    assert new["appId"] != old["appId"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert await principals.authenticate(new["appId"], new["password"]) is not None
