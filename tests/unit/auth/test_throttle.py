"""The login throttle, on a clock the tests move by hand.

Per (address, identity): `free_failures` failed attempts are allowed back to back; the attempt
after them waits `base_delay`, and each further failure doubles the wait, up to `max_delay`.
Per identity, the same with `identity_free_failures`, except for addresses that proved it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from moorage.auth.throttle import LoginThrottle, TooManyFailures, principal_identity

A, B = "192.0.2.1", "192.0.2.2"
ME, YOU = "registry:1:me", "registry:1:you"


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _fail(
    throttle: LoginThrottle, clock: Clock, client: str, times: int, identity: str = ME
) -> None:
    """`times` failed attempts, each made as soon as the client may try again."""
    for _ in range(times):
        clock.advance(throttle.retry_after(client, identity))
        throttle.failed(client, identity)


def test_free_failures_then_delays_doubling_up_to_max_delay(clock: Clock) -> None:
    throttle = LoginThrottle(
        free_failures=3, base_delay=1.0, max_delay=10.0, window=3600, clock=clock
    )
    for _ in range(2):
        assert throttle.retry_after(A, ME) == 0
        throttle.failed(A, ME)
        assert throttle.retry_after(A, ME) == 0
    waits = []
    for _ in range(7):
        throttle.failed(A, ME)  # the third failure uses up the free ones: the next one waits
        waits.append(throttle.retry_after(A, ME))
        clock.advance(waits[-1])
        assert throttle.retry_after(A, ME) == 0
    assert waits == [1, 2, 4, 8, 10, 10, 10]


def test_default_settings(clock: Clock) -> None:
    throttle = LoginThrottle(clock=clock)
    _fail(throttle, clock, A, 4)
    assert throttle.retry_after(A, ME) == 0
    waits = []
    for _ in range(9):
        _fail(throttle, clock, A, 1)
        waits.append(throttle.retry_after(A, ME))
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_retry_after_counts_down_in_whole_seconds_rounding_up(clock: Clock) -> None:
    throttle = LoginThrottle(free_failures=1, base_delay=2.5, max_delay=60, clock=clock)
    throttle.failed(A, ME)
    waits = []
    for step in (0, 0.5, 0.001, 1.0, 0.99, 0.02, 100):
        clock.advance(step)
        waits.append(throttle.retry_after(A, ME))
    assert waits == [3, 2, 2, 1, 1, 0, 0]


def test_a_success_clears_its_own_address_and_identity_only(clock: Clock) -> None:
    throttle = LoginThrottle(free_failures=2, clock=clock)
    for client, identity in ((A, ME), (A, YOU), (B, ME)):
        for _ in range(3):
            throttle.failed(client, identity)
    assert throttle.retry_after(A, ME) == 2
    throttle.succeeded(A, YOU)  # another identity's success, from the same address
    assert throttle.retry_after(A, ME) == 2
    throttle.succeeded(B, ME)  # the same identity's success, from another address
    assert throttle.retry_after(A, ME) == 2
    throttle.succeeded(A, ME)
    assert throttle.retry_after(A, ME) == 0
    throttle.failed(A, ME)  # the free failures are free again
    assert throttle.retry_after(A, ME) == 0
    throttle.failed(A, ME)
    assert throttle.retry_after(A, ME) == 1


def test_the_identity_count_holds_back_addresses_that_never_proved_it(clock: Clock) -> None:
    throttle = LoginThrottle(free_failures=5, identity_free_failures=4, clock=clock)
    throttle.succeeded(B, ME)  # an honest client, earlier
    for client in ("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"):
        throttle.failed(client, ME)  # one guess each: no address used its free ones
    assert throttle.retry_after("10.0.0.5", ME) == 1  # but the identity did
    assert throttle.retry_after(A, ME) == 1
    assert throttle.retry_after(B, ME) == 0  # proven: not held back by others' guesses
    assert throttle.retry_after(A, YOU) == 0  # another identity is not affected
    throttle.succeeded(B, ME)
    assert throttle.retry_after(A, ME) == 1  # and a success does not forgive the guesses
    clock.advance(1)
    throttle.failed(A, ME)
    assert throttle.retry_after(A, ME) == 2


def test_proof_of_an_identity_lasts_proven_for(clock: Clock) -> None:
    throttle = LoginThrottle(identity_free_failures=1, proven_for=100, clock=clock)
    throttle.succeeded(B, ME)
    throttle.failed(A, ME)
    assert throttle.retry_after(B, ME) == 0
    clock.advance(100)
    throttle.failed(A, ME)
    assert throttle.retry_after(B, ME) == 2


def test_failures_older_than_the_window_are_forgotten(clock: Clock) -> None:
    throttle = LoginThrottle(free_failures=3, window=300, clock=clock)
    _fail(throttle, clock, A, 2)
    clock.advance(300)
    throttle.failed(A, ME)  # 300 s after the first: still in the window, the third failure
    assert throttle.retry_after(A, ME) == 1

    throttle.succeeded(A, ME)
    _fail(throttle, clock, A, 2)
    clock.advance(300.5)
    throttle.failed(A, ME)  # the window has passed: this is a first failure again
    throttle.failed(A, ME)
    assert throttle.retry_after(A, ME) == 0
    throttle.failed(A, ME)
    assert throttle.retry_after(A, ME) == 1


def test_the_window_runs_from_the_latest_penalty(clock: Clock) -> None:
    throttle = LoginThrottle(free_failures=2, window=100, max_delay=60, clock=clock)
    _fail(throttle, clock, A, 4)  # penalties of 1, 2, 4 s
    assert throttle.retry_after(A, ME) == 4
    clock.advance(99)  # 99 s after the latest penalty, more than 100 s after the first failure
    throttle.failed(A, ME)
    assert throttle.retry_after(A, ME) == 8  # the doubling continues
    clock.advance(101)
    throttle.failed(A, ME)  # the window has passed since the latest penalty: a first failure
    assert throttle.retry_after(A, ME) == 0


def test_a_penalty_longer_than_the_window_is_served_in_full(clock: Clock) -> None:
    throttle = LoginThrottle(free_failures=1, window=5, base_delay=10, max_delay=60, clock=clock)
    throttle.failed(A, ME)
    assert throttle.retry_after(A, ME) == 10
    clock.advance(6)  # past the window, not past the penalty
    assert throttle.retry_after(A, ME) == 4
    throttle.failed(A, ME)  # a failure while blocked is counted, not a fresh start
    assert throttle.retry_after(A, ME) == 20


def test_the_bound_on_records_drops_the_oldest(clock: Clock) -> None:
    """A dropped record's next failure is free again; a kept one's is penalised."""
    throttle = LoginThrottle(
        free_failures=2, identity_free_failures=100, max_records=2, clock=clock
    )
    throttle.failed("a", ME)
    throttle.failed("b", ME)
    throttle.failed("c", ME)  # three records: "a", the oldest, is dropped
    throttle.failed("b", ME)  # kept: its second failure is penalised, and it is now the newest
    assert throttle.retry_after("b", ME) == 1
    throttle.failed("a", ME)  # dropped: a first failure again (and "c" is dropped for it)
    assert throttle.retry_after("a", ME) == 0


def test_a_huge_number_of_failures_stays_bounded(clock: Clock) -> None:
    throttle = LoginThrottle(free_failures=1, max_delay=1e30, clock=clock)
    for _ in range(200):
        throttle.failed(A, ME)
    assert throttle.retry_after(A, ME) == 2**32


@pytest.mark.parametrize(
    "settings",
    [
        {"free_failures": 0},
        {"identity_free_failures": 0},
        {"window": 0},
        {"base_delay": 0},
        {"max_delay": 0.5, "base_delay": 1},
    ],
)
def test_bad_settings_are_refused(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="max_delay >= base_delay"):
        LoginThrottle(clock=Clock(), **settings)


def test_an_attempt_counts_what_it_was_told_and_nothing_else(clock: Clock) -> None:
    throttle = LoginThrottle(free_failures=1, clock=clock)
    with throttle.attempt(A, ME):
        pass  # no outcome (the check failed for another reason): nothing counted
    with pytest.raises(RuntimeError), throttle.attempt(A, ME):
        raise RuntimeError("the database went away")
    assert throttle.retry_after(A, ME) == 0
    with throttle.attempt(A, ME) as attempt:
        attempt.failed()
    with pytest.raises(TooManyFailures) as refused, throttle.attempt(A, ME):
        pass
    assert refused.value.retry_after == 1
    clock.advance(1)
    with throttle.attempt(A, ME) as attempt:
        attempt.succeeded()
    assert throttle.retry_after(A, ME) == 0


async def test_attempts_of_one_address_and_identity_take_turns(clock: Clock) -> None:
    throttle = LoginThrottle(clock=clock)
    inside: list[str] = []
    most = 0

    async def attempt(client: str, identity: str) -> None:
        nonlocal most
        async with throttle.turn(client, identity):
            inside.append(client + identity)
            most = max(most, inside.count(client + identity))
            await asyncio.sleep(0.01)
            inside.remove(client + identity)

    await asyncio.gather(*(attempt(A, ME) for _ in range(5)), attempt(B, ME), attempt(A, YOU))
    assert most == 1
    assert not throttle._turns


def test_a_principal_is_one_identity_in_any_case() -> None:
    app_id = "1F0D5E5C-4A6B-4E5A-9C1D-2B3C4D5E6F70"
    assert principal_identity(app_id) == principal_identity(app_id.lower() + " ")
