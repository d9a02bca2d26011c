"""containerd against the real server: `ctr images pull` and `ctr images push` with
credentials, by tag and by digest; a refused client's error; and a pull through the
`hosts.toml` configuration a Kubernetes node uses (config_path), with the credentials of the
image pull secret that docs/registry.md shows.

One private containerd serves the module (tests/support/docker.py). `ctr` itself talks to the
registry (the daemon only stores content), from 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import secrets
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.containers import describe, ok
from tests.support.docker import Containerd
from tests.support.management import Management
from tests.support.oci import OCI_MANIFEST, Image, make_image, sha256
from tests.support.registry_http import owner_auth, push_blob, push_manifest
from tests.support.server import Server, running_server

pytestmark = [pytest.mark.tool("containerd"), pytest.mark.tool("ctr")]


@pytest.fixture(scope="module")
def containerd() -> Iterator[Containerd]:
    with Containerd() as daemon:
        yield daemon


def registry(shared_mgmt: Management, containerd: Containerd, **properties: Any) -> tuple[str, str]:
    """A new registry ctr can resolve: (name, login server)."""
    name = f"ctd{secrets.token_hex(4)}"
    login_server = str(shared_mgmt.create(name, **properties)["properties"]["loginServer"])
    containerd.add_host(login_server.split(":")[0])
    return name, login_server


def push_image(server: Server, login_server: str, credentials: tuple[str, str], ref: str) -> Image:
    """Push a made image as `repo:tag` over HTTP, with `Host: <login server>`."""
    image = make_image(seed=secrets.randbits(16), layers=2)
    repo, tag = ref.split(":")
    headers = {"Host": login_server}
    with httpx.Client(
        base_url=server.url, headers=headers, auth=credentials, trust_env=False, timeout=30
    ) as client:
        for blob in image.blobs():
            push_blob(client, repo, blob)
        push_manifest(client, repo, tag, image.manifest, OCI_MANIFEST)
    return image


def ssl_context(ca: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca))


def listed(containerd: Containerd) -> dict[str, str]:
    """{image name: target digest} of containerd's image store."""
    out = ok(containerd.ctr("images", "ls")).stdout.decode().splitlines()[1:]
    return {line.split()[0]: line.split()[2] for line in out if line.strip()}


def test_pull_and_push_with_credentials_by_tag_and_digest(
    shared_server: Server, shared_mgmt: Management, containerd: Containerd
) -> None:
    name, login_server = registry(shared_mgmt, containerd, adminUserEnabled=True)
    username, password, _ = shared_mgmt.credentials(name)
    user = f"{username}:{password}"
    image = push_image(shared_server, login_server, (username, password), "ctr/app:v1")
    digest = sha256(image.manifest)

    tagged = f"{login_server}/ctr/app:v1"
    anonymous = containerd.ctr("images", "pull", "--plain-http", tagged)
    assert anonymous.returncode != 0 and "401 Unauthorized" in anonymous.stderr.decode()
    ok(containerd.ctr("images", "pull", "--plain-http", "-u", user, tagged))
    assert listed(containerd)[tagged] == digest
    by_digest = f"{login_server}/ctr/app@{digest}"
    ok(containerd.ctr("images", "pull", "--plain-http", "-u", user, by_digest))
    assert listed(containerd)[by_digest] == digest

    copy = f"{login_server}/ctr/copy:v2"
    ok(containerd.ctr("images", "tag", tagged, copy))
    ok(containerd.ctr("images", "push", "--plain-http", "-u", user, copy))
    pinned = f"{login_server}/ctr/pinned@{digest}"
    ok(containerd.ctr("images", "tag", tagged, pinned))
    ok(containerd.ctr("images", "push", "--plain-http", "-u", user, pinned))
    with httpx.Client(
        base_url=shared_server.url,
        headers={"Host": login_server, "Accept": OCI_MANIFEST},
        auth=(username, password),
        trust_env=False,
    ) as client:
        for reference in ("ctr/copy/manifests/v2", f"ctr/pinned/manifests/{digest}"):
            got = client.get(f"/v2/{reference}")
            assert got.status_code == 200, got.text
            assert got.content == image.manifest
    for ref in (tagged, by_digest, copy, pinned):
        ok(containerd.ctr("images", "rm", ref))


