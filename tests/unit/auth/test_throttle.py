"""The login throttle, on a clock the tests move by hand.

`free_failures` failed attempts are allowed back to back; the attempt after them waits
`base_delay`, and each further failure doubles the wait, up to `max_delay`.
"""

from __future__ import annotations

from typing import Any

import pytest

from moorage.auth.throttle import LoginThrottle

A, B = "192.0.2.1", "192.0.2.2"


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


def _fail(throttle: LoginThrottle, clock: Clock, client: str, times: int) -> None:
    """`times` failed attempts, each made as soon as the client may try again."""
    for _ in range(times):
        clock.advance(throttle.retry_after(client))
        throttle.failed(client)


def test_free_failures_then_delays_doubling_up_to_max_delay(clock: Clock) -> None:
    throttle = LoginThrottle(
        free_failures=3, base_delay=1.0, max_delay=10.0, window=3600, clock=clock
    )
    for _ in range(2):
        assert throttle.retry_after(A) == 0
        throttle.failed(A)
        assert throttle.retry_after(A) == 0
    waits = []
    for _ in range(7):
        throttle.failed(A)  # the third failure uses up the free ones: the next attempt waits
        waits.append(throttle.retry_after(A))
        clock.advance(waits[-1])
        assert throttle.retry_after(A) == 0
    assert waits == [1, 2, 4, 8, 10, 10, 10]


def test_default_settings(clock: Clock) -> None:
    throttle = LoginThrottle(clock=clock)
    _fail(throttle, clock, A, 4)
    assert throttle.retry_after(A) == 0
    waits = []
    for _ in range(9):
        _fail(throttle, clock, A, 1)
        waits.append(throttle.retry_after(A))
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_retry_after_counts_down_in_whole_seconds_rounding_up(clock: Clock) -> None:
    throttle = LoginThrottle(free_failures=1, base_delay=2.5, max_delay=60, clock=clock)
    throttle.failed(A)
    assert throttle.retry_after(A) == 3  # 2.5 s
    clock.advance(0.5)
    assert throttle.retry_after(A) == 2  # 2.0 s exactly
    clock.advance(0.001)
    assert throttle.retry_after(A) == 2  # 1.999 s
    clock.advance(1.0)
    assert throttle.retry_after(A) == 1  # 0.999 s
    clock.advance(0.99)
    assert throttle.retry_after(A) == 1  # 0.009 s
    clock.advance(0.02)
    assert throttle.retry_after(A) == 0
    clock.advance(100)
    assert throttle.retry_after(A) == 0


def test_a_sub_second_delay_still_asks_for_one_second(clock: Clock) -> None:
    throttle = LoginThrottle(free_failures=1, base_delay=0.1, max_delay=1, clock=clock)
    throttle.failed(A)
    assert throttle.retry_after(A) == 1
    _fail(throttle, clock, A, 3)  # 0.2, 0.4, 0.8 s
    assert throttle.retry_after(A) == 1
    _fail(throttle, clock, A, 1)  # capped at 1 s
    assert throttle.retry_after(A) == 1


def test_success_clears_the_record(clock: Clock) -> None:
    throttle = LoginThrottle(free_failures=2, clock=clock)
    _fail(throttle, clock, A, 3)
    assert throttle.retry_after(A) == 2
    throttle.succeeded(A)
    assert throttle.retry_after(A) == 0
    # The free failures are free again.
    throttle.failed(A)
    assert throttle.retry_after(A) == 0
    throttle.failed(A)
    assert throttle.retry_after(A) == 1
    throttle.succeeded(B)  # a client with no record
    assert throttle.retry_after(B) == 0


def test_other_clients_are_not_affected(clock: Clock) -> None:
    throttle = LoginThrottle(free_failures=2, clock=clock)
    _fail(throttle, clock, A, 5)
    assert throttle.retry_after(A) == 8
    assert throttle.retry_after(B) == 0
    throttle.failed(B)
    assert throttle.retry_after(B) == 0
    throttle.failed(B)
    assert throttle.retry_after(B) == 1
    assert throttle.retry_after(A) == 8
    throttle.succeeded(B)
    assert throttle.retry_after(A) == 8
    throttle.succeeded(A)
    assert throttle.retry_after(A) == 0


