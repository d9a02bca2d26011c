"""The Authenticator over the real stores: logins, the throttle around them, remembered
logins and what a change of credentials does to them, tokens and their credentials."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import pytest

from moorage.auth.callers import Throttled, Unauthorized
from moorage.auth.dataplane import (
    CHECKS_PER_LOGIN,
    LOGIN_CACHE_SECONDS,
    REFRESH_TOKEN_USER,
    WRONG_LOGIN,
    login_identity,
)
from moorage.auth.throttle import LoginThrottle
from moorage.domain.access import Action, Permissions
from moorage.domain.repository_access import TokenStatus
from tests.unit.auth.conftest import World


@pytest.mark.parametrize(
    "who",
    [
        "unknown user",
        "unknown GUID",
        "admin user, wrong password",
        "admin user in another case, wrong password",
        "admin user disabled",
        "token with one password, wrong password",
        "token disabled",
        "principal, wrong secret",
    ],
)
async def test_every_failed_login_costs_the_same(world: World, who: str) -> None:
    registry = world.registry
    username = {
        "unknown user": "nosuchuser",
        "unknown GUID": str(uuid.uuid4()),
        "admin user, wrong password": "registrya",
        "admin user in another case, wrong password": "RegistryA",
        "admin user disabled": "registrya",
        "token with one password, wrong password": "pulltoken",
        "token disabled": "pulltoken",
        "principal, wrong secret": world.principal_id,
    }[who]
    given = "wrong"
    if who == "admin user disabled":
        registry = dataclasses.replace(registry, admin_user_enabled=False)
        given = world.admin_password
    if who == "token disabled":
        await world.tokens.update(registry.id, "pulltoken", status=TokenStatus.DISABLED)
        given = world.token_password
    with pytest.raises(Unauthorized) as refused:
        await world.auth.login(registry, username, given, "192.0.2.1")
    assert refused.value.message == WRONG_LOGIN
    assert world.principals.verifications == CHECKS_PER_LOGIN


@pytest.mark.parametrize(
    ("username", "password"),
    [("", "x"), ("u" * 257, "x"), ("pulltoken", "p" * 4097)],
)
async def test_oversized_or_empty_credentials_are_refused_unchecked(
    world: World, username: str, password: str
) -> None:
    with pytest.raises(Unauthorized, match=WRONG_LOGIN):
        await world.auth.login(world.registry, username, password, "192.0.2.1")
    assert world.principals.verifications == 0


async def test_right_credentials_log_in(world: World) -> None:
    auth, registry = world.auth, world.registry
    admin = await auth.login(registry, "REGISTRYA", world.admin_password, "192.0.2.1")
    assert (admin.kind, admin.name) == ("admin", "registrya")
    assert admin.permissions == Permissions.everything()

    token = await auth.login(registry, "PullToken", world.token_password, "192.0.2.1")
    assert (token.kind, token.name) == ("token", "pulltoken")
    assert token.may(Action.PULL, "any/repo") and not token.may(Action.PUSH, "any/repo")
    assert not token.may_list()

    principal = await auth.login(
        registry, world.principal_id.upper(), world.principal_secret, "192.0.2.1"
    )
    assert (principal.kind, principal.name) == ("principal", world.principal_id)
    assert principal.permissions == Permissions.of_roles(["AcrPush"])


A, B, C = "192.0.2.1", "192.0.2.2", "192.0.2.3"


async def _fail(world: World, username: str, client: str, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(Unauthorized):
            await world.auth.login(world.registry, username, "wrong", client)


async def test_throttle_after_five_failures_per_address_and_identity(world: World) -> None:
    auth, registry = world.auth, world.registry
    pulltoken = login_identity(registry, "pulltoken")
    await _fail(world, "pulltoken", A, 5)
    assert world.principals.verifications == 5 * CHECKS_PER_LOGIN

    # Even the right password is not checked now.
    with pytest.raises(Throttled) as throttled:
        await auth.login(registry, "pulltoken", world.token_password, A)
    assert throttled.value.retry_after == 1
    assert A in throttled.value.message and "'pulltoken'" in throttled.value.message
    assert world.principals.verifications == 5 * CHECKS_PER_LOGIN

    # Another address is not affected, nor another identity from the same address.
    await _fail(world, "pulltoken", B)
    assert (await auth.login(registry, "pulltoken", world.token_password, B)).name == "pulltoken"
    assert (await auth.login(registry, "registrya", world.admin_password, A)).kind == "admin"

    # Once the wait is over (and the logins above are no longer remembered), a success clears
    # the record of that address and identity: the free failures are free again.
    world.clock.now += LOGIN_CACHE_SECONDS + 1
    spent = world.principals.verifications
    await auth.login(registry, "pulltoken", world.token_password, A)
    assert world.principals.verifications == spent + 1
    await _fail(world, "pulltoken", A, 4)
    assert auth.throttle.retry_after(A, pulltoken) == 0


async def test_a_success_as_another_identity_clears_nothing(world: World) -> None:
    """The issue's first pattern: a good login to what the guesser owns, between guesses."""
    auth, registry = world.auth, world.registry
    admin = login_identity(registry, "registrya")
    for _ in range(3):
        world.clock.now += LOGIN_CACHE_SECONDS + 0.1  # the good login is checked each time
        await auth.login(registry, "pulltoken", world.token_password, A)  # its own token
        for _ in range(2):
            world.clock.now += auth.throttle.retry_after(A, admin)
            await _fail(world, "registrya", A)
    # Six failures: the free five and one penalty, however many successes came between.
    assert auth.throttle.retry_after(A, admin) == 2


