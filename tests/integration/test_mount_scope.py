"""A cross-repository mount by a token without pull on the source: the challenge names both
scopes (the source's pull and the target's pull,push), and a token asked with them mounts."""

from __future__ import annotations

import httpx

from tests.support.management import Management
from tests.support.registry_http import digest_of, open_client, push_blob
from tests.support.server import Server


def test_the_mount_challenge_names_both_scopes(shared_server: Server) -> None:
    mgmt = Management(shared_server)
    try:
        mgmt.create("mountscope1")
        user, password = mgmt.scoped_token(
            "mountscope1",
            "mounter",
            [
                "repositories/src/content/read",
                "repositories/dst/content/read",
                "repositories/dst/content/write",
            ],
        )
    finally:
        mgmt.close()
    host = {"Host": f"mountscope1.localhost:{shared_server.port}"}
    blob = b"a layer that lives in src"
    digest = digest_of(blob)
    with open_client(shared_server) as owner:
        owner.headers.update(host)
        push_blob(owner, "src", blob)

    def token(*scopes: str) -> dict[str, str]:
        r = c.get(
            "/oauth2/token",
            params=[("scope", s) for s in scopes],
            headers=host,
            auth=(user, password),
        )
        assert r.status_code == 200, r.text
        return {**host, "Authorization": f"Bearer {r.json()['access_token']}"}

    mount = f"/v2/dst/blobs/uploads/?mount={digest}&from=src"
    with httpx.Client(base_url=shared_server.url, trust_env=False, timeout=30) as c:
        r = c.post(mount, headers=token("repository:dst:pull,push"))
        assert r.status_code == 401, r.text
        challenge = r.headers["WWW-Authenticate"]
        assert 'scope="repository:dst:pull,push repository:src:pull"' in challenge, challenge
        assert 'error="insufficient_scope"' in challenge
        error = r.json()["errors"][0]
        assert error["code"] == "UNAUTHORIZED"
        assert "may not pull from repository 'src'" in error["message"]
        # Following the challenge: a token with both scopes mounts.
        r = c.post(mount, headers=token("repository:dst:pull,push", "repository:src:pull"))
        assert r.status_code == 201, r.text
        assert r.headers["Location"] == f"/v2/dst/blobs/{digest}"
        assert (
            c.get(f"/v2/dst/blobs/{digest}", headers=token("repository:dst:pull")).content == blob
        )