def test_failures_older_than_the_window_are_forgotten(clock: Clock) -> None:
    throttle = LoginThrottle(free_failures=3, window=300, clock=clock)
    _fail(throttle, clock, A, 2)
    clock.advance(300)
    throttle.failed(A)  # 300 s after the first: still in the window, the third failure
    assert throttle.retry_after(A) == 1

    throttle.succeeded(A)
    _fail(throttle, clock, A, 2)
    clock.advance(300.5)
    throttle.failed(A)  # the window has passed: this is a first failure again
    assert throttle.retry_after(A) == 0
    throttle.failed(A)
    assert throttle.retry_after(A) == 0
    throttle.failed(A)
    assert throttle.retry_after(A) == 1


def test_the_window_runs_from_the_latest_penalty(clock: Clock) -> None:
    throttle = LoginThrottle(free_failures=2, window=100, max_delay=60, clock=clock)
    _fail(throttle, clock, A, 4)  # penalties of 1, 2, 4 s
    assert throttle.retry_after(A) == 4
    clock.advance(99)  # 99 s after the latest penalty, more than 100 s after the first failure
    throttle.failed(A)
    assert throttle.retry_after(A) == 8  # the doubling continues
    clock.advance(101)
    throttle.failed(A)  # the window has passed since the latest penalty: a first failure
    assert throttle.retry_after(A) == 0
    throttle.failed(A)
    assert throttle.retry_after(A) == 1


def test_a_penalty_longer_than_the_window_is_served_in_full(clock: Clock) -> None:
    throttle = LoginThrottle(free_failures=1, window=5, base_delay=10, max_delay=60, clock=clock)
    throttle.failed(A)
    assert throttle.retry_after(A) == 10
    clock.advance(6)  # past the window, not past the penalty
    assert throttle.retry_after(A) == 4
    throttle.failed(A)  # a failure while blocked is counted, not a fresh start
    assert throttle.retry_after(A) == 20


def test_the_bound_on_tracked_clients_drops_the_oldest(clock: Clock) -> None:
    """A dropped client's next failure is free again; a kept one's is penalised."""
    throttle = LoginThrottle(free_failures=2, max_clients=2, clock=clock)
    throttle.failed("a")
    throttle.failed("b")
    throttle.failed("c")  # three records: "a", the oldest, is dropped
    throttle.failed("b")  # kept: its second failure is penalised, and it is now the newest
    assert throttle.retry_after("b") == 1
    throttle.failed("d")  # drops "c", the oldest now
    throttle.failed("c")  # dropped: a first failure again (and "b" is dropped for it)
    assert throttle.retry_after("c") == 0
    assert throttle.retry_after("b") == 0  # its penalty went with its record
    throttle.failed("d")  # kept: penalised
    assert throttle.retry_after("d") == 1
    throttle.failed("a")  # dropped long ago: free
    assert throttle.retry_after("a") == 0


def test_a_huge_number_of_failures_stays_bounded(clock: Clock) -> None:
    throttle = LoginThrottle(free_failures=1, max_delay=1e30, clock=clock)
    for _ in range(200):
        throttle.failed(A)
    assert throttle.retry_after(A) == 2**32


@pytest.mark.parametrize(
    "settings",
    [
        {"free_failures": 0},
        {"window": 0},
        {"window": -1},
        {"base_delay": 0},
        {"max_delay": 0.5, "base_delay": 1},
    ],
)
def test_bad_settings_are_refused(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="max_delay >= base_delay"):
        LoginThrottle(clock=Clock(), **settings)


def test_attempts_in_flight_count_against_the_free_failures(clock: Clock) -> None:
    """A burst of parallel guesses gets no more checks than a series would."""
    throttle = LoginThrottle(free_failures=5, clock=clock)
    assert [throttle.begin("burst") for _ in range(8)] == [0, 0, 0, 0, 0, 1, 1, 1]
    for _ in range(5):
        throttle.failed("burst")
        throttle.end("burst")
    assert throttle.begin("burst") == 1  # the free failures are spent: a penalty
    assert throttle.begin("other") == 0  # another address is not affected
    clock.now += 1
    # After the penalty, one attempt at a time.
    assert throttle.begin("burst") == 0
    assert throttle.begin("burst") == 1
    throttle.end("burst")
    throttle.succeeded("burst")
    assert throttle.begin("burst") == 0