async def test_a_remembered_success_leaves_the_throttle_alone(world: World) -> None:
    auth, registry = world.auth, world.registry
    pulltoken = login_identity(registry, "pulltoken")
    await _fail(world, "pulltoken", A, 5)
    # The same credentials, checked from another address: remembered for a few seconds, and
    # served from memory to the throttled address too (it knows the password), without
    # clearing what its failures earned.
    await auth.login(registry, "pulltoken", world.token_password, B)
    spent = world.principals.verifications
    assert (await auth.login(registry, "pulltoken", world.token_password, A)).name == "pulltoken"
    assert world.principals.verifications == spent
    assert auth.throttle.retry_after(A, pulltoken) == 1


async def test_parallel_logins_with_the_right_password_all_succeed(world: World) -> None:
    """The issue's second pattern: eight first pulls at once from one address."""
    auth, registry = world.auth, world.registry
    callers = await asyncio.gather(
        *(auth.login(registry, "pulltoken", world.token_password, A) for _ in range(8))
    )
    assert {c.name for c in callers} == {"pulltoken"}
    assert world.principals.verifications == 1  # one check, the others waited for it


async def test_parallel_guesses_take_turns(world: World) -> None:
    """Nothing is counted before its result is known, and a burst gets no more checks than
    a series: five wrong guesses are checked, the three after them wait."""
    auth, registry = world.auth, world.registry
    answers = await asyncio.gather(
        *(auth.login(registry, "pulltoken", f"guess-{i}", A) for i in range(8)),
        return_exceptions=True,
    )
    kinds = sorted(type(a).__name__ for a in answers)
    assert kinds == ["Throttled"] * 3 + ["Unauthorized"] * 5
    assert world.principals.verifications == 5 * CHECKS_PER_LOGIN


async def test_guesses_spread_over_addresses_meet_the_identity_count(world: World) -> None:
    auth, registry = world.auth, world.registry
    auth.throttle = LoginThrottle(free_failures=5, identity_free_failures=6, clock=world.clock)
    await auth.login(registry, "pulltoken", world.token_password, C)  # an honest client
    world.clock.now += LOGIN_CACHE_SECONDS + 0.1
    await _fail(world, "pulltoken", A, 3)
    await _fail(world, "pulltoken", B, 3)  # six from two addresses: the identity waits
    with pytest.raises(Throttled):
        await auth.login(registry, "pulltoken", world.token_password, "192.0.2.4")
    # The address that proved the identity before is not held back by someone else's guesses.
    assert (await auth.login(registry, "pulltoken", world.token_password, C)).name == "pulltoken"
    # A refresh token is signed, not guessed: never throttled.
    caller = await auth.login(registry, "registrya", world.admin_password, A)
    refresh = world.registry_tokens.issue_refresh(
        registry, "admin", "registrya", source=caller.source
    )
    await _fail(world, "registrya", A, 5)
    assert auth.throttle.retry_after(A, login_identity(registry, "registrya")) == 1
    assert (await auth.login(registry, REFRESH_TOKEN_USER, refresh, A)).kind == "admin"


async def test_a_success_is_remembered_for_a_few_seconds(world: World) -> None:
    auth, registry = world.auth, world.registry
    first = await auth.login(registry, "pulltoken", world.token_password, "192.0.2.1")
    spent = world.principals.verifications
    assert spent == 1
    again = await auth.login(registry, "PULLTOKEN", world.token_password, "192.0.2.9")
    assert again == first
    assert world.principals.verifications == spent

    # Another password is checked, and wrong.
    with pytest.raises(Unauthorized):
        await auth.login(registry, "pulltoken", world.token_password + "x", "192.0.2.1")
    assert world.principals.verifications == spent + CHECKS_PER_LOGIN
    spent = world.principals.verifications

    # A changed registry (another etag) is checked again.
    changed = dataclasses.replace(registry, etag="changed")
    await auth.login(changed, "pulltoken", world.token_password, "192.0.2.1")
    assert world.principals.verifications == spent + 1
    spent += 1

    # And so is everything once the few seconds have passed.
    world.clock.now += LOGIN_CACHE_SECONDS + 0.1
    await auth.login(registry, "pulltoken", world.token_password, "192.0.2.1")
    assert world.principals.verifications == spent + 1


async def test_a_refresh_token_logs_in_without_argon2(world: World) -> None:
    auth, registry = world.auth, world.registry
    proved = await auth.login(registry, "pulltoken", world.token_password, A)
    spent = world.principals.verifications
    refresh = world.registry_tokens.issue_refresh(
        registry, "token", "pulltoken", source=proved.source
    )
    caller = await auth.login(registry, REFRESH_TOKEN_USER, refresh, A)
    assert (caller.kind, caller.name) == ("token", "pulltoken")
    assert caller.may(Action.PULL, "app") and not caller.may(Action.PUSH, "app")
    assert world.principals.verifications == spent

    access = world.registry_tokens.issue_access(registry, "token", "pulltoken", [])
    with pytest.raises(Unauthorized, match="refresh token refused: the token is an access"):
        await auth.login(registry, REFRESH_TOKEN_USER, access, A)
