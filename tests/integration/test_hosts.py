"""Registries are found by name, exactly: every spelling of a login server reaches that
registry, the service's own names reach the default registry, and a Host that names no registry
gets 404 NAME_UNKNOWN (never another registry's content or challenge)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.management import Management
from tests.support.oci import OCI_MANIFEST, make_image
from tests.support.registry_http import open_client, owner_auth, push_blob, push_manifest
from tests.support.server import Server

OWN = "hostreg1"
# (Host header with {port} to fill, the registry it names: OWN, "default", or None for none)
HOSTS = [
    ("hostreg1.localhost:{port}", OWN),
    ("HostReg1.LOCALHOST:{port}", OWN),
    ("hostreg1.localhost.:{port}", OWN),  # a fully qualified name's trailing dot
    ("hostreg1.localhost.", OWN),
    ("hostreg1.localhost", OWN),
    ("127.0.0.1:{port}", "default"),
    ("127.0.0.1", "default"),
    ("localhost:{port}", "default"),
    ("localhost.:{port}", "default"),
    ("[::1]:{port}", "default"),
    ("[::ffff:127.0.0.1]:{port}", "default"),
    ("nosuchreg1.localhost:{port}", None),
    ("hostreg1.other.localhost:{port}", None),  # a name with a dot is no registry's
    ("hostreg1.example.com:{port}", None),  # a name under another suffix
    ("hostreg1.localhost.example.com", None),
    ("example.com:{port}", None),
]


@pytest.fixture(scope="module")
def login_servers(shared_server: Server) -> Iterator[dict[str, str]]:
    mgmt = Management(shared_server)
    try:
        mgmt.create(OWN)
        image = make_image(seed=61, layers=1)
        with open_client(shared_server) as c:
            c.headers["Host"] = f"{OWN}.localhost:{shared_server.port}"
            for blob in image.blobs():
                push_blob(c, "onlyhere", blob)
            push_manifest(c, "onlyhere", "v1", image.manifest, OCI_MANIFEST)
        yield {name: mgmt.get(name)["properties"]["loginServer"] for name in (OWN, "default")}
    finally:
        mgmt.close()


@pytest.mark.parametrize(("template", "names"), HOSTS)
@pytest.mark.parametrize("path", ["/v2/", "/v2/app/tags/list", "/oauth2/token", "/acr/v1/_catalog"])
def test_a_host_reaches_the_registry_it_names_or_none(
    shared_server: Server,
    login_servers: dict[str, str],
    template: str,
    names: str | None,
    path: str,
) -> None:
    host = template.format(port=shared_server.port)
    with httpx.Client(base_url=shared_server.url, trust_env=False, timeout=30) as c:
        r = c.get(path, headers={"Host": host})
        if names is None:
            assert r.status_code == 404, (host, r.status_code, r.text)
            assert "WWW-Authenticate" not in r.headers
            error = r.json()["errors"][0]
            assert error["code"] == "NAME_UNKNOWN", error
            return
        assert r.status_code == 401, (host, r.status_code, r.text)
        if path != "/oauth2/token":
            challenge = r.headers["WWW-Authenticate"]
            assert f'service="{login_servers[names]}"' in challenge, (host, challenge)
        # With credentials, the content is that registry's own.
        r = c.get("/v2/_catalog", headers={"Host": host}, auth=owner_auth(shared_server))
        assert r.status_code == 200, (host, r.text)
        assert ("onlyhere" in r.json()["repositories"]) is (names == OWN), (host, r.text)
