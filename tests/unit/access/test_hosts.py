from __future__ import annotations

import pytest

from moorage.access.hosts import registry_name_from_host


@pytest.mark.parametrize(
    ("host", "suffix", "expected"),
    [
        ("127.0.0.1:5000", "localhost:5000", None),
        ("localhost:5000", "localhost:5000", None),
        ("myreg1.localhost:5000", "localhost:5000", "myreg1"),
        ("MyReg1.LOCALHOST:5000", "localhost:5000", "myreg1"),
        ("myreg1.localhost:5000.", "localhost:5000", "myreg1"),
        ("myreg1.localhost", "localhost:5000", "myreg1"),
        ("myreg1.registry.example.com", "registry.example.com", "myreg1"),
        ("myreg1.registry.example.com:443", "registry.example.com", "myreg1"),
        ("registry.example.com", "registry.example.com", None),
        ("a.b.localhost:5000", "localhost:5000", "a.b"),
        ("[::1]:5000", "localhost:5000", None),
        ("evil.com", "localhost:5000", None),
    ],
)
def test_registry_name_from_host(host: str, suffix: str, expected: str | None) -> None:
    assert registry_name_from_host(host, suffix) == expected
