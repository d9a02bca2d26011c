"""The Overview's copy-paste commands, run as shown with the real podman and skopeo: the
hosts-file line first (into a private /etc/hosts), then sign in, pull, push and copy."""

from __future__ import annotations

import html
import re
import secrets
import shlex
from pathlib import Path

import httpx
import pytest

from tests.support.containers import Tools, describe
from tests.support.management import Management
from tests.support.oci import OCI_MANIFEST, make_image
from tests.support.registry_http import open_client, push_blob, push_manifest
from tests.support.server import Server
from tests.support.tools import require


def shown_commands(server: Server, registry: str) -> list[str]:
    """The commands of the registry's Overview, in the page's order, as a reader copies them."""
    with httpx.Client(base_url=server.url, timeout=30) as c:
        owner = server.owner
        form = {"client_id": owner["appId"], "client_secret": owner["password"]}
        assert c.post("/portal/signin", data=form).status_code == 303
        page = c.get(f"/portal/registries/{registry}")
    assert page.status_code == 200, page.text
    found = re.findall(r'<code id="cmd-[a-z]+"[^>]*>([^<]*)</code>', page.text)
    return [html.unescape(command) for command in found]


@pytest.mark.tool("podman")
@pytest.mark.tool("skopeo")
def test_the_overview_commands_work_as_shown(shared_server: Server, tmp_path: Path) -> None:
    require("podman")
    require("skopeo")
    name = f"cmds{secrets.token_hex(4)}"
    mgmt = Management(shared_server)
    login_server = mgmt.create(name)["properties"]["loginServer"]
    mgmt.close()
    image = make_image(5, layers=1, layer_bytes=1024)
    with open_client(shared_server) as c:
        c.headers["Host"] = login_server
        for blob in image.blobs():
            push_blob(c, "samples/hello", blob)
        push_manifest(c, "samples/hello", "v1", image.manifest, OCI_MANIFEST)

    hosts, login, push, pull, copy = shown_commands(shared_server, name)
    assert hosts.endswith("| sudo tee -a /etc/hosts") and login.startswith("podman login")
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sudo").write_text('#!/bin/sh\nexec "$@"\n')  # tests run as root, without sudo
    (shim / "sudo").chmod(0o755)
    owner = shared_server.owner
    answers = shlex.quote(f"{owner['appId']}\n{owner['password']}\n")
    script = "\n".join(
        [
            "set -e",
            f"export PATH={shlex.quote(str(shim))}:$PATH",
            hosts,
            # podman asks for the user name and the password on its terminal.
            f"printf %s {answers} | script -qec {shlex.quote(login)} /dev/null",
            pull,
            push,
            copy,
        ]
    )
    with Tools(tmp_path / "tools", hosts={"localhost": "127.0.0.1"}) as tools:
        tools.runroot  # noqa: B018 - podman's storage, chosen through the environment
        result = tools.run(["sh", "-c", script], private_run=True, cwd=tmp_path)
        assert result.returncode == 0, describe(result)
        assert "Login Succeeded" in result.stdout.decode(), describe(result)
        written = (tools.root / "hosts").read_text()
    assert written.endswith(f"127.0.0.1 {login_server.rsplit(':', 1)[0]}\n")
    assert (tmp_path / "hello" / "index.json").is_file()  # skopeo's copy, as the page named it