def test_a_refused_clients_ctr_error_names_the_403(
    shared_server: Server, shared_mgmt: Management, containerd: Containerd
) -> None:
    name, login_server = registry(shared_mgmt, containerd, adminUserEnabled=True)
    username, password, _ = shared_mgmt.credentials(name)
    push_image(shared_server, login_server, (username, password), "app:v1")
    rules = {"defaultAction": "Deny", "ipRules": [{"value": "127.0.0.2"}]}
    shared_mgmt.update(name, networkRuleSet=rules)
    user = f"{username}:{password}"
    result = containerd.ctr("images", "pull", "--plain-http", "-u", user, f"{login_server}/app:v1")
    said = result.stderr.decode()
    assert result.returncode != 0, describe(result)
    assert (
        f"pulling from host {login_server} failed with status code [manifests v1]: 403 Forbidden"
    ) in said, said


def kubectl_pull_secret(login_server: str, username: str, password: str) -> dict[str, Any]:
    """The pull secret docs/registry.md creates, made by kubectl without a cluster; its
    .dockerconfigjson decoded."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:  # the secret's content is what kubectl would write
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        return {
            "auths": {login_server: {"username": username, "password": password, "auth": token}}
        }
    made = subprocess.run(
        [
            kubectl, "create", "secret", "docker-registry", "moorage-pull",
            f"--docker-server={login_server}", f"--docker-username={username}",
            f"--docker-password={password}", "--dry-run=client", "--output=json",
        ],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    secret = json.loads(made.stdout)
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    return dict(json.loads(base64.b64decode(secret["data"][".dockerconfigjson"])))


def test_pull_through_hosts_toml_with_the_pull_secrets_credentials(
    shared_server: Server, shared_mgmt: Management, containerd: Containerd, tmp_path: Path
) -> None:
    """A node's containerd reads /etc/containerd/certs.d/<login server>/hosts.toml
    (config_path); `ctr --hosts-dir` reads the same files. Plain HTTP comes from the file, not
    from --plain-http; the credentials are a pull-only token's, as in the pull secret."""
    name, login_server = registry(shared_mgmt, containerd, adminUserEnabled=True)
    username, password, _ = shared_mgmt.credentials(name)
    image = push_image(shared_server, login_server, (username, password), "team/app:v1")
    token = shared_mgmt.scoped_token(name, "nodepull", ["repositories/team/app/content/read"])
    auth = kubectl_pull_secret(login_server, *token)["auths"][login_server]
    assert base64.b64decode(auth["auth"]).decode() == f"{token[0]}:{token[1]}"

    hosts_dir = tmp_path / "certs.d"
    (hosts_dir / login_server).mkdir(parents=True)
    (hosts_dir / login_server / "hosts.toml").write_text(
        f'server = "http://{login_server}"\n\n'
        f'[host."http://{login_server}"]\n'
        '  capabilities = ["pull", "resolve"]\n'
    )
    ref = f"{login_server}/team/app:v1"
    user = f"{auth['username']}:{auth['password']}"
    ok(containerd.ctr("images", "pull", "--hosts-dir", str(hosts_dir), "-u", user, ref))
    assert listed(containerd)[ref] == sha256(image.manifest)
    ok(containerd.ctr("images", "rm", ref))


def test_pull_over_tls_with_moorages_ca_in_hosts_toml(tmp_path: Path) -> None:
    """hosts.toml with `https://` and `ca = ...`, as docs/registry.md shows for TLS: the pull
    fails without the CA and succeeds with it (containerd trusts no registry by its address)."""
    with running_server(tmp_path / "data", "--tls") as server, Containerd() as containerd:
        credentials = owner_auth(server)
        image = make_image(seed=secrets.randbits(16), layers=1)
        with httpx.Client(
            base_url=server.url, auth=credentials, verify=ssl_context(server.ca), timeout=30
        ) as client:
            for blob in image.blobs():
                push_blob(client, "secure/app", blob)
            push_manifest(client, "secure/app", "v1", image.manifest, OCI_MANIFEST)

        hosts_dir = tmp_path / "certs.d"
        host = hosts_dir / server.address
        host.mkdir(parents=True)
        (host / "hosts.toml").write_text(
            f'server = "https://{server.address}"\n\n'
            f'[host."https://{server.address}"]\n'
            '  capabilities = ["pull", "resolve"]\n'
        )
        ref = f"{server.address}/secure/app:v1"
        user = ":".join(credentials)
        pull = ["images", "pull", "--hosts-dir", str(hosts_dir), "-u", user, ref]
        untrusted = containerd.ctr(*pull)
        assert untrusted.returncode != 0
        assert "certificate signed by unknown authority" in untrusted.stderr.decode()

        shutil.copyfile(server.ca, host / "ca.crt")
        with (host / "hosts.toml").open("a") as f:
            f.write(f'  ca = "{host / "ca.crt"}"\n')
        ok(containerd.ctr(*pull))
        assert listed(containerd)[ref] == sha256(image.manifest)
