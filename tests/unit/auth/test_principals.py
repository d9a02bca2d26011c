from __future__ import annotations

import asyncio
import uuid

import pytest

from moorage.auth.principals import PrincipalStore, ServicePrincipal
from moorage.auth.roles import RoleAssignment
from moorage.domain.errors import PrincipalNotFound

SUB = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590"


async def test_tenant_is_made_once(principals: PrincipalStore) -> None:
    made = await asyncio.gather(*(principals.ensure_tenant() for _ in range(5)))
    assert len(set(made)) == 1
    assert str(uuid.UUID(made[0])) == made[0]
    assert await principals.ensure_tenant() == made[0]


async def test_create_and_authenticate(principals: PrincipalStore) -> None:
    created, secret = await principals.create("ci", trusted=True)
    assert str(uuid.UUID(created.app_id)) == created.app_id
    assert created.trusted
    assert len(secret) >= 40
    assert await principals.authenticate(created.app_id, secret) == created
    assert await principals.authenticate(created.app_id.upper(), secret) == created
    assert await principals.get(created.app_id) == created
    assert await principals.all() == [created]


@pytest.mark.parametrize(
    ("app_id", "given"),
    [
        ("same", "wrong"),
        ("5e297b11-61a7-4a81-96c6-c87db4ff5c5a", "same"),  # a GUID no principal has
        ("not-a-guid", "same"),
        ("same", ""),
    ],
)
async def test_refused(principals: PrincipalStore, app_id: str, given: str) -> None:
    created, real = await principals.create("ci")
    app_id = created.app_id if app_id == "same" else app_id
    assert await principals.authenticate(app_id, real if given == "same" else given) is None


async def test_reset_secret(principals: PrincipalStore) -> None:
    created, old = await principals.create("ci")
    new = await principals.reset_secret(created.app_id)
    assert new != old
    assert await principals.authenticate(created.app_id, old) is None
    assert await principals.authenticate(created.app_id, new) == created
    with pytest.raises(PrincipalNotFound, match="not found"):
        await principals.reset_secret(str(uuid.uuid4()))


async def test_set_trusted(principals: PrincipalStore) -> None:
    created, _ = await principals.create("ci")
    changed = await principals.set_trusted(created.app_id, True)
    assert changed.trusted
    assert (await principals.get(created.app_id)) == changed
    with pytest.raises(PrincipalNotFound):
        await principals.set_trusted(str(uuid.uuid4()), True)


async def test_delete_takes_the_assignments(principals: PrincipalStore) -> None:
    created, secret = await principals.create("ci")
    await principals.assign(created.app_id, "Owner", SUB)
    assert await principals.delete(created.app_id)
    assert not await principals.delete(created.app_id)
    assert await principals.get(created.app_id) is None
    assert await principals.authenticate(created.app_id, secret) is None
    assert await principals.assignments(created.app_id) == []


async def test_assign_is_idempotent_and_canonical(principals: PrincipalStore) -> None:
    created, _ = await principals.create("ci")
    first = await principals.assign(created.app_id, "owner", SUB + "/")
    assert first == RoleAssignment("Owner", SUB)
    assert await principals.assign(created.app_id, "Owner", SUB.upper()) == first
    reader = await principals.assign(created.app_id, "Reader", SUB)
    assert await principals.assignments(created.app_id) == [first, reader]
    assert await principals.unassign(created.app_id, "OWNER", SUB.upper())
    assert not await principals.unassign(created.app_id, "Owner", SUB)
    assert await principals.assignments(created.app_id) == [reader]


@pytest.mark.parametrize(
    ("role", "scope", "error", "message"),
    [
        ("Admin", SUB, ValueError, "unknown role 'Admin'"),
        ("Owner", "subscriptions/x", ValueError, "not a resource id"),
    ],
)
async def test_assign_refuses(
    principals: PrincipalStore, role: str, scope: str, error: type[Exception], message: str
) -> None:
    created, _ = await principals.create("ci")
    with pytest.raises(error, match=message):
        await principals.assign(created.app_id, role, scope)


async def test_assign_to_unknown_principal(principals: PrincipalStore) -> None:
    with pytest.raises(PrincipalNotFound):
        await principals.assign(str(uuid.uuid4()), "Owner", SUB)


@pytest.mark.parametrize("name", ["", "   ", "x" * 129])
async def test_display_name_is_checked(principals: PrincipalStore, name: str) -> None:
    with pytest.raises(ValueError, match="display name"):
        await principals.create(name)


async def test_all_in_creation_order(principals: PrincipalStore) -> None:
    made: list[ServicePrincipal] = []
    for name in ("a", "b", "c"):
        made.append((await principals.create(name))[0])
    assert await principals.all() == made
