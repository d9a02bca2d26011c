from __future__ import annotations

import time

import pytest

from moorage.auth.secrets import hash_secret, new_secret, verify_secret, verify_unknown


def test_new_secrets_are_long_and_distinct() -> None:
    made = {new_secret() for _ in range(20)}
    assert len(made) == 20
    assert all(len(s) >= 40 for s in made)


def test_hash_round_trip_and_wrong_secret() -> None:
    secret = new_secret()
    hashed = hash_secret(secret)
    assert hashed.startswith("$argon2id$")
    assert secret not in hashed
    assert verify_secret(hashed, secret)
    assert not verify_secret(hashed, secret + "x")
    assert not verify_secret(hashed, "")


@pytest.mark.parametrize(
    "hashed",
    ["", "not a hash", "$argon2id$v=19$m=65536,t=3,p=4$bad", "$2b$12$abcdefghijklmnopqrstuv"],
)
def test_malformed_hash_is_false_not_an_error(hashed: str) -> None:
    assert verify_secret(hashed, "secret") is False


def test_unknown_costs_about_as_much_as_a_real_verify() -> None:
    hashed = hash_secret("right")
    verify_unknown("warm-up")  # the dummy hash is made on first use
    start = time.perf_counter()
    assert not verify_secret(hashed, "wrong")
    real = time.perf_counter() - start
    start = time.perf_counter()
    assert verify_unknown("wrong") is False
    dummy = time.perf_counter() - start
    assert dummy > real / 3
