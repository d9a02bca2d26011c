"""Changes are announced once committed, never for a write that rolled back, and every store
write that changes what proves an identity names its change."""

from __future__ import annotations

import pytest

from moorage.auth.principals import PrincipalStore
from moorage.auth.secrets import new_hashed_secret
from moorage.domain.registry import RegistryChanges
from moorage.store.changes import Change, Changes, CredentialsChanged
from moorage.store.credentials import CredentialStore
from moorage.store.database import Database
from moorage.store.registries import RegistryStore
from moorage.store.repository_tokens import TokenStore
from moorage.store.scope_maps import ScopeMapStore


@pytest.fixture
def heard(db: Database) -> list[Change]:
    heard: list[Change] = []
    db.changes.subscribe(heard.append)
    return heard


async def test_announced_after_commit_and_not_after_a_rollback(
    db: Database, heard: list[Change]
) -> None:
    seen_inside: list[int] = []
    async with db.write(CredentialsChanged(7)):
        seen_inside.append(len(heard))
    assert seen_inside == [0] and heard == [CredentialsChanged(7)]
    with pytest.raises(RuntimeError):
        async with db.write(CredentialsChanged(8)):
            raise RuntimeError("rolled back")
    assert heard == [CredentialsChanged(7)]


def test_a_failing_listener_does_not_hide_the_change_from_the_others() -> None:
    changes = Changes()
    heard: list[Change] = []

    def broken(_: Change) -> None:
        raise ValueError("broken cache")

    changes.subscribe(broken)
    changes.subscribe(heard.append)
    changes.announce(CredentialsChanged(None))
    assert heard == [CredentialsChanged(None)]


async def test_every_credential_write_is_announced(db: Database, heard: list[Change]) -> None:
    registries = RegistryStore(db, login_server_suffix="localhost:5000", location="local")
    await registries.create("registrya", changes=RegistryChanges(admin_user_enabled=True))
    rid = (await registries.get("registrya")).id
    this = CredentialsChanged(rid)

    async def expect(change: Change) -> None:
        assert heard == [change]
        heard.clear()

    await CredentialStore(db).put(rid, "password", "encrypted", "hashed")
    await expect(this)
    maps = ScopeMapStore(db)
    await maps.put(rid, "readers", ["repositories/app/content/read"])
    await expect(this)
    await maps.update(rid, "readers", description="who reads")
    await expect(this)
    tokens = TokenStore(db, new_secret=new_hashed_secret)
    await tokens.put(rid, "reader", scope_map="readers")
    await expect(this)
    await tokens.generate(rid, "reader", ["password1"])
    await expect(this)
    await tokens.update(rid, "reader", keep_passwords=[])
    await expect(this)
    assert await tokens.delete(rid, "reader")
    await expect(this)
    assert await maps.delete(rid, "readers")
    await expect(this)

    everywhere = CredentialsChanged(None)
    principals = PrincipalStore(db)
    principal, _ = await principals.create("ci")
    assert heard == []  # a new principal proves nothing yet
    await principals.assign(principal.app_id, "AcrPull", "/")
    await expect(everywhere)
    await principals.unassign(principal.app_id, "AcrPull", "/")
    await expect(everywhere)
    await principals.reset_secret(principal.app_id)
    await expect(everywhere)
    await principals.set_trusted(principal.app_id, True)
    await expect(everywhere)
    assert await principals.delete(principal.app_id)
    await expect(everywhere)
