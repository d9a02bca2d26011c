from __future__ import annotations

import pytest

from moorage.access.hosts import is_bare_host, registry_name_from_host, split_host

SUFFIX = "localhost:5000"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("myreg1.localhost:5000", ("myreg1.localhost", "5000")),
        ("MyReg1.LocalHost.:5000", ("myreg1.localhost", "5000")),
        ("myreg1.localhost.", ("myreg1.localhost", None)),
        ("[::1]:5000", ("::1", "5000")),
        ("[2001:DB8::1]", ("2001:db8::1", None)),
        ("127.0.0.1:5000", ("127.0.0.1", "5000")),
        ("", ("", None)),
    ],
)
def test_split_host(host: str, expected: tuple[str, str | None]) -> None:
    assert split_host(host) == expected


@pytest.mark.parametrize(
    ("host", "suffix", "expected"),
    [
        ("127.0.0.1:5000", SUFFIX, None),
        ("localhost:5000", SUFFIX, None),
        ("localhost.:5000", SUFFIX, None),
        ("myreg1.localhost:5000", SUFFIX, "myreg1"),
        ("MyReg1.LOCALHOST:5000", SUFFIX, "myreg1"),
        # A fully qualified name's trailing dot names the same host, with or without a port.
        ("myreg1.localhost.:5000", SUFFIX, "myreg1"),
        ("myreg1.localhost.", SUFFIX, "myreg1"),
        ("myreg1.localhost:5000.", SUFFIX, "myreg1"),
        ("myreg1.localhost", SUFFIX, "myreg1"),
        ("myreg1.localhost:6000", SUFFIX, "myreg1"),  # a proxy may publish another port
        ("myreg1.registry.example.com", "registry.example.com", "myreg1"),
        ("myreg1.registry.example.com.:443", "registry.example.com", "myreg1"),
        ("myreg1.registry.example.com:443", "registry.example.com:443", "myreg1"),
        ("registry.example.com", "registry.example.com", None),
        ("a.b.localhost:5000", SUFFIX, "a.b"),  # no registry has that name: 404 later
        ("[::1]:5000", SUFFIX, None),
        (".localhost:5000", SUFFIX, None),
        ("xlocalhost:5000", SUFFIX, None),
        ("myreg1.localhost.evil.com", SUFFIX, None),
        ("evil.com", SUFFIX, None),
    ],
)
def test_registry_name_from_host(host: str, suffix: str, expected: str | None) -> None:
    assert registry_name_from_host(host, suffix) == expected


@pytest.mark.parametrize(
    ("host", "bare"),
    [
        ("127.0.0.1:5000", True),
        ("127.0.0.1", True),
        ("[::1]:5000", True),
        ("[::ffff:127.0.0.1]:5000", True),
        ("localhost:5000", True),
        ("LOCALHOST.:5000", True),
        ("", True),
        ("registry.example.com:443", True),  # the public URL's host
        ("registry.example.com.", True),
        ("myreg1.example.org:5000", False),  # a name under another suffix
        ("example.org", False),
        ("localhost.example.org", False),
    ],
)
def test_is_bare_host(host: str, bare: bool) -> None:
    assert is_bare_host(host, SUFFIX, ("registry.example.com:443",)) is bare
