from __future__ import annotations

import asyncio
import os
import ssl
import stat
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from moorage.auth import tls
from moorage.auth.tls import (
    LoginServerCertificates,
    TlsFiles,
    ensure_local_tls,
    server_ssl_context,
    wanted_names,
)


def _san(path: Path) -> tuple[set[str], set[str]]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(san.get_values_for_type(x509.DNSName)), {
        str(ip) for ip in san.get_values_for_type(x509.IPAddress)
    }


def test_files_are_made_with_owner_only_keys(tmp_path: Path) -> None:
    files = ensure_local_tls(tmp_path, ["registry.example.com:5443"], ["192.0.2.7"])
    assert files == TlsFiles(
        tmp_path / "tls/server.pem",
        tmp_path / "tls/server-key.pem",
        tmp_path / "tls/ca.pem",
        tmp_path / "tls/ca-key.pem",
    )
    for key in (files.key, tmp_path / "tls/ca-key.pem"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    names, ips = _san(files.cert)
    assert names == {"localhost", "registry.example.com", "*.registry.example.com"}
    assert ips == {"127.0.0.1", "::1", "192.0.2.7"}


def test_certificate_profiles(tmp_path: Path) -> None:
    files = ensure_local_tls(tmp_path, [], [])
    assert files.ca is not None
    ca = x509.load_pem_x509_certificate(files.ca.read_bytes())
    server = x509.load_pem_x509_certificate(files.cert.read_bytes())
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    aki = server.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ski
    assert not server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    eku = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]
    server.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert ca.not_valid_after_utc - ca.not_valid_before_utc > timedelta(days=3649)
    lifetime = server.not_valid_after_utc - server.not_valid_before_utc
    assert timedelta(days=397) <= lifetime < timedelta(days=398)
    server.verify_directly_issued_by(ca)


@pytest.mark.parametrize(
    ("hostnames", "addresses", "names", "ips"),
    [
        ([], [], {"localhost"}, {"127.0.0.1", "::1"}),
        (["localhost:5000"], [], {"localhost"}, {"127.0.0.1", "::1"}),
        (["Reg.Example.COM."], [], {"localhost", "reg.example.com", "*.reg.example.com"}, set()),
        (["myreg.localhost"], [], {"localhost", "myreg.localhost", "*.myreg.localhost"}, set()),
        (["intranet"], [], {"localhost", "intranet"}, set()),
        (["10.1.2.3:443", "[fd00::1]:443"], [], {"localhost"}, {"10.1.2.3", "fd00::1"}),
        # bind-all addresses are not names a client connects to
        ([], ["0.0.0.0", "::", "10.0.0.9"], {"localhost"}, {"10.0.0.9"}),  # noqa: S104
    ],
)
def test_wanted_names(
    hostnames: Sequence[str], addresses: Sequence[str], names: set[str], ips: set[str]
) -> None:
    got_names, got_ips = wanted_names(hostnames, addresses)
    assert got_names == names
    assert {str(ip) for ip in got_ips} == ips | {"127.0.0.1", "::1"}


@pytest.mark.parametrize(
    ("hostnames", "addresses", "says"),
    [([""], [], "empty"), ([], ["not-an-ip"], "not an IP address")],
)
def test_bad_names(hostnames: list[str], addresses: list[str], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        wanted_names(hostnames, addresses)


def test_reissued_only_when_needed_and_the_ca_is_kept(tmp_path: Path) -> None:
    files = ensure_local_tls(tmp_path, ["a.example.com"], [])
    assert files.ca is not None
    ca, ca_key = files.ca.read_bytes(), (tmp_path / "tls/ca-key.pem").read_bytes()
    first = files.cert.read_bytes()
    assert ensure_local_tls(tmp_path, ["a.example.com"], []).cert.read_bytes() == first
    assert ensure_local_tls(tmp_path, [], []).cert.read_bytes() == first  # a subset is covered
    ensure_local_tls(tmp_path, ["b.example.com"], ["10.9.9.9"])
    assert files.cert.read_bytes() != first
    names, ips = _san(files.cert)
    assert "b.example.com" in names and "10.9.9.9" in ips
    assert files.ca.read_bytes() == ca
    assert (tmp_path / "tls/ca-key.pem").read_bytes() == ca_key
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600


def test_reissued_when_it_expires_soon(tmp_path: Path) -> None:
    files = ensure_local_tls(tmp_path, [], [])
    ca_key = serialization.load_pem_private_key(
        (tmp_path / "tls/ca-key.pem").read_bytes(), password=None
    )
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    old = x509.load_pem_x509_certificate(files.cert.read_bytes())
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(old.subject)
        .issuer_name(old.issuer)
        .public_key(old.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=380))
        .not_valid_after(now + timedelta(days=10))
    )
    for extension in old.extensions:
        builder = builder.add_extension(extension.value, extension.critical)
    files.cert.write_bytes(
        builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
    )
    ensure_local_tls(tmp_path, [], [])
    renewed = x509.load_pem_x509_certificate(files.cert.read_bytes())
    assert renewed.not_valid_after_utc - now > timedelta(days=390)


