"""Scope maps and repository-scoped tokens: the stores under the management API and the login."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from moorage.auth.secrets import new_hashed_secret, verify_secret
from moorage.domain.access import SYSTEM_SCOPE_MAPS, InvalidScope
from moorage.domain.errors import (
    DomainError,
    InvalidAccessField,
    InvalidAccessName,
    ScopeMapExists,
    ScopeMapInUse,
    ScopeMapNotFound,
    SystemScopeMapReadOnly,
    TokenNameTaken,
    TokenNotFound,
)
from moorage.domain.registry import Registry
from moorage.domain.repository_access import TokenStatus
from moorage.store.database import Database
from moorage.store.registries import RegistryStore
from moorage.store.repository_tokens import TokenStore
from moorage.store.scope_maps import ScopeMapStore
from moorage.store.types import utcnow

READ = ("repositories/app/content/read", "repositories/app/metadata/read")


@pytest.fixture
def maps(db: Database) -> ScopeMapStore:
    return ScopeMapStore(db)


@pytest.fixture
def tokens(db: Database) -> TokenStore:
    return TokenStore(db, new_secret=new_hashed_secret)


async def test_scope_map_create_get_list_update_delete(
    maps: ScopeMapStore, registry: Registry
) -> None:
    created, is_new = await maps.put(
        registry.id, "ReadApp", [" repositories/app/content/read", *READ], "read app"
    )
    assert is_new
    assert (created.name, created.description, created.actions) == ("ReadApp", "read app", READ)
    assert not created.system and created.created_at is not None
    assert await maps.get(registry.id, "readapp") == created

    listed = await maps.all(registry.id)
    assert [m.name for m in listed] == [*SYSTEM_SCOPE_MAPS, "ReadApp"]
    assert all(m.system for m in listed[:-1])

    updated = await maps.update(registry.id, "READAPP", description="changed")
    assert (updated.description, updated.actions) == ("changed", READ)
    updated = await maps.update(registry.id, "readapp", actions=["repositories/*/content/read"])
    assert (updated.description, updated.actions) == ("changed", ("repositories/*/content/read",))

    replaced, is_new = await maps.put(registry.id, "readapp", READ)
    assert not is_new and replaced.name == "ReadApp" and replaced.description is None
    with pytest.raises(ScopeMapExists):
        await maps.put(registry.id, "READAPP", READ, create_only=True)

    assert await maps.delete(registry.id, "readApp") is True
    assert await maps.delete(registry.id, "readApp") is False
    with pytest.raises(ScopeMapNotFound, match="'readapp' of registry 'testreg1'"):
        await maps.get(registry.id, "readapp")


@pytest.mark.parametrize("name", ["abcd", "a" * 51, "has space", "bad.name", "slash/name1"])
async def test_bad_scope_map_names_are_refused(
    maps: ScopeMapStore, registry: Registry, name: str
) -> None:
    with pytest.raises(InvalidAccessName, match="scope map name") as caught:
        await maps.put(registry.id, name, READ)
    assert repr(name) in caught.value.message
    assert caught.value.detail == {"scopeMapName": name}


@pytest.mark.parametrize("name", ["abcd", "b" * 51, "under_score", "dot.name", "sp ace1"])
async def test_bad_token_names_are_refused(
    tokens: TokenStore, registry: Registry, name: str
) -> None:
    with pytest.raises(InvalidAccessName, match="token name") as caught:
        await tokens.put(registry.id, name, scope_map="_repositories_pull")
    assert repr(name) in caught.value.message
    assert caught.value.detail == {"tokenName": name}


@pytest.mark.parametrize(
    ("actions", "named"),
    [
        (["repositories/app/content/raed"], "content/raed"),
        (["repos/app/content/read"], "repos/app/content/read"),
        (["repositories/App/content/read"], "repositories/App/content/read"),
        ([], "at least one action"),
    ],
)
async def test_bad_actions_are_refused(
    maps: ScopeMapStore, registry: Registry, actions: list[str], named: str
) -> None:
    with pytest.raises(InvalidScope, match=re.escape(named)):
        await maps.put(registry.id, "mymap1", actions)
    with pytest.raises(ScopeMapNotFound):
        await maps.get(registry.id, "mymap1")


async def test_description_has_a_limit(maps: ScopeMapStore, registry: Registry) -> None:
    with pytest.raises(InvalidAccessField, match="at most 256"):
        await maps.put(registry.id, "mymap1", READ, "x" * 257)


@pytest.mark.parametrize("name", list(SYSTEM_SCOPE_MAPS))
async def test_system_scope_maps_are_read_only(
    maps: ScopeMapStore, registry: Registry, name: str
) -> None:
    found = await maps.get(registry.id, name.upper())
    assert found.system and found.name == name
    assert found.actions == SYSTEM_SCOPE_MAPS[name][1]
    with pytest.raises(SystemScopeMapReadOnly, match="system scope map"):
        await maps.put(registry.id, name, READ)
    with pytest.raises(SystemScopeMapReadOnly):
        await maps.update(registry.id, name, description="mine")
    with pytest.raises(SystemScopeMapReadOnly):
        await maps.delete(registry.id, name)


async def test_a_scope_map_in_use_is_not_deleted(
    maps: ScopeMapStore, tokens: TokenStore, registry: Registry
) -> None:
    await maps.put(registry.id, "ReadApp", READ)
    await tokens.put(registry.id, "reader-one", scope_map="readapp")
    await tokens.put(registry.id, "reader-two", scope_map="READAPP")
    with pytest.raises(ScopeMapInUse, match="'reader-one', 'reader-two'") as caught:
        await maps.delete(registry.id, "readapp")
    assert caught.value.detail["tokens"] == ["reader-one", "reader-two"]
    await tokens.delete(registry.id, "reader-one")
    await tokens.update(registry.id, "reader-two", scope_map="_repositories_pull")
    assert await maps.delete(registry.id, "readapp") is True


async def test_token_create_show_update_delete(
    maps: ScopeMapStore, tokens: TokenStore, registry: Registry
) -> None:
    await maps.put(registry.id, "ReadApp", READ)
    token, created = await tokens.put(registry.id, "CiReader", scope_map="readapp")
    assert created
    assert (token.name, token.scope_map, token.status, token.passwords) == (
        "CiReader",
        "ReadApp",
        TokenStatus.ENABLED,
        (),
    )
    assert await tokens.get(registry.id, "cireader") == token
    assert [t.name for t in await tokens.all(registry.id)] == ["CiReader"]

    token = await tokens.update(registry.id, "CIREADER", status=TokenStatus.DISABLED)
    assert (token.status, token.scope_map) == (TokenStatus.DISABLED, "ReadApp")
    token = await tokens.update(registry.id, "cireader", scope_map="_repositories_push")
    assert (token.status, token.scope_map) == (TokenStatus.DISABLED, "_repositories_push")
    token, created = await tokens.put(registry.id, "cireader", scope_map="readapp")
    assert not created and token.name == "CiReader" and token.status is TokenStatus.ENABLED

    assert await tokens.delete(registry.id, "CIREADER") is True
    assert await tokens.delete(registry.id, "CIREADER") is False
    with pytest.raises(TokenNotFound, match="'CIREADER' of registry 'testreg1'"):
        await tokens.get(registry.id, "CIREADER")


@pytest.mark.parametrize("name", ["testreg1", "TESTREG1"])
async def test_a_token_is_not_named_as_its_registry(
    tokens: TokenStore, registry: Registry, name: str
) -> None:
    with pytest.raises(TokenNameTaken, match="admin user") as caught:
        await tokens.put(registry.id, name, scope_map="_repositories_pull")
    assert name in caught.value.message


async def test_a_token_needs_a_scope_map_of_its_registry(
    maps: ScopeMapStore, tokens: TokenStore, registries: RegistryStore, registry: Registry
) -> None:
    other = await registries.create("otherreg1")
    await maps.put(other.id, "ReadApp", READ)
    with pytest.raises(ScopeMapNotFound, match="'readapp' of registry 'testreg1'"):
        await tokens.put(registry.id, "reader1", scope_map="readapp")
    await tokens.put(registry.id, "reader1", scope_map="_repositories_pull")
    with pytest.raises(ScopeMapNotFound):
        await tokens.update(registry.id, "reader1", scope_map="readapp")


async def test_passwords_are_hashed_and_regenerated_one_at_a_time(
    tokens: TokenStore, registry: Registry
) -> None:
    await tokens.put(registry.id, "pusher1", scope_map="_repositories_push")
    expiry = utcnow() + timedelta(days=30)
    token, generated = await tokens.generate(registry.id, "pusher1", expires_at=expiry)
    assert [g.name for g in generated] == ["password1", "password2"]
    assert generated[0].value != generated[1].value
    assert [p.name for p in token.passwords] == ["password1", "password2"]
    for stored, made in zip(token.passwords, generated, strict=True):
        assert stored.expires_at == expiry == made.expires_at
        assert made.value not in stored.value_hash
        assert verify_secret(stored.value_hash, made.value)

    again, regenerated = await tokens.generate(registry.id, "PUSHER1", ["password2"])
    assert [g.name for g in regenerated] == ["password2"]
    assert regenerated[0].expires_at is None
    assert again.passwords[0] == token.passwords[0]  # password1 kept as it was
    assert again.passwords[1].expires_at is None
    assert verify_secret(again.passwords[1].value_hash, regenerated[0].value)
    assert not verify_secret(again.passwords[1].value_hash, generated[1].value)

    kept = await tokens.update(registry.id, "pusher1", keep_passwords=["password2"])
    assert [p.name for p in kept.passwords] == ["password2"]


@pytest.mark.parametrize(
    ("names", "expiry_days", "message"),
    [
        (["password3"], None, "password3"),
        ([], None, "none"),
        (["password1"], -1, "in the past"),
    ],
)
async def test_bad_password_requests_are_refused(
    tokens: TokenStore,
    registry: Registry,
    names: list[str],
    expiry_days: int | None,
    message: str,
) -> None:
    await tokens.put(registry.id, "pusher1", scope_map="_repositories_push")
    expiry = utcnow() + timedelta(days=expiry_days) if expiry_days is not None else None
    with pytest.raises(InvalidAccessField, match=message):
        await tokens.generate(registry.id, "pusher1", names, expires_at=expiry)


async def test_generate_for_a_missing_token(tokens: TokenStore, registry: Registry) -> None:
    with pytest.raises(TokenNotFound):
        await tokens.generate(registry.id, "nosuch1")


async def test_login_reads_the_token_its_actions_and_passwords(
    maps: ScopeMapStore, tokens: TokenStore, registry: Registry
) -> None:
    await maps.put(registry.id, "ReadApp", READ)
    await tokens.put(registry.id, "CiReader", scope_map="readapp")
    assert (await tokens.login(registry.id, "CiReader")) is not None
    login = await tokens.login(registry.id, "cireader")
    assert login is not None
    assert (login.name, login.enabled, login.scope_map, login.actions, login.passwords) == (
        "CiReader",
        True,
        "ReadApp",
        READ,
        (),
    )
    token, generated = await tokens.generate(registry.id, "cireader")
    login = await tokens.login(registry.id, "CIREADER")
    assert login is not None and login.passwords == token.passwords
    assert verify_secret(login.passwords[0].value_hash, generated[0].value)

    await tokens.update(
        registry.id, "cireader", scope_map="_repositories_admin", status=TokenStatus.DISABLED
    )
    login = await tokens.login(registry.id, "cireader")
    assert login is not None and not login.enabled
    assert (login.scope_map, login.actions) == (
        "_repositories_admin",
        SYSTEM_SCOPE_MAPS["_repositories_admin"][1],
    )
    assert await tokens.login(registry.id, "nosuch1") is None


async def test_a_token_of_one_registry_is_not_seen_from_another(
    tokens: TokenStore, registries: RegistryStore, registry: Registry
) -> None:
    other = await registries.create("otherreg1")
    await tokens.put(registry.id, "reader1", scope_map="_repositories_pull")
    assert await tokens.login(other.id, "reader1") is None
    assert await tokens.all(other.id) == []
    with pytest.raises(TokenNotFound, match="registry 'otherreg1'"):
        await tokens.get(other.id, "reader1")
    assert await tokens.delete(other.id, "reader1") is False
    # The same name may be used in each registry.
    await tokens.put(other.id, "reader1", scope_map="_repositories_push")
    mine = await tokens.login(registry.id, "reader1")
    assert mine is not None and mine.scope_map == "_repositories_pull"


async def test_deleting_the_registry_deletes_its_maps_and_tokens(
    maps: ScopeMapStore, tokens: TokenStore, registries: RegistryStore, registry: Registry
) -> None:
    await maps.put(registry.id, "ReadApp", READ)
    await tokens.put(registry.id, "reader1", scope_map="readapp")
    await tokens.generate(registry.id, "reader1")
    await registries.delete(registry.name)
    again = await registries.create(registry.name)
    assert [m.name for m in await maps.all(again.id)] == list(SYSTEM_SCOPE_MAPS)
    assert await tokens.login(registry.id, "reader1") is None
    with pytest.raises(DomainError):
        await tokens.get(registry.id, "reader1")
