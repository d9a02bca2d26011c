"""A registry's portal pages (Overview, Repositories, Access keys, Tokens) over HTTP against the
real server: what each shows, what each change does, and who may change what."""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest

from moorage.portal.registry_views import size_text
from tests.support.management import Management
from tests.support.oci import OCI_MANIFEST, Image, make_image
from tests.support.registry_http import open_client, push_blob, push_manifest
from tests.support.server import Server

TABS = ("", "/repositories", "/access-keys", "/tokens")
# Every change the pages offer: (path under the registry, a form that would do it).
CHANGES = (
    ("/repositories/delete-tag", {"repository": "portal/a", "tag": "v1"}),
    ("/access-keys/admin-user", {"enabled": "true"}),
    ("/access-keys/regenerate", {"which": "password"}),
    ("/tokens/scope-maps", {"name": "forged-map", "actions": "repositories/a/content/read"}),
    ("/tokens/scope-maps/delete", {"scope_map": "pull-map"}),
    ("/tokens", {"name": "forged", "scope_map": "_repositories_pull"}),
    ("/tokens/passwords", {"token": "puller", "which": "both"}),
    ("/tokens/status", {"token": "puller", "status": "disabled"}),
    ("/tokens/delete", {"token": "puller"}),
)


@dataclass(frozen=True)
class Reg:
    name: str
    login_server: str

    @property
    def url(self) -> str:
        return f"/portal/registries/{self.name}"


@pytest.fixture(scope="module")
def mgmt(shared_server: Server) -> Iterator[Management]:
    m = Management(shared_server)
    yield m
    m.close()


@pytest.fixture
def registry(mgmt: Management) -> Reg:
    name = f"pages{secrets.token_hex(4)}"
    return Reg(name, mgmt.create(name)["properties"]["loginServer"])


def browser(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, follow_redirects=False, timeout=30)


@contextmanager
def signed_in(server: Server, app_id: str, secret: str) -> Iterator[httpx.Client]:
    with browser(server) as c:
        r = c.post("/portal/signin", data={"client_id": app_id, "client_secret": secret})
        assert r.status_code == 303, r.text
        yield c


