"""TLS for `--tls` without the user's own certificate: a local CA made once in data_dir/tls,
and a server certificate it signs, re-issued when the names asked for change or it nears its
end. Clients trust ca.pem (the Azure tools through REQUESTS_CA_BUNDLE).

Every registry answers at its login server `<name>.<suffix>`, by default `<name>.localhost`,
which no certificate on disk can name: OpenSSL ignores a wildcard over one label
("*.localhost"). So a client that asks (SNI) for a login server gets a certificate for that
exact name, signed by the local CA for the server's key and kept in memory only."""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
import ssl
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from moorage.auth.files import private_dir, replace_private, replace_public
from moorage.domain.errors import InvalidRegistryName
from moorage.domain.registry import check_registry_name

log = logging.getLogger("moorage.auth")

CA_DAYS = 3650
SERVER_DAYS = 397  # the longest lifetime browsers accept
RENEW_BEFORE = timedelta(days=30)
BACKDATE = timedelta(minutes=5)  # tolerate clients whose clock is a little behind
LOGIN_SERVER_CERTIFICATES = 1024  # login-server names whose context is kept (least recent go)
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class TlsFiles:
    cert: Path
    key: Path
    ca: Path | None  # None when the user brought their own certificate
    ca_key: Path | None = None  # the local CA's key, which signs login-server certificates


def ensure_local_tls(
    data_dir: Path, hostnames: Sequence[str], addresses: Sequence[str]
) -> TlsFiles:
    directory = private_dir(data_dir / "tls")
    ca_cert, ca_key = _ensure_ca(directory / "ca.pem", directory / "ca-key.pem")
    names, ips = wanted_names(hostnames, addresses)
    files = TlsFiles(
        directory / "server.pem",
        directory / "server-key.pem",
        directory / "ca.pem",
        directory / "ca-key.pem",
    )
    if not _still_good(files, ca_cert, names, ips):
        _issue_server(files, ca_cert, ca_key, names, ips)
    return files


def server_ssl_context(files: TlsFiles, *, login_server_suffix: str = "") -> ssl.SSLContext:
    """The server's context for `files`. With the local CA and a login-server suffix, a client
    asking for `<registry name>.<suffix host>` gets that name's certificate; a user's own
    certificate is served as is, for every name."""
    context = _new_context()
    context.load_cert_chain(files.cert, files.key)
    if files.ca is not None and files.ca_key is not None and login_server_suffix:
        context.sni_callback = LoginServerCertificates(files, login_server_suffix).choose
    return context


class LoginServerCertificates:
    """A context per login server, made when a client first asks for it (SNI): the base
    certificate's names and lifetime plus the login server's exact name, for the same server
    key (no key is made), signed by the local CA. Kept in memory, the `capacity` most recently
    asked for; any other name gets the base certificate."""

    def __init__(
        self,
        files: TlsFiles,
        login_server_suffix: str,
        *,
        capacity: int = LOGIN_SERVER_CERTIFICATES,
    ) -> None:
        if files.ca_key is None:
            raise ValueError("login-server certificates need the local CA's key")
        if capacity < 1:
            raise ValueError(f"capacity {capacity} is not a positive number of certificates")
        host = _strip_port(login_server_suffix.strip()).rstrip(".").lower()
        self._suffix_host = "" if _is_ip(host) else host  # "<name>.10.0.0.1" is no host name
        self._base = x509.load_pem_x509_certificate(files.cert.read_bytes())
        self._key_pem = files.key.read_bytes()
        self._ca_key = _load_ec_key(files.ca_key)
        self._capacity = capacity
        self._contexts: OrderedDict[str, ssl.SSLContext] = OrderedDict()
        self._lock = threading.Lock()  # handshakes may run on several threads

    def __len__(self) -> int:
        return len(self._contexts)

    def login_server(self, server_name: str | None) -> str | None:
        """`server_name` lower-cased when it is `<registry name>.<suffix host>`, else None."""
        if not server_name or not self._suffix_host:
            return None
        label, _, host = server_name.lower().partition(".")
        # isalnum() as well: the name rule's `$` would let a trailing newline through.
        if host != self._suffix_host or not (label.isascii() and label.isalnum()):
            return None
        try:
            check_registry_name(label)
        except InvalidRegistryName:
            return None
        return f"{label}.{host}"

    def context_for(self, server_name: str | None) -> ssl.SSLContext | None:
        """The context naming `server_name` when it is a login server's, else None."""
        name = self.login_server(server_name)
        if name is None:
            return None
        with self._lock:  # held while making one (about a millisecond): each name made once
            context = self._contexts.get(name)
            if context is None:
                context = _context_from_memory(self._issue(name), self._key_pem)
                self._contexts[name] = context
                if len(self._contexts) > self._capacity:
                    self._contexts.popitem(last=False)
            else:
                self._contexts.move_to_end(name)
            return context

    def choose(self, connection: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext) -> None:
        """The SNI callback: switch a login server's connection to its own certificate."""
        try:
            context = self.context_for(server_name)
        except (OSError, ValueError):  # ssl.SSLError is an OSError; serve the base certificate
            log.exception("no certificate for login server %r; serving the base one", server_name)
            return
        if context is not None:
            connection.context = context

    def _issue(self, name: str) -> bytes:
        base = self._base
        san = base.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        wanted = x509.DNSName(name)
        entries = [wanted, *(entry for entry in san if entry != wanted)]
        builder = (
            x509.CertificateBuilder()
            .subject_name(base.subject)
            .issuer_name(base.issuer)
            .public_key(base.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(base.not_valid_before_utc)
            .not_valid_after(base.not_valid_after_utc)
            .add_extension(x509.SubjectAlternativeName(entries), critical=False)
        )
        for extension in base.extensions:
            if not isinstance(extension.value, x509.SubjectAlternativeName):
                builder = builder.add_extension(extension.value, extension.critical)
        return builder.sign(self._ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def _new_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _context_from_memory(cert_pem: bytes, key_pem: bytes) -> ssl.SSLContext:
    """ssl loads a certificate and key from paths only: hand them over as /dev/fd/N, so that
    nothing is written to disk. A memfd on Linux (read twice: certificate, then key); a pipe
    each elsewhere (read once; both are far smaller than a pipe's buffer)."""
    context = _new_context()
    fds: list[int] = []
    try:
        if hasattr(os, "memfd_create"):
            fds.append(os.memfd_create("moorage-tls", os.MFD_CLOEXEC))
            os.write(fds[0], cert_pem + key_pem)
            context.load_cert_chain(f"/dev/fd/{fds[0]}")
        else:
            for data in (cert_pem, key_pem):
                read, write = os.pipe()
                fds.append(read)
                with open(write, "wb") as writer:
                    writer.write(data)
            context.load_cert_chain(f"/dev/fd/{fds[0]}", f"/dev/fd/{fds[1]}")
    finally:
        for fd in fds:
            os.close(fd)
    return context


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


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
        return x509.load_pem_x509_certificate(cert_path.read_bytes()), _load_ec_key(key_path)
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


def _load_ec_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise RuntimeError(f"{path} is not the EC key of a moorage CA")
    return key


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
