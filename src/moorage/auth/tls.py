"""TLS for `--tls` without the user's own certificate: a local CA made once in data_dir/tls,
and a server certificate it signs, re-issued when the names asked for change or it nears its
end. Clients trust ca.pem (the Azure tools through REQUESTS_CA_BUNDLE)."""

from __future__ import annotations

import ipaddress
import secrets
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from moorage.auth.files import private_dir, replace_private, replace_public

CA_DAYS = 3650
SERVER_DAYS = 397  # the longest lifetime browsers accept
RENEW_BEFORE = timedelta(days=30)
BACKDATE = timedelta(minutes=5)  # tolerate clients whose clock is a little behind
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class TlsFiles:
    cert: Path
    key: Path
    ca: Path | None  # None when the user brought their own certificate


def ensure_local_tls(
    data_dir: Path, hostnames: Sequence[str], addresses: Sequence[str]
) -> TlsFiles:
    directory = private_dir(data_dir / "tls")
    ca_cert, ca_key = _ensure_ca(directory / "ca.pem", directory / "ca-key.pem")
    names, ips = wanted_names(hostnames, addresses)
    files = TlsFiles(directory / "server.pem", directory / "server-key.pem", directory / "ca.pem")
    if not _still_good(files, ca_cert, names, ips):
        _issue_server(files, ca_cert, ca_key, names, ips)
    return files


def server_ssl_context(files: TlsFiles) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.cert, files.key)
    return context


def wanted_names(
    hostnames: Sequence[str], addresses: Sequence[str]
) -> tuple[set[str], set[IPAddress]]:
    """The SAN entries: "localhost", each hostname (port stripped) and "*.<name>" for those
    with a dot (OpenSSL ignores a wildcard over a single label, so "*.localhost" would never
    match), 127.0.0.1, ::1 and each address. Names that are IP addresses go with addresses."""
    names = {"localhost"}
    ips: set[IPAddress] = {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}
    for given in hostnames:
        host = _strip_port(given.strip()).rstrip(".").lower()
        if not host:
            raise ValueError(f"hostname {given!r} is empty")
        try:
            ips.add(ipaddress.ip_address(host))
            continue
        except ValueError:
            pass
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError(f"hostname {given!r} is not a valid DNS name") from None
        names.add(host)
        if "." in host and not host.startswith("*."):
            names.add(f"*.{host}")
    for given in addresses:
        try:
            address = ipaddress.ip_address(_strip_port(given.strip()))
        except ValueError:
            raise ValueError(f"address {given!r} is not an IP address") from None
        if not address.is_unspecified:  # 0.0.0.0 and :: are bind-all, never a peer's target
            ips.add(address)
    return names, ips


def _strip_port(host: str) -> str:
    if host.startswith("["):  # [::1]:5443
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:  # name:5443 (a bare IPv6 address has several colons)
        return host.split(":", 1)[0]
    return host


def _ensure_ca(
    cert_path: Path, key_path: Path
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    if cert_path.exists():
        if not key_path.exists():
            raise RuntimeError(
                f"{key_path} is missing while {cert_path} exists; restore the key, or remove "
                f"{cert_path} to make a new CA (clients must then trust the new one)"
            )
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise RuntimeError(f"{key_path} is not the EC key of a moorage CA")
        return cert, key
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "moorage"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"moorage local CA {secrets.token_hex(4)}"),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    replace_private(key_path, _key_pem(key))
    replace_public(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _still_good(
    files: TlsFiles, ca: x509.Certificate, names: set[str], ips: set[IPAddress]
) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
        key = serialization.load_pem_private_key(files.key.read_bytes(), password=None)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        issuer_kid = cert.extensions.get_extension_for_class(
            x509.AuthorityKeyIdentifier
        ).value.key_identifier
        ca_kid = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    has_names = {n.lower() for n in san.get_values_for_type(x509.DNSName)}
    has_ips = set(san.get_values_for_type(x509.IPAddress))
    return (
        issuer_kid == ca_kid
        and cert.public_key() == key.public_key()
        and names <= has_names
        and ips <= has_ips
        and cert.not_valid_after_utc - datetime.now(UTC) > RENEW_BEFORE
    )


def _issue_server(
    files: TlsFiles,
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    names: set[str],
    ips: set[IPAddress],
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    entries: list[x509.GeneralName] = [x509.DNSName("localhost")]
    entries += [x509.DNSName(n) for n in sorted(names - {"localhost"})]
    entries += [x509.IPAddress(ip) for ip in sorted(ips, key=lambda a: (a.version, int(a)))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + timedelta(days=SERVER_DAYS))
        .add_extension(x509.SubjectAlternativeName(entries), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    # Key first: a crash in between leaves a pair that does not match, re-issued next start.
    replace_private(files.key, _key_pem(key))
    replace_public(files.cert, cert.public_bytes(serialization.Encoding.PEM))


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