@pytest.fixture(scope="module")
def owner(shared_server: Server) -> Iterator[httpx.Client]:
    with signed_in(
        shared_server, shared_server.owner["appId"], shared_server.owner["password"]
    ) as c:
        yield c


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def post(c: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    """Submit a form as the page would: with the session's CSRF token."""
    token = csrf_of(c.get("/portal/registries"))
    return c.post(path, data={**data, "csrf": token})


def follow(c: httpx.Client, r: httpx.Response) -> httpx.Response:
    assert r.status_code == 303, r.text
    return c.get(r.headers["Location"])


def push(server: Server, reg: Reg, repo: str, tag: str, seed: int = 0) -> Image:
    image = make_image(seed, layers=2, layer_bytes=2048)
    with open_client(server) as c:
        c.headers["Host"] = reg.login_server
        for blob in image.blobs():
            push_blob(c, repo, blob)
        push_manifest(c, repo, tag, image.manifest, OCI_MANIFEST)
    return image


def v2(server: Server, reg: Reg, user: str, password: str, path: str = "") -> int:
    r = httpx.get(
        f"{server.url}/v2/{path}", headers={"Host": reg.login_server}, auth=(user, password)
    )
    return r.status_code


def code(page: httpx.Response, element_id: str) -> str:
    found = re.search(rf'<code id="{re.escape(element_id)}"[^>]*>([^<]*)</code>', page.text)
    assert found, page.text
    return html.unescape(found.group(1))


def test_the_overview_shows_the_registry_its_usage_and_the_commands(
    shared_server: Server, owner: httpx.Client, registry: Reg
) -> None:
    image = push(shared_server, registry, "portal/a", "v1")
    push(shared_server, registry, "portal/b", "v2")  # the same blobs: counted once
    page = owner.get(registry.url)
    assert page.status_code == 200
    text = page.text
    assert registry.login_server in text and "Premium" in text and "local" in text
    assert "Enabled from all networks" in text
    assert re.search(r"<dt>Repositories</dt><dd><a [^>]+>2</a>", text)
    stored = sum(len(b) for b in image.blobs())
    assert f'title="{stored} bytes">{size_text(stored)}<' in text
    ls = registry.login_server
    host = ls.rsplit(":", 1)[0]
    assert code(page, "cmd-hosts") == f'echo "127.0.0.1 {host}" | sudo tee -a /etc/hosts'
    assert code(page, "cmd-login") == f"podman login --tls-verify=false {ls}"
    assert code(page, "cmd-push") == f"podman push --tls-verify=false {ls}/portal/a:v1"
    assert code(page, "cmd-pull") == f"podman pull --tls-verify=false {ls}/portal/a:v1"
    assert code(page, "cmd-copy") == (
        f"skopeo copy --src-tls-verify=false docker://{ls}/portal/a:v1 oci:a:v1"
    )
    for element in ("cmd-hosts", "cmd-login", "cmd-push", "cmd-pull", "cmd-copy"):
        assert f'data-copy="{element}"' in text
    assert 'aria-current="page">Overview' in text


def test_repositories_show_their_tags_and_a_tag_can_be_deleted(
    shared_server: Server, owner: httpx.Client, registry: Reg
) -> None:
    image = push(shared_server, registry, "portal/a", "v1")
    push(shared_server, registry, "portal/a", "v2")
    listing = owner.get(registry.url + "/repositories")
    assert listing.status_code == 200
    assert re.search(r"portal/a</a></td>\s*<td>2</td>\s*<td>1</td>", listing.text), listing.text
    assert 'href="?repository=portal%2Fa"' in listing.text

    tags = owner.get(registry.url + "/repositories", params={"repository": "portal/a"})
    assert tags.status_code == 200
    assert image.digest in tags.text and ">v1<" in tags.text and ">v2<" in tags.text
    size = len(image.manifest) + sum(len(b) for b in image.blobs())
    assert f'title="{size} bytes"' in tags.text
    asks = re.findall(r'<form [^>]*delete-tag"\s+data-confirm="([^"]+)"', tags.text)
    assert [html.unescape(a).split("?")[0] for a in asks] == [  # the newest first
        "Delete tag portal/a:v2",
        "Delete tag portal/a:v1",
    ]

    path = registry.url + "/repositories/delete-tag"
    r = post(owner, path, {"repository": "portal/a", "tag": "v1"})
    back = httpx.URL(r.headers["Location"])
    assert (back.path, back.params["repository"]) == (registry.url + "/repositories", "portal/a")
    after = follow(owner, r)
    assert "Tag portal/a:v1 deleted." in after.text and ">v1<" not in after.text
    again = post(owner, path, {"repository": "portal/a", "tag": "v1"})
    assert again.status_code == 400 and "not in repository" in again.text
    with open_client(shared_server) as c:
        listed = c.get("/v2/portal/a/tags/list", headers={"Host": registry.login_server})
    assert listed.json()["tags"] == ["v2"]

    missing = owner.get(registry.url + "/repositories", params={"repository": "portal/zz"})
    assert missing.status_code == 404 and "has no repository" in missing.text


def test_the_admin_user_is_turned_on_shown_regenerated_and_off(
    shared_server: Server, owner: httpx.Client, mgmt: Management, registry: Reg
) -> None:
    page = owner.get(registry.url + "/access-keys")
    assert '<dd id="admin-state">Disabled</dd>' in page.text and "<details>" not in page.text
    toggle = registry.url + "/access-keys/admin-user"
    page = follow(owner, post(owner, toggle, {"enabled": "true"}))
    assert "Admin user enabled." in page.text
    assert '<dd id="admin-state">Enabled</dd>' in page.text
    assert "<summary>Show password</summary>" in page.text
    user, one, two = mgmt.credentials(registry.name)
    assert (code(page, "password-value"), code(page, "password2-value")) == (one, two)
    assert v2(shared_server, registry, user, one) == 200

    assert 'data-confirm="Make a new password?' in page.text
    r = post(owner, registry.url + "/access-keys/regenerate", {"which": "password"})
    page = follow(owner, r)
    assert "New password made" in page.text
    fresh = code(page, "password-value")
    assert fresh != one and code(page, "password2-value") == two
    assert mgmt.credentials(registry.name)[1] == fresh
    assert v2(shared_server, registry, user, fresh) == 200
    bad = post(owner, registry.url + "/access-keys/regenerate", {"which": "password3"})
    assert bad.status_code == 400 and "which must be one of" in bad.text

    page = follow(owner, post(owner, toggle, {"enabled": "false"}))
    assert "Admin user disabled." in page.text and fresh not in page.text
    assert not mgmt.get(registry.name)["properties"]["adminUserEnabled"]


def test_tokens_and_scope_maps_are_made_shown_once_switched_and_deleted(
    shared_server: Server, owner: httpx.Client, registry: Reg
) -> None:
    push(shared_server, registry, "portal/a", "v1")
    tokens = registry.url + "/tokens"
    bad = post(owner, tokens + "/scope-maps", {"name": "pull-map", "actions": "repos/a/read"})
    assert bad.status_code == 400 and "repos/a/read" in bad.text  # the service's message
    assert "repos/a/read</textarea>" in bad.text  # the form keeps what was typed
    lines = "repositories/portal/a/content/read\r\nrepositories/portal/a/metadata/read\r\n"
    page = follow(
        owner, post(owner, tokens + "/scope-maps", {"name": "pull-map", "actions": lines})
    )
    assert "Scope map pull-map created with 2 action(s)." in page.text
    assert "<div>repositories/portal/a/metadata/read</div>" in page.text
    assert "_repositories_admin" in page.text  # the system maps are listed too

    created = post(owner, tokens, {"name": "puller", "scope_map": "pull-map"})
    assert created.status_code == 200 and "shown this once" in created.text
    one, two = code(created, "new-password1"), code(created, "new-password2")
    listing = owner.get(tokens)
    assert one not in listing.text and two not in listing.text  # never again
    row = re.search(r'<td data-label="Token" class="mono">puller</td>.*?</tr>', listing.text, re.S)
    assert row and "pull-map" in row.group(0) and "Enabled" in row.group(0)
    assert "password1:\n        never expires" in row.group(0)
    assert 'data-confirm="Delete token puller?' in listing.text

    page = follow(owner, post(owner, tokens + "/status", {"token": "puller", "status": "disabled"}))
    assert "Token puller disabled." in page.text
    assert v2(shared_server, registry, "puller", one) == 401  # never signed in: nothing cached
    follow(owner, post(owner, tokens + "/status", {"token": "puller", "status": "enabled"}))
    assert v2(shared_server, registry, "puller", one) == 200
    assert v2(shared_server, registry, "puller", two, "portal/a/tags/list") == 200

    fresh = post(owner, tokens + "/passwords", {"token": "puller", "which": "both"})
    assert fresh.status_code == 200 and code(fresh, "new-password1") not in (one, two)
    taken = post(owner, tokens, {"name": "puller", "scope_map": "pull-map"})
    assert taken.status_code == 400 and "already exists" in taken.text
    in_use = post(owner, tokens + "/scope-maps/delete", {"scope_map": "pull-map"})
    assert in_use.status_code == 400 and "is used by the token(s)" in in_use.text

    page = follow(owner, post(owner, tokens + "/delete", {"token": "puller"}))
    assert "Token puller deleted" in page.text
    assert '<td data-label="Token" class="mono">puller</td>' not in page.text
    page = follow(owner, post(owner, tokens + "/scope-maps/delete", {"scope_map": "pull-map"}))
    assert "Scope map pull-map deleted." in page.text


def test_a_reader_sees_every_page_without_controls_and_a_forged_change_is_refused(
    shared_server: Server, owner: httpx.Client, mgmt: Management, registry: Reg
) -> None:
    push(shared_server, registry, "portal/a", "v1")
    mgmt.update(registry.name, adminUserEnabled=True)
    mgmt.scoped_token(registry.name, "puller", ["repositories/portal/a/content/read"])
    app_id, secret = mgmt.principal("Reader", mgmt.path(registry.name))
    with signed_in(shared_server, app_id, secret) as reader:
        pages = [reader.get(registry.url + tab) for tab in TABS]
        pages.append(reader.get(registry.url + "/repositories?repository=portal%2Fa"))
        for page in pages:
            assert page.status_code == 200, page.text
            assert f'action="{registry.url}' not in page.text  # no change forms at all
            assert page.text.count('type="submit"') == 1  # signing out, and nothing else
        assert "puller-map" in pages[3].text and ">v1<" in pages[4].text
        assert "do not allow seeing the passwords" in pages[2].text
        assert mgmt.credentials(registry.name)[1] not in pages[2].text
        for path, data in CHANGES:
            r = post(reader, registry.url + path, data)
            assert r.status_code == 403, (path, r.text)
            assert "do not allow this" in r.text, path
        other = f"pages{secrets.token_hex(4)}"
        mgmt.create(other)
        assert reader.get(f"/portal/registries/{other}").status_code == 404
    tags = owner.get(registry.url + "/repositories?repository=portal%2Fa")
    assert ">v1<" in tags.text  # nothing changed
    assert "forged" not in owner.get(registry.url + "/tokens").text


@pytest.mark.parametrize(("path", "data"), CHANGES)
def test_every_change_needs_the_session_and_its_csrf_token(
    shared_server: Server, owner: httpx.Client, registry: Reg, path: str, data: dict[str, str]
) -> None:
    assert owner.post(registry.url + path, data=data).status_code == 403
    assert owner.post(registry.url + path, data={**data, "csrf": "forged"}).status_code == 403
    with browser(shared_server) as stranger:
        assert stranger.post(registry.url + path, data=data).status_code == 401


@pytest.mark.parametrize("tab", TABS)
def test_pages_need_a_session_and_load_nothing_from_elsewhere(
    shared_server: Server, owner: httpx.Client, registry: Reg, tab: str
) -> None:
    with browser(shared_server) as stranger:
        r = stranger.get(registry.url + tab)
        assert r.status_code == 303 and r.headers["Location"].startswith("/portal/signin?next=")
    page = owner.get(registry.url + tab)
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert not re.search(r'<script[^>]+src="(https?:)?//', page.text)
    assert not re.search(r'(src|href|action)="(https?:)?//', page.text)
    assert re.findall(r"<script[^>]*>", page.text) == [
        s for s in re.findall(r"<script[^>]*>", page.text) if 'src="/portal/static/' in s
    ]