def test_a_ca_without_its_key_is_not_replaced(tmp_path: Path) -> None:
    ensure_local_tls(tmp_path, [], [])
    (tmp_path / "tls/ca-key.pem").unlink()
    with pytest.raises(RuntimeError, match=r"ca-key\.pem is missing"):
        ensure_local_tls(tmp_path, [], [])


async def _handshake(port: int, cafile: Path, server_hostname: str) -> bytes:
    context = ssl.create_default_context(cafile=str(cafile))
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=context, server_hostname=server_hostname
    )
    try:
        return await reader.readexactly(5)
    finally:
        writer.close()
        await writer.wait_closed()


@pytest.mark.parametrize("server_hostname", ["localhost", "127.0.0.1", "x.reg.example.com"])
async def test_real_handshake(tmp_path: Path, server_hostname: str) -> None:
    files = ensure_local_tls(tmp_path, ["reg.example.com"], [])
    assert files.ca is not None

    async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"hello")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(greet, "127.0.0.1", 0, ssl=server_ssl_context(files))
    port = server.sockets[0].getsockname()[1]
    async with server:
        assert await _handshake(port, files.ca, server_hostname) == b"hello"
        with pytest.raises(ssl.SSLCertVerificationError):
            await _handshake(port, files.ca, "other.example.org")
        stranger = ensure_local_tls(tmp_path / "other", [], []).ca
        assert stranger is not None
        with pytest.raises(ssl.SSLCertVerificationError):
            await _handshake(port, stranger, "localhost")


def test_context_refuses_old_tls(tmp_path: Path) -> None:
    context = server_ssl_context(ensure_local_tls(tmp_path, [], []))
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


async def _greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"hello")
    await writer.drain()
    writer.close()


async def _served_names(port: int, cafile: Path, server_hostname: str) -> set[str]:
    """The DNS names of the certificate served for `server_hostname`, verified against
    `cafile` (SSLCertVerificationError when it does not name `server_hostname`)."""
    context = ssl.create_default_context(cafile=str(cafile))
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=context, server_hostname=server_hostname
    )
    try:
        assert await reader.readexactly(5) == b"hello"
        peer = writer.get_extra_info("peercert")
        return {value for kind, value in peer["subjectAltName"] if kind == "DNS"}
    finally:
        writer.close()
        await writer.wait_closed()


