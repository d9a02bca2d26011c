"""A credential's end is the end of what it issued: remembered logins, refresh tokens and access
tokens, checked against the real stores. The test clock never moves unless a test moves it, so
"at once" here means: with no cache expiring, only the store's change announcement."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from moorage.auth.callers import Unauthorized
from moorage.auth.dataplane import REFRESH_TOKEN_USER
from moorage.auth.registry_tokens import Source
from moorage.auth.secrets import hash_secret
from moorage.auth.tokens import InvalidToken
from moorage.domain.registry import Registry
from moorage.domain.repository_access import TokenStatus
from tests.unit.auth.conftest import World

A = "192.0.2.1"
Change = Callable[[World], Awaitable[Registry]]


async def _regenerate_admin(world: World, which: str = "password") -> Registry:
    new = f"regenerated-{which}"
    await world.credentials.put(
        world.registry.id,
        which,
        world.cipher.encrypt(new),
        await asyncio.to_thread(hash_secret, new),
    )
    return world.registry


async def _token(world: World, **changes: object) -> Registry:
    await world.tokens.update(world.registry.id, "pulltoken", **changes)  # type: ignore[arg-type]
    return world.registry


async def _regenerate_token_password(world: World) -> Registry:
    await world.tokens.generate(world.registry.id, "pulltoken", ["password1"])
    return world.registry


async def _delete_token(world: World) -> Registry:
    assert await world.tokens.delete(world.registry.id, "pulltoken")
    return world.registry


async def _disable_admin(world: World) -> Registry:
    return dataclasses.replace(world.registry, admin_user_enabled=False, etag="changed")


async def _reset_secret(world: World) -> Registry:
    await world.principals.reset_secret(world.principal_id)
    return world.registry


async def _delete_principal(world: World) -> Registry:
    assert await world.principals.delete(world.principal_id)
    return world.registry


# (who logs in, the change, what the refusal of its refresh token says)
ENDINGS: dict[str, tuple[str, Change, str]] = {
    "admin password regenerated": (
        "admin",
        _regenerate_admin,
        "the admin user's password was regenerated since",
    ),
    "admin user disabled": ("admin", _disable_admin, "the admin user of registry 'registrya' is"),
    "token password regenerated": (
        "token",
        _regenerate_token_password,
        "password1 of token 'pulltoken' was regenerated since",
    ),
    "token password deleted": (
        "token",
        lambda w: _token(w, keep_passwords=[]),
        "password1 of token 'pulltoken' was deleted",
    ),
    "token disabled": (
        "token",
        lambda w: _token(w, status=TokenStatus.DISABLED),
        "token 'pulltoken' is disabled",
    ),
    "token deleted": ("token", _delete_token, "token 'pulltoken' was deleted"),
    "principal secret reset": ("principal", _reset_secret, "the secret of service principal"),
    "principal deleted": ("principal", _delete_principal, "service principal '.*' was deleted"),
}


def _credentials(world: World, who: str) -> tuple[str, str]:
    return {
        "admin": ("registrya", world.admin_password),
        "token": ("pulltoken", world.token_password),
        "principal": (world.principal_id, world.principal_secret),
    }[who]


@pytest.mark.parametrize("ending", ENDINGS)
async def test_a_remembered_login_stops_at_once(world: World, ending: str) -> None:
    who, change, _ = ENDINGS[ending]
    username, password = _credentials(world, who)
    await world.auth.login(world.registry, username, password, A)
    registry = await change(world)
    with pytest.raises(Unauthorized):
        await world.auth.login(registry, username, password, A)


@pytest.mark.parametrize("ending", ENDINGS)
async def test_tokens_die_with_their_credential(world: World, ending: str) -> None:
    who, change, reason = ENDINGS[ending]
    username, password = _credentials(world, who)
    caller = await world.auth.login(world.registry, username, password, A)
    issue = world.registry_tokens
    refresh = issue.issue_refresh(world.registry, caller.kind, caller.name, source=caller.source)
    access = issue.issue_access(world.registry, caller.kind, caller.name, [], source=caller.source)
    # Both work, and keep working, until the change.
    for _ in range(2):
        await world.auth.from_refresh_token(world.registry, refresh)
        await world.auth.login(world.registry, REFRESH_TOKEN_USER, refresh, A)
        await world.auth.from_access_token(world.registry, access)

    registry = await change(world)
    with pytest.raises(Unauthorized, match=f"^refresh token refused: {reason}.*; log in again$"):
        await world.auth.from_refresh_token(registry, refresh)
    with pytest.raises(Unauthorized, match=f"^refresh token refused: {reason}"):
        await world.auth.login(registry, REFRESH_TOKEN_USER, refresh, A)
    with pytest.raises(Unauthorized, match=f"^access token refused: {reason}"):
        await world.auth.from_access_token(registry, access)


async def test_the_other_admin_password_regenerated_leaves_a_token_alone(world: World) -> None:
    caller = await world.auth.login(world.registry, "registrya", world.admin_password, A)
    assert caller.source is not None and caller.source.credential == "password"
    refresh = world.registry_tokens.issue_refresh(
        world.registry, "admin", "registrya", source=caller.source
    )
    await _regenerate_admin(world, "password2")
    assert (await world.auth.from_refresh_token(world.registry, refresh)).kind == "admin"
    # And a password made again with the same value is another generation all the same.
    await world.credentials.put(
        world.registry.id,
        "password",
        world.cipher.encrypt(world.admin_password),
        await asyncio.to_thread(hash_secret, world.admin_password),
    )
    with pytest.raises(Unauthorized, match="was regenerated since"):
        await world.auth.from_refresh_token(world.registry, refresh)


async def test_no_token_outlives_the_password_that_proved_it(world: World) -> None:
    expiry = datetime.now(UTC) + timedelta(hours=1)
    _, (generated,) = await world.tokens.generate(
        world.registry.id, "pulltoken", ["password2"], expires_at=expiry
    )
    caller = await world.auth.login(world.registry, "pulltoken", generated.value, A)
    source = caller.source
    assert source is not None and source.expires_at == int(expiry.timestamp())
    issue = world.registry_tokens
    refresh = issue.issue_refresh(world.registry, "token", "pulltoken", source=source)
    claims = jwt.decode(refresh, options={"verify_signature": False})
    assert claims["exp"] == int(expiry.timestamp())  # 1 h, not the 3 h of a refresh token
    # Renewal (the exchange issues again from the refresh token's own source) cannot extend it.
    renewed = await world.auth.from_refresh_token(world.registry, refresh)
    again = issue.issue_refresh(world.registry, "token", "pulltoken", source=renewed.source)
    assert jwt.decode(again, options={"verify_signature": False})["exp"] == claims["exp"]

    # Once the credential's expiry has passed, nothing more is issued from it, and what was
    # issued is refused (the claim's expiry is checked before any lookup).
    gone = dataclasses.replace(source, expires_at=int(time.time()) - 1)
    with pytest.raises(InvalidToken, match="the password2 that proved it has expired"):
        issue.issue_refresh(world.registry, "token", "pulltoken", source=gone)
    reason = await world.auth.sources.refusal(world.registry, "token", "pulltoken", gone)
    assert reason is not None and reason.startswith("password2 of token 'pulltoken' expired at")


async def test_a_refresh_token_that_names_no_credential_is_refused(world: World) -> None:
    legacy = world.registry_tokens.issue_refresh(world.registry, "admin", "registrya", source=None)
    with pytest.raises(Unauthorized, match="does not record the credential that issued it"):
        await world.auth.from_refresh_token(world.registry, legacy)


async def test_an_identity_token_binds_what_it_is_exchanged_for_to_the_secret(
    world: World,
) -> None:
    caller = await world.auth.from_management_token(world.registry, world.principal_id)
    assert caller.source is not None and caller.source.via == "identity"
    refresh = world.registry_tokens.issue_refresh(
        world.registry, "principal", world.principal_id, source=caller.source
    )
    assert (await world.auth.from_refresh_token(world.registry, refresh)).kind == "principal"
    generation = caller.source.generation
    await world.principals.reset_secret(world.principal_id)
    with pytest.raises(Unauthorized, match=r"secret of service principal .* was reset since"):
        await world.auth.from_refresh_token(world.registry, refresh)
    # An identity token of the old secret is exchanged for nothing more.
    with pytest.raises(Unauthorized, match="was reset since it was issued"):
        await world.auth.from_management_token(world.registry, world.principal_id, generation)


def test_a_source_round_trips_through_its_claim() -> None:
    for source in (Source("token", "password1", "ab12", 1_900_000_000), Source("a", "b", "c")):
        assert Source.from_claim(source.claim()) == source
    for bad in (None, "x", {"via": "a"}, {"via": "a", "cred": "b", "gen": 3}):
        assert Source.from_claim(bad) is None
    assert Source.from_claim({"via": "a", "cred": "b", "gen": "c", "exp": "soon"}) is None
