from __future__ import annotations

import pytest

from moorage.domain.errors import InvalidRegistryName, RegistryExists, RegistryNotFound
from moorage.domain.registry import DefaultAction, PublicNetworkAccess, RegistryChanges, Sku
from moorage.store.registries import RegistryStore


async def test_create_has_the_cloud_defaults(registries: RegistryStore) -> None:
    created = await registries.create("MyRegistry1", Sku.STANDARD)
    assert created.name == "MyRegistry1"
    assert created.login_server == "myregistry1.localhost:5000"
    assert created.sku is Sku.STANDARD
    assert created.public_network_access is PublicNetworkAccess.ENABLED
    assert created.network_rule_set.default_action is DefaultAction.ALLOW
    assert created.network_rule_set.ip_rules == ()
    assert created.created_at.tzinfo is not None


async def test_names_are_unique_regardless_of_case(registries: RegistryStore) -> None:
    await registries.create("myregistry1")
    with pytest.raises(RegistryExists):
        await registries.create("MYREGISTRY1")
    assert (await registries.get("MyRegistry1")).name == "myregistry1"


async def test_bad_name_and_unknown_name(registries: RegistryStore) -> None:
    with pytest.raises(InvalidRegistryName):
        await registries.create("bad-name")
    with pytest.raises(RegistryNotFound):
        await registries.get("nosuch1")


async def test_ensure_is_idempotent(registries: RegistryStore) -> None:
    first = await registries.ensure("default")
    second = await registries.ensure("default")
    assert first == second
    assert [r.name for r in await registries.all()] == ["default"]


class _Refused(Exception):
    pass


async def test_what_else_a_change_writes_lands_with_it_or_not_at_all(
    registries: RegistryStore,
) -> None:
    """A registry's update and what other stores write with it (its virtual-network rules)
    share one transaction: when the second part fails, the first is not kept either."""
    before = await registries.create("atomic1")

    seen: list[int] = []

    async def fails(conn: object, registry_id: int) -> None:
        seen.append(registry_id)
        raise _Refused

    changes = RegistryChanges(public_network_access=PublicNetworkAccess.DISABLED)
    with pytest.raises(_Refused):
        await registries.update("atomic1", changes, also=fails)
    after = await registries.get("atomic1")
    assert after.public_network_access is PublicNetworkAccess.ENABLED
    assert after.etag == before.etag
    assert seen == [before.id]

    with pytest.raises(_Refused):
        await registries.create("atomic2", changes=changes, also=fails)
    with pytest.raises(RegistryNotFound):
        await registries.get("atomic2")
