"""oras (the PyPI `oras` client) pushes and pulls an artifact with its DEFAULT settings (token
auth backend) against the real server, with the admin user and with a repository-scoped token.

oras-py asks for a new token only after a 403 (after a 401 it retries with the token it holds):
its first request of a push (HEAD of the blob) gets it a pull-only token, and moorage answers the
upload that needs push with 403 and the challenge that names `pull,push`, so oras asks for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import oras.client
import pytest

from tests.support.management import Management
from tests.support.server import Server

REGISTRY = "default"  # on the bare host: oras (requests) resolves 127.0.0.1, not *.localhost


@pytest.fixture(scope="module")
def mgmt(shared_server: Server) -> Iterator[Management]:
    m = Management(shared_server)
    m.update(REGISTRY, adminUserEnabled=True)
    try:
        yield m
    finally:
        m.update(REGISTRY, adminUserEnabled=False)
        m.close()


def _credentials(mgmt: Management, kind: str) -> tuple[str, str]:
    if kind == "admin":
        user, password, _ = mgmt.credentials(REGISTRY)
        return user, password
    return mgmt.scoped_token(
        REGISTRY,
        "orasci",
        [
            "repositories/oras/artifact/content/read",
            "repositories/oras/artifact/content/write",
        ],
    )


@pytest.mark.parametrize("kind", ["admin", "token"])
def test_oras_pushes_and_pulls_with_its_defaults(
    shared_server: Server, mgmt: Management, tmp_path: Path, kind: str
) -> None:
    user, password = _credentials(mgmt, kind)
    artifact = tmp_path / "artifact.txt"
    artifact.write_bytes(f"an artifact pushed by the {kind}\n".encode())
    target = f"{shared_server.address}/oras/artifact:{kind}"

    client = oras.client.OrasClient(hostname=shared_server.address, insecure=True)  # defaults
    client.login(
        username=user,
        password=password,
        hostname=shared_server.address,
        config_path=str(tmp_path / "config.json"),
    )
    pushed = client.push(files=[str(artifact)], target=target, disable_path_validation=True)
    assert pushed.status_code == 201, pushed.text

    puller = oras.client.OrasClient(hostname=shared_server.address, insecure=True)
    puller.login(
        username=user,
        password=password,
        hostname=shared_server.address,
        config_path=str(tmp_path / "config.json"),
    )
    out = tmp_path / "out"
    files = puller.pull(target=target, outdir=str(out))
    assert [Path(f).read_bytes() for f in files] == [artifact.read_bytes()]

    # The token could push here only: elsewhere the refusal names the push.
    if kind == "token":
        elsewhere = f"{shared_server.address}/other/artifact:v1"
        with pytest.raises(ValueError, match="may not push to repository 'other/artifact'"):
            client.push(files=[str(artifact)], target=elsewhere, disable_path_validation=True)


def test_a_token_without_push_gets_403_and_the_push_scope_to_ask(
    shared_server: Server, mgmt: Management
) -> None:
    """What oras reacts to: a write with a token that lacks it is a 403 whose challenge names
    the scope to ask for (a pull-only token on a pull answers 401, as before)."""
    user, password, _ = mgmt.credentials(REGISTRY)
    with httpx.Client(base_url=shared_server.url, trust_env=False, timeout=30) as c:
        token = c.get(
            "/oauth2/token",
            params={"scope": "repository:oras/pullonly:pull"},
            auth=(user, password),
        )
        assert token.status_code == 200, token.text
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        r = c.post("/v2/oras/pullonly/blobs/uploads/", headers=bearer)
        assert r.status_code == 403, r.text
        assert r.json()["errors"][0]["code"] == "DENIED"
        assert "may not push to repository 'oras/pullonly'" in r.json()["errors"][0]["message"]
        challenge = r.headers["WWW-Authenticate"]
        assert 'scope="repository:oras/pullonly:pull,push"' in challenge, challenge
        assert 'error="insufficient_scope"' in challenge, challenge
        r = c.get("/v2/oras/other/tags/list", headers=bearer)
        assert r.status_code == 401, r.text
        assert 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]
