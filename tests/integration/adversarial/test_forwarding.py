"""Forwarding-header tricks through a real nginx (Debian's), configured as docs/network.md says.

Issue 13 section 1: behind a trusted proxy that maintains one forwarding header, a client added
another (`Forwarded: for=<an allowed address>`) and was judged as that address. Here a registry
admits only 127.0.0.2; a client at 127.0.0.3 tries every forwarding header, alone and together,
through nginx configured for each of the three `--forwarded-header` choices, and is judged as
127.0.0.3 every time. The nginx blocks are read from docs/network.md, so the docs show what is
tested. Behind nginx terminating TLS, skopeo pushes and pulls with verification on (12 section 5).
"""

from __future__ import annotations

import re
import shlex
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from moorage.auth.tls import ensure_local_tls
from tests.support.containers import Tools, ok
from tests.support.management import Management, client_from
from tests.support.nginx import Nginx, running_nginx
from tests.support.oci import image_layout, make_image
from tests.support.registry_http import owner_auth, owner_authorization
from tests.support.server import Server, free_port

DOC = Path(__file__).parents[3] / "docs" / "network.md"
NGINX_BLOCK = re.compile(r"```nginx\n(# moorage serve [^\n]*)\n(.*?)```", re.S)
ALLOWED = "127.0.0.2"
CLIENT = "127.0.0.3"
REGISTRY = "fwdreg1"
# Every way a client might name the allowed address, alone and all at once.
TRICKS: list[list[tuple[str, str]]] = [
    [("Forwarded", f"for={ALLOWED}")],
    [("Forwarded", f'for="{ALLOWED}:4711";proto=https')],
    [("Forwarded", f"for={ALLOWED}, for={ALLOWED}")],
    [("X-Forwarded-For", ALLOWED)],
    [("X-Forwarded-For", f"{ALLOWED}, 127.0.0.1")],  # posing as a hop of the trusted proxy
    [("X-Forwarded-For", f"::ffff:{ALLOWED}")],
    [("X-Forwarded-For", ALLOWED), ("X-Forwarded-For", ALLOWED)],
    [("X-Real-IP", ALLOWED)],
    [("X-Real-IP", ALLOWED), ("X-Real-IP", ALLOWED)],
    [("x-real-ip", ALLOWED), ("x-forwarded-for", ALLOWED), ("forwarded", f"for={ALLOWED}")],
    [
        ("X-Client-IP", ALLOWED),
        ("True-Client-IP", ALLOWED),
        ("CF-Connecting-IP", ALLOWED),
        ("X-Original-Forwarded-For", ALLOWED),
        ("X-Forwarded", f"for={ALLOWED}"),
        ("Client-IP", ALLOWED),
    ],
]


@dataclass(frozen=True)
class Documented:
    serve: list[str]
    """The `moorage serve` options of the block's first line."""
    http: str
    """The block as an nginx template for tests/support/nginx.py."""


def documented(choice: str) -> Documented:
    """The docs' nginx block whose first line names `choice`, with its listen address, upstream
    and certificate made the test's."""
    for first, body in NGINX_BLOCK.findall(DOC.read_text()):
        serve = shlex.split(first.removeprefix("# moorage serve "))
        if choice in serve:
            http = body.replace("listen 80;", "listen 127.0.0.1:@port@;")
            http = http.replace("listen 443 ssl;", "listen 127.0.0.1:@port@ ssl;")
            http = http.replace("proxy_pass http://127.0.0.1:5000;", "proxy_pass @upstream@;")
            http = re.sub(r"ssl_certificate +\S+;", "ssl_certificate @cert@;", http)
            http = re.sub(r"ssl_certificate_key +\S+;", "ssl_certificate_key @key@;", http)
            assert "@port@" in http and "@upstream@" in http, body
            return Documented(serve, http)
    raise AssertionError(f"docs/network.md has no nginx block for {choice}")


@dataclass(frozen=True)
class Proxied:
    server: Server
    nginx: Nginx

    def get(
        self, source: str, headers: list[tuple[str, str]], path: str = "/v2/"
    ) -> httpx.Response:
        """GET through nginx from `source`, signed in, with `headers` as sent (repeats kept)."""
        sent = [
            ("Host", f"{REGISTRY}.localhost:{self.server.port}"),
            ("Authorization", owner_authorization(self.server)),
            *headers,
        ]
        with client_from(source, trust_env=False) as c:
            return c.get(f"http://{self.nginx.address}{path}", headers=sent)


@pytest.fixture(
    scope="module", params=["X-Forwarded-For", "Forwarded", "X-Real-IP"], ids=lambda p: p
)
def proxied(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proxied]:
    block = documented(request.param)
    root = tmp_path_factory.mktemp("forwarding")
    server = Server(root / "data", free_port(), extra_args=block.serve).start()
    try:
        mgmt = Management(server)
        mgmt.create(REGISTRY)
        mgmt.update(
            REGISTRY, networkRuleSet={"defaultAction": "Deny", "ipRules": [{"value": ALLOWED}]}
        )
        mgmt.close()
        upstream = f"http://{server.address}"
        with running_nginx(root / "nginx", block.http, upstream=upstream) as nginx:
            yield Proxied(server, nginx)
    finally:
        server.stop()


def judged(response: httpx.Response) -> str:
    """The address the registry judged: from check-health's header when let in, from the
    refusal's detail when not."""
    if response.status_code == 200:
        return response.headers["X-Moorage-Client-Address"]
    assert response.status_code in (401, 403), response.text  # 401: the version check, for now
    error: dict[str, Any] = response.json()["errors"][0]
    assert error["code"] == "DENIED", error
    assert error["detail"]["peer"] == "127.0.0.1", error  # nginx
    return str(error["detail"]["client"])


