"""The portal's sign-in, sessions and CSRF over HTTP against the real server."""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
import sqlite3
from collections.abc import Iterator

import httpx
import pytest

from tests.support.management import Management
from tests.support.server import Server


@pytest.fixture(scope="module")
def mgmt(shared_server: Server) -> Iterator[Management]:
    m = Management(shared_server)
    yield m
    m.close()


def browser(server: Server, source: str = "127.0.0.1") -> httpx.Client:
    return httpx.Client(
        base_url=server.url,
        follow_redirects=False,
        timeout=30,
        transport=httpx.HTTPTransport(local_address=source),
    )


def sign_in(c: httpx.Client, app_id: str, secret: str, next_: str = "") -> httpx.Response:
    return c.post(
        "/portal/signin", data={"client_id": app_id, "client_secret": secret, "next": next_}
    )


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def test_pages_need_a_session_and_sign_in_sets_a_safe_cookie(shared_server: Server) -> None:
    owner = shared_server.owner
    with browser(shared_server) as c:
        r = c.get("/portal/registries")
        assert r.status_code == 303
        assert r.headers["Location"].startswith("/portal/signin?next=")
        assert c.get("/portal/").headers["Location"] == "/portal/registries"

        r = sign_in(c, owner["appId"], "wrong")
        assert r.status_code == 401 and "wrong" in r.text
        assert "moorage_portal" not in r.headers.get("set-cookie", "")

        r = sign_in(c, owner["appId"], owner["password"], "https://evil.example/x")
        assert r.status_code == 303
        assert r.headers["Location"] == "/portal/registries"  # never off-site
        cookie = r.headers["set-cookie"]
        for flag in ("HttpOnly", "SameSite=Strict", "Path=/portal"):
            assert flag in cookie, cookie
        assert "Secure" not in cookie  # plain HTTP here; under TLS it is set
        page = c.get("/portal/registries")
        assert page.status_code == 200
        assert "Container registries" in page.text
        assert "no-store" in page.headers["Cache-Control"]
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        assert not re.search(r'<script src="(https?:)?//', page.text)  # no CDN

        # Sign-out needs the form's token, then ends the session.
        assert c.post("/portal/signout", data={"csrf": "forged"}).status_code == 403
        r = c.post("/portal/signout", data={"csrf": csrf_of(page)})
        assert r.status_code == 303
        c.cookies.clear()
        c.cookies.set("moorage_portal", cookie.split(";")[0].split("=", 1)[1], path="/portal")
        assert c.get("/portal/registries").status_code == 303  # that session is gone


def test_a_session_survives_a_restart_and_only_its_hash_is_stored(server: Server) -> None:
    owner = server.owner
    with browser(server) as c:
        assert sign_in(c, owner["appId"], owner["password"]).status_code == 303
        token = csrf_of(c.get("/portal/registries"))
        cookie = c.cookies["moorage_portal"]

        server.stop()
        with contextlib.closing(sqlite3.connect(server.data_dir / "moorage.db")) as db:
            stored = db.execute("SELECT id FROM portal_sessions").fetchall()
        assert stored == [(hashlib.sha256(cookie.encode()).hexdigest(),)]
        server.start()

        page = c.get("/portal/registries")
        assert page.status_code == 200 and "Container registries" in page.text
        assert csrf_of(page) == token  # the same session, with its form token
        assert c.post("/portal/signout", data={"csrf": token}).status_code == 303
    with browser(server) as c:
        c.cookies.set("moorage_portal", cookie, path="/portal")
        assert c.get("/portal/registries").status_code == 303  # signed out for good


def test_forms_refuse_a_missing_or_foreign_csrf_token(shared_server: Server) -> None:
    owner = shared_server.owner
    with browser(shared_server) as c, browser(shared_server) as other:
        sign_in(c, owner["appId"], owner["password"])
        sign_in(other, owner["appId"], owner["password"])
        theirs = csrf_of(other.get("/portal/registries"))
        name = f"csrf{secrets.token_hex(4)}"
        for data in ({"name": name, "sku": "Basic"}, {"name": name, "csrf": theirs}):
            assert c.post("/portal/registries", data=data).status_code == 403
        mine = csrf_of(c.get("/portal/registries"))
        r = c.post("/portal/registries", data={"name": name, "sku": "Basic", "csrf": mine})
        assert r.status_code == 303 and r.headers["Location"] == f"/portal/registries/{name}"


def test_a_reader_sees_and_cannot_create(shared_server: Server, mgmt: Management) -> None:
    app_id, secret = mgmt.principal("Reader", f"/subscriptions/{mgmt.subscription}")
    with browser(shared_server) as c:
        assert sign_in(c, app_id, secret).status_code == 303
        page = c.get("/portal/registries")
        assert page.status_code == 200
        assert "Create a registry" not in page.text
        name = f"reader{secrets.token_hex(4)}"
        r = c.post("/portal/registries", data={"name": name, "csrf": csrf_of(page)})
        assert r.status_code == 403 and "do not allow" in r.text
        assert (
            mgmt.http.get(mgmt.path(name), params={"api-version": "2025-11-01"}).status_code == 404
        )


def test_failed_sign_ins_are_slowed_per_address(shared_server: Server) -> None:
    owner = shared_server.owner
    with browser(shared_server, "127.0.0.11") as c:
        answers = [sign_in(c, owner["appId"], f"wrong{i}").status_code for i in range(6)]
        assert answers == [401] * 5 + [429]
        assert sign_in(c, owner["appId"], owner["password"]).status_code == 429
    with browser(shared_server, "127.0.0.12") as c:
        assert sign_in(c, owner["appId"], owner["password"]).status_code == 303


def test_the_portal_is_not_served_on_a_login_server(shared_server: Server) -> None:
    with browser(shared_server) as c:
        r = c.get("/portal/signin", headers={"Host": f"default.localhost:{shared_server.port}"})
        assert r.status_code in (401, 404), r.text


def test_the_management_hosts_root_leads_a_new_user_to_sign_in(shared_server: Server) -> None:
    with browser(shared_server) as c:
        root = c.get("/")
        assert root.status_code == 303, root.text
        page = c.get("/", follow_redirects=True)
        assert page.status_code == 200 and page.url.path == "/portal/signin"
        # The page says where the owner credential is, in full, to `cat` it.
        path = shared_server.data_dir / "owner-credential.json"
        assert f'<code id="owner-credential">{path}</code>' in page.text
        assert path.is_absolute() and path.is_file()
        # A login server's root is not the portal.
        other = c.get("/", headers={"Host": f"default.localhost:{shared_server.port}"})
        assert other.status_code == 404
    assert f"portal (sign in as the owner): {shared_server.url}/portal/" in shared_server.log()