@pytest.mark.parametrize("memory", ["memfd", "pipes"])
async def test_each_login_server_gets_its_own_certificate(
    tmp_path: Path, memory: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if memory == "pipes":  # what systems without memfd_create use
        monkeypatch.delattr(os, "memfd_create", raising=False)
    files = ensure_local_tls(tmp_path, ["localhost"], [])
    assert files.ca is not None
    context = server_ssl_context(files, login_server_suffix="localhost:5443")
    server = await asyncio.start_server(_greet, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    async with server:
        assert await _served_names(port, files.ca, "myregistry1.localhost") == {
            "myregistry1.localhost",
            "localhost",
        }
        assert await _served_names(port, files.ca, "MyRegistry2.LOCALHOST") == {
            "myregistry2.localhost",
            "localhost",
        }
        assert await _served_names(port, files.ca, "localhost") == {"localhost"}
        # Not <registry name>.localhost: the base certificate, which does not name them.
        for other in [
            "evil.example",
            "a.b.localhost",
            "myregistry1.b.localhost",
            "abcd.localhost",  # 4 characters
            f"{'a' * 51}.localhost",  # 51
            "my-registry.localhost",
            "myregistry1.localhost.evil.example",
            "myregistry1.localhostx",
        ]:
            with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
                await _served_names(port, files.ca, other)
    assert sorted(p.name for p in (tmp_path / "tls").iterdir()) == [
        "ca-key.pem",
        "ca.pem",
        "server-key.pem",
        "server.pem",
    ]  # nothing written per name


def test_a_login_server_certificate_is_the_base_one_with_its_name(tmp_path: Path) -> None:
    files = ensure_local_tls(tmp_path, ["reg.example.com:443"], ["192.0.2.7"])
    assert files.ca is not None
    issued = LoginServerCertificates(files, "reg.example.com:443")._issue(
        "myregistry1.reg.example.com"
    )
    cert = x509.load_pem_x509_certificate(issued)
    base = x509.load_pem_x509_certificate(files.cert.read_bytes())
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(files.ca.read_bytes()))
    assert cert.public_key() == base.public_key()  # the same server key
    assert cert.not_valid_before_utc == base.not_valid_before_utc
    assert cert.not_valid_after_utc == base.not_valid_after_utc
    assert cert.serial_number != base.serial_number
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    base_san = base.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert next(iter(san)) == x509.DNSName("myregistry1.reg.example.com")
    assert set(san) == set(base_san) | {x509.DNSName("myregistry1.reg.example.com")}
    others = {e.oid: e for e in cert.extensions if e.oid != san.oid}
    assert others == {e.oid: e for e in base.extensions if e.oid != san.oid}


@pytest.mark.parametrize(
    ("suffix", "server_name", "login_server"),
    [
        ("localhost:5000", "myregistry1.localhost", "myregistry1.localhost"),
        ("localhost", "MyRegistry1.LocalHost", "myregistry1.localhost"),
        ("reg.example.com:443", "abcde.reg.example.com", "abcde.reg.example.com"),
        ("reg.example.com.", "abcde.reg.example.com", "abcde.reg.example.com"),
        ("localhost", "abcde.reg.example.com", None),
        ("localhost", "localhost", None),
        ("localhost", None, None),
        ("localhost", "", None),
        ("localhost", "abcde\n.localhost", None),
        ("localhost", "abcdé.localhost", None),
        ("localhost", ".localhost", None),
        ("10.0.0.1:5000", "abcde.10.0.0.1", None),  # an address is no suffix for names
        ("", "abcde.localhost", None),
    ],
)
def test_login_server_names(
    tmp_path: Path, suffix: str, server_name: str | None, login_server: str | None
) -> None:
    certificates = LoginServerCertificates(ensure_local_tls(tmp_path, [], []), suffix)
    assert certificates.login_server(server_name) == login_server
    assert (certificates.context_for(server_name) is None) == (login_server is None)


def test_the_cache_is_bounded_least_recent_first(tmp_path: Path) -> None:
    certificates = LoginServerCertificates(
        ensure_local_tls(tmp_path, [], []), "localhost", capacity=2
    )
    first = certificates.context_for("registry1.localhost")
    second = certificates.context_for("registry2.localhost")
    assert first is not None and second is not None
    assert certificates.context_for("REGISTRY1.localhost") is first  # cached, now most recent
    certificates.context_for("registry3.localhost")  # evicts registry2
    assert len(certificates) == 2
    assert certificates.context_for("registry1.localhost") is first
    assert certificates.context_for("registry2.localhost") is not second  # made again
    assert len(certificates) == 2


async def test_a_users_certificate_is_served_as_is(tmp_path: Path) -> None:
    theirs = ensure_local_tls(tmp_path / "their-pki", ["localhost"], [])
    assert theirs.ca is not None
    context = server_ssl_context(
        TlsFiles(theirs.cert, theirs.key, None), login_server_suffix="localhost:5443"
    )
    assert context.sni_callback is None
    server = await asyncio.start_server(_greet, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    async with server:
        assert await _served_names(port, theirs.ca, "localhost") == {"localhost"}
        with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
            await _served_names(port, theirs.ca, "myregistry1.localhost")
    with pytest.raises(ValueError, match="local CA"):
        LoginServerCertificates(TlsFiles(theirs.cert, theirs.key, None), "localhost")


async def test_a_certificate_that_cannot_be_made_falls_back_to_the_base_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    files = ensure_local_tls(tmp_path, [], [])
    assert files.ca is not None

    def broken(cert_pem: bytes, key_pem: bytes) -> ssl.SSLContext:
        raise ssl.SSLError("no room")

    monkeypatch.setattr(tls, "_context_from_memory", broken)
    context = server_ssl_context(files, login_server_suffix="localhost")
    server = await asyncio.start_server(_greet, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    async with server:
        with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
            await _served_names(port, files.ca, "myregistry1.localhost")
        assert await _served_names(port, files.ca, "localhost") == {"localhost"}
    assert "no certificate for login server 'myregistry1.localhost'" in caplog.text