def test_the_allowed_client_is_let_in_through_the_proxy(proxied: Proxied) -> None:
    assert judged(proxied.get(ALLOWED, [])) == ALLOWED
    assert proxied.get(CLIENT, []).status_code in (401, 403)


@pytest.mark.parametrize("trick", TRICKS, ids=lambda t: "+".join(h for h, _ in t))
def test_no_header_a_client_sends_changes_its_address(
    proxied: Proxied, trick: list[tuple[str, str]]
) -> None:
    assert judged(proxied.get(CLIENT, trick)) == CLIENT
    assert judged(proxied.get(CLIENT, trick, "/v2/_catalog")) == CLIENT
    # ... nor lets the allowed client be judged as anything else.
    spoofed = [(name, value.replace(ALLOWED, CLIENT)) for name, value in trick]
    assert judged(proxied.get(ALLOWED, spoofed)) == ALLOWED


@pytest.mark.parametrize("trick", TRICKS, ids=lambda t: "+".join(h for h, _ in t))
def test_headers_sent_past_the_proxy_change_nothing(
    proxied: Proxied, trick: list[tuple[str, str]]
) -> None:
    """Straight to moorage, from an address that is not a trusted proxy."""
    server = proxied.server
    with client_from(CLIENT, trust_env=False) as c:
        r = c.get(
            f"{server.url}/v2/",
            headers=[
                ("Host", f"{REGISTRY}.localhost:{server.port}"),
                ("Authorization", owner_authorization(server)),
                *trick,
            ],
        )
    assert r.status_code in (401, 403), r.text
    error = r.json()["errors"][0]
    assert error["detail"]["client"] == CLIENT
    assert "peer" not in error["detail"]


# --- behind nginx terminating TLS -------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Proxied, Path]]:
    """moorage on plain HTTP behind nginx terminating TLS, configured as the docs say; the
    certificate comes from moorage's own CA tooling. Yields the pair and the CA's directory
    (`ca.crt`, as skopeo's --cert-dir wants it)."""
    block = documented("--public-url")
    root = tmp_path_factory.mktemp("tls-proxy")
    files = ensure_local_tls(root / "certs", ["localhost"], ["127.0.0.1"])
    ca_dir = root / "ca"
    ca_dir.mkdir()
    assert files.ca is not None
    (ca_dir / "ca.crt").write_bytes(files.ca.read_bytes())
    port = free_port()
    serve = [
        {"registry.example.com": f"localhost:{port}"}.get(
            arg, arg.replace("https://registry.example.com", f"https://127.0.0.1:{port}")
        )
        for arg in block.serve
    ]
    server = Server(root / "data", free_port(), extra_args=serve).start()
    try:
        mgmt = Management(server)
        mgmt.create(REGISTRY)
        mgmt.close()
        with running_nginx(
            root / "nginx",
            block.http,
            port=port,
            upstream=f"http://{server.address}",
            cert=files.cert,
            key=files.key,
        ) as nginx:
            yield Proxied(server, nginx), ca_dir
    finally:
        server.stop()


def test_the_challenge_says_https_behind_the_tls_proxy(tls_proxy: tuple[Proxied, Path]) -> None:
    proxied, ca_dir = tls_proxy
    base = f"https://{proxied.nginx.address}"
    verify = ssl.create_default_context(cafile=str(ca_dir / "ca.crt"))
    with httpx.Client(verify=verify, trust_env=False) as c:
        r = c.get(f"{base}/v2/")
        assert r.status_code == 401, r.text
        assert r.headers["WWW-Authenticate"].startswith(f'Bearer realm="{base}/oauth2/token"')
        login_server = f"{REGISTRY}.localhost:{proxied.nginx.port}"
        r = c.get(f"{base}/v2/", headers={"Host": login_server})
        assert f'realm="https://{login_server}/oauth2/token"' in r.headers["WWW-Authenticate"]
    # Straight to moorage from an untrusted address, X-Forwarded-Proto changes nothing.
    with client_from(CLIENT, trust_env=False) as c:
        r = c.get(
            f"{proxied.server.url}/v2/",
            headers={"X-Forwarded-Proto": "https", "Forwarded": "proto=https"},
        )
    assert r.headers["WWW-Authenticate"].startswith(f'Bearer realm="{proxied.server.url}/')
    assert proxied.server.url.startswith("http://")


def test_skopeo_pushes_and_pulls_through_the_tls_proxy(
    tls_proxy: tuple[Proxied, Path], tmp_path: Path
) -> None:
    proxied, ca_dir = tls_proxy
    image = make_image(seed=13, layers=2, layer_bytes=64 * 1024)
    source = image_layout(tmp_path / "src", image, "v1")
    ref = f"docker://{proxied.nginx.address}/proxied/app:v1"
    user, password = owner_auth(proxied.server)
    with Tools(tmp_path / "tools") as tools:
        tools.sign_in(proxied.nginx.address, user, password)
        ok(
            tools.skopeo(
                "copy",
                "--dest-cert-dir",
                str(ca_dir),
                "--preserve-digests",
                f"oci:{source}:v1",
                ref,
            )
        )
        ok(tools.skopeo("copy", "--src-cert-dir", str(ca_dir), ref, f"oci:{tmp_path / 'out'}:v1"))
    index = (tmp_path / "out" / "index.json").read_text()
    assert image.digest in index
