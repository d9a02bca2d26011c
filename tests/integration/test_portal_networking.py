"""The portal's Networking page against a real server, with plain HTTP forms (no JavaScript):
the public access choices and the firewall saved at once (and obeyed by the gate on the next
request), the client address as the gate sees it, inline errors with the API's messages, stale
etags, the rule limit, the Premium upgrade, private endpoint connections, the refusals with
one-click Allow and their chart, and a Reader who may only look."""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from moorage.domain.errors import InvalidIPRule
from moorage.domain.network import parse_ip_rule
from tests.support.management import API, Management, client_from
from tests.support.registry_http import owner_auth
from tests.support.server import Server, free_port

BROWSER = "127.0.0.3"  # where the signed-in browser's connections come from
OTHER = "127.0.0.2"  # another client of the registries
PE1 = "127.0.0.5"
NETWORK_API = {"api-version": "2024-05-01"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    data = tmp_path_factory.mktemp("portal-networking") / "data"
    srv = Server(data, port, extra_args=["--private-endpoint", f"pe1={PE1}:{port}"]).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def mgmt(server: Server) -> Iterator[Management]:
    m = Management(server)
    yield m
    m.close()


class Browser:
    """A signed-in portal visitor whose TCP connections come from `source`."""

    def __init__(self, server: Server, app_id: str, secret: str, source: str = BROWSER) -> None:
        self.http = client_from(source, base_url=server.url, follow_redirects=True, timeout=30)
        r = self.http.post(
            "/portal/signin",
            data={"client_id": app_id, "client_secret": secret, "next": "/portal/registries"},
        )
        assert r.status_code == 200 and "Sign out" in r.text, r.text

    def page(self, registry: str, tab: str = "public") -> str:
        r = self.http.get(f"/portal/registries/{registry}/networking", params={"tab": tab})
        assert r.status_code == 200, r.text
        return r.text

    def post(self, registry: str, action: str, data: list[tuple[str, str]]) -> httpx.Response:
        csrf = hidden(self.page(registry), "csrf")
        suffix = f"/{action}" if action else ""
        return self.http.post(
            f"/portal/registries/{registry}/networking{suffix}", data=form([("csrf", csrf), *data])
        )

    def save(
        self,
        registry: str,
        access: str,
        *,
        trusted: bool = True,
        add: str = "",
        remove: tuple[str, ...] = (),
        add_client: bool = False,
        etag: str | None = None,
    ) -> httpx.Response:
        shown = self.page(registry)
        data = [
            ("csrf", hidden(shown, "csrf")),
            ("etag", hidden(shown, "etag") if etag is None else etag),
            ("access", access),
            ("add", add),
            *(("remove", value) for value in remove),
        ]
        if trusted:
            data.append(("trusted", "on"))
        if add_client:
            data.append(("add_client", "on"))
        return self.http.post(f"/portal/registries/{registry}/networking", data=form(data))

    def close(self) -> None:
        self.http.close()


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Browser]:
    b = Browser(server, *owner_auth(server))
    yield b
    b.close()


def form(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Form fields as httpx takes them (a name given twice is sent twice)."""
    fields: dict[str, list[str]] = {}
    for name, value in pairs:
        fields.setdefault(name, []).append(value)
    return fields


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no input {name!r} in the page"
    return html.unescape(match.group(1))


def checked_access(page: str) -> str:
    found = re.findall(r'name="access" value="(\w+)"[^>]*\bchecked\b', page)
    assert len(found) == 1, found
    return str(found[0])


def text(r: httpx.Response) -> str:
    return html.unescape(r.text)


def saved(r: httpx.Response) -> str:
    """A successful POST: a 303 back to the page, which shows the success."""
    assert [h.status_code for h in r.history] == [303], (r.status_code, r.text)
    assert r.status_code == 200
    assert 'class="flash ok"' in r.text, r.text
    return r.text


def new_registry(mgmt: Management, sku: str = "Premium") -> str:
    name = f"net{secrets.token_hex(4)}"
    mgmt.create(name, sku)
    return name


def network(mgmt: Management, name: str) -> dict[str, Any]:
    props = mgmt.get(name)["properties"]
    return {
        "public": props["publicNetworkAccess"],
        "default": props["networkRuleSet"]["defaultAction"],
        "rules": [r["value"] for r in props["networkRuleSet"]["ipRules"]],
        "bypass": props["networkRuleBypassOptions"],
    }


def admitted(server: Server, registry: str, source: str) -> bool:
    """Whether the gate lets `source` reach the registry's login server (as the owner)."""
    with client_from(source, timeout=30) as c:
        r = c.get(
            f"{server.url}/v2/",
            headers={"Host": f"{registry}.localhost:{server.port}"},
            auth=owner_auth(server),
        )
    if r.status_code == 200:
        return True
    assert r.json()["errors"][0]["code"] == "DENIED", r.text
    return False


def test_the_three_access_choices_round_trip_and_the_gate_obeys_the_next_request(
    server: Server, mgmt: Management, browser: Browser
) -> None:
    name = new_registry(mgmt)
    assert checked_access(browser.page(name)) == "all"

    page = saved(browser.save(name, "selected", add=BROWSER))
    assert checked_access(page) == "selected"
    assert network(mgmt, name) == {
        "public": "Enabled",
        "default": "Deny",
        "rules": [BROWSER],
        "bypass": "AzureServices",
    }
    assert admitted(server, name, BROWSER)
    assert not admitted(server, name, OTHER)

    page = saved(browser.save(name, "disabled", trusted=False))
    assert checked_access(page) == "disabled"
    # Disabled keeps the rules (and the default action) for when access comes back.
    assert network(mgmt, name) == {
        "public": "Disabled",
        "default": "Deny",
        "rules": [BROWSER],
        "bypass": "None",
    }
    assert not admitted(server, name, BROWSER)

    page = saved(browser.save(name, "all"))
    assert checked_access(page) == "all"
    assert network(mgmt, name) == {
        "public": "Enabled",
        "default": "Allow",
        "rules": [BROWSER],
        "bypass": "AzureServices",
    }
    assert admitted(server, name, OTHER)


def test_the_client_address_shown_is_the_one_the_request_came_from(
    server: Server, mgmt: Management, browser: Browser
) -> None:
    name = new_registry(mgmt)
    shown = 'Add your client IP address (<span class="mono" id="client-address">{}</span>)'
    assert shown.format(BROWSER) in browser.page(name)
    elsewhere = Browser(server, *owner_auth(server), source="127.0.0.4")
    try:
        assert shown.format("127.0.0.4") in elsewhere.page(name)
    finally:
        elsewhere.close()


def test_adding_my_address_lets_me_in_and_no_one_else(
    server: Server, mgmt: Management, browser: Browser
) -> None:
    name = new_registry(mgmt)
    page = saved(browser.save(name, "selected", add_client=True))
    assert f"added {BROWSER}" in page
    assert network(mgmt, name)["rules"] == [BROWSER]
    assert admitted(server, name, BROWSER)
    assert not admitted(server, name, OTHER)
    assert f'rule <span class="mono">{BROWSER}</span> already covers it' in browser.page(name)


def test_an_invalid_entry_is_flagged_with_the_apis_message_and_nothing_changes(
    mgmt: Management, browser: Browser
) -> None:
    name = new_registry(mgmt)
    with pytest.raises(InvalidIPRule) as invalid:
        parse_ip_rule("10.0.0.5/24")
    message = invalid.value.message
    api = mgmt.add_rule(name, "10.0.0.5/24")
    assert api.status_code == 400 and message in api.json()["error"]["message"]
    before = mgmt.get(name)

    r = browser.save(name, "selected", add="203.0.113.7, 10.0.0.5/24")
    assert r.status_code == 400
    assert message in text(r)
    assert "did you mean '10.0.0.0/24'" in text(r)
    assert 'aria-invalid="true"' in r.text
    assert hidden(r.text, "add") == "203.0.113.7, 10.0.0.5/24"  # kept to correct
    assert checked_access(r.text) == "selected"  # the choice made is kept too
    after = mgmt.get(name)
    assert after["etag"] == before["etag"]
    assert after["properties"] == before["properties"]


def test_a_stale_etag_is_refused_with_a_message(mgmt: Management, browser: Browser) -> None:
    name = new_registry(mgmt)
    etag = hidden(browser.page(name), "etag")
    mgmt.update(name, networkRuleSet={"defaultAction": "Deny", "ipRules": [{"value": OTHER}]})

    r = browser.save(name, "all", add="203.0.113.9", etag=etag)
    assert r.status_code == 409
    assert "Nothing was saved" in text(r) and "changed" in text(r)
    assert network(mgmt, name)["default"] == "Deny"
    assert network(mgmt, name)["rules"] == [OTHER]
    # The page now shows the settings as they are, with a fresh etag: saving again works.
    assert checked_access(r.text) == "selected"
    assert hidden(r.text, "etag") == mgmt.get(name)["etag"]


def test_a_hundred_rules_render_with_the_limit(mgmt: Management, browser: Browser) -> None:
    name = new_registry(mgmt)
    rules = [f"10.1.{n // 250}.{n % 250}" for n in range(100)]
    mgmt.update(
        name, networkRuleSet={"defaultAction": "Deny", "ipRules": [{"value": v} for v in rules]}
    )
    page = browser.page(name)
    assert page.count('name="remove"') == 100
    assert "<strong>100 of 100</strong> IP rules" in page
    for value in rules:
        assert f'value="{value}"' in page

    r = browser.save(name, "selected", add="10.9.9.9")
    assert r.status_code == 400
    assert "the limit is 100" in text(r)
    assert network(mgmt, name)["rules"] == rules

    saved(browser.save(name, "selected", add="10.9.9.9", remove=(rules[0],)))
    assert network(mgmt, name)["rules"] == [*rules[1:], "10.9.9.9"]


def test_a_basic_registry_offers_the_upgrade_and_it_works(
    mgmt: Management, browser: Browser
) -> None:
    name = new_registry(mgmt, "Basic")
    page = browser.page(name)
    assert "Upgrade to Premium" in page
    assert re.search(r'value="selected" id="access-selected"[^>]*\bdisabled\b', page)
    # A forged choice gets the API's refusal as a message, not a failure.
    r = browser.save(name, "selected")
    assert r.status_code == 400 and "need the Premium SKU" in text(r)
    assert network(mgmt, name)["default"] == "Allow"

    page = saved(browser.post(name, "upgrade", []))
    assert "now Premium" in page
    assert mgmt.get(name)["sku"]["name"] == "Premium"
    assert "Upgrade to Premium" not in page
    saved(browser.save(name, "selected", add=BROWSER))
    assert network(mgmt, name)["default"] == "Deny"


def connect_pending(mgmt: Management, registry: str) -> str:
    """Ask for a connection of `registry` on pe1 that waits for approval."""
    connection = f"{registry}-pe1"
    r = mgmt.http.put(
        f"/subscriptions/{mgmt.subscription}/resourceGroups/moorage/providers/"
        "Microsoft.Network/privateEndpoints/pe1",
        params=NETWORK_API,
        json={
            "location": "local",
            "properties": {
                "manualPrivateLinkServiceConnections": [
                    {
                        "name": connection,
                        "properties": {
                            "privateLinkServiceId": mgmt.path(registry),
                            "groupIds": ["registry"],
                            "requestMessage": "please let the build in",
                        },
                    }
                ]
            },
        },
    )
    assert r.status_code in (200, 201), r.text
    return connection


def via_pe1(server: Server, registry: str) -> int:
    with httpx.Client(timeout=30, trust_env=False) as c:
        return c.get(
            f"http://{PE1}:{server.port}/v2/",
            headers={"Host": f"{registry}.localhost:{server.port}"},
            auth=owner_auth(server),
        ).status_code


def connection_status(mgmt: Management, registry: str) -> list[str]:
    r = mgmt.http.get(f"{mgmt.path(registry)}/privateEndpointConnections", params=API)
    assert r.status_code == 200, r.text
    return [
        c["properties"]["privateLinkServiceConnectionState"]["status"] for c in r.json()["value"]
    ]


def test_private_endpoint_connections_are_approved_rejected_and_removed(
    server: Server, mgmt: Management, browser: Browser
) -> None:
    name = new_registry(mgmt)
    connection = connect_pending(mgmt, name)
    page = browser.page(name, "private")
    for shown in (connection, "pe1", f"{PE1}:{server.port}", "Pending", "please let the build in"):
        assert shown in page
    assert f'aria-label="Approve {connection}"' in page
    assert via_pe1(server, name) in (401, 403)

    def act(action: str) -> httpx.Response:
        return browser.post(name, "connections", [("connection", connection), ("action", action)])

    page = saved(act("approve"))
    assert connection_status(mgmt, name) == ["Approved"]
    assert via_pe1(server, name) == 200
    assert f'aria-label="Approve {connection}"' not in page
    assert 'data-confirm="Reject the connection' in page

    saved(act("reject"))
    assert connection_status(mgmt, name) == ["Rejected"]
    assert via_pe1(server, name) in (401, 403)

    r = act("approve")  # a rejected connection is final: the service's message is shown
    assert 'class="flash error"' in r.text and "cannot move from Rejected" in text(r)
    assert connection_status(mgmt, name) == ["Rejected"]

    page = saved(act("remove"))
    assert connection_status(mgmt, name) == []
    assert "No private endpoint connections" in page


def refuse(server: Server, registry: str, source: str, times: int) -> None:
    for _ in range(times):
        assert not admitted(server, registry, source)


def test_refusals_are_listed_charted_and_allow_lets_the_address_in(
    server: Server, mgmt: Management, browser: Browser
) -> None:
    name = new_registry(mgmt)
    mgmt.update(name, networkRuleSet={"defaultAction": "Deny", "ipRules": [{"value": BROWSER}]})
    refuse(server, name, OTHER, 3)

    page = browser.page(name, "refusals")
    row = re.search(rf">{re.escape(OTHER)}</td>\s*<td[^>]*>(\d+)</td>", page)
    assert row and row.group(1) == "3", page
    assert '<svg class="chart"' in page and '<rect class="bar"' in page
    assert "3 refused requests in this window" in page
    assert f'aria-label="Allow {OTHER}"' in page

    page = saved(browser.post(name, "allow", [("address", OTHER)]))
    assert f"{OTHER} gets in from the next request" in page
    assert network(mgmt, name)["rules"] == [BROWSER, OTHER]
    assert network(mgmt, name)["default"] == "Deny"
    assert admitted(server, name, OTHER)
    assert f'rule <span class="mono">{OTHER}</span> covers it' in page


def test_allow_leaves_a_disabled_public_endpoint_disabled(
    server: Server, mgmt: Management, browser: Browser
) -> None:
    name = new_registry(mgmt)
    mgmt.update(name, publicNetworkAccess="Disabled")
    refuse(server, name, OTHER, 1)

    r = browser.post(name, "allow", [("address", OTHER)])
    assert [h.status_code for h in r.history] == [303]
    assert 'class="flash warn"' in r.text and "left as it is" in text(r)
    assert network(mgmt, name)["rules"] == [OTHER]
    assert network(mgmt, name)["public"] == "Disabled"
    assert not admitted(server, name, OTHER)


def test_a_reader_sees_no_save_and_a_forged_post_is_refused(
    server: Server, mgmt: Management
) -> None:
    name = new_registry(mgmt)
    connection = connect_pending(mgmt, name)
    mgmt.update(name, networkRuleSet={"defaultAction": "Deny", "ipRules": [{"value": BROWSER}]})
    reader = Browser(server, *mgmt.principal("Reader", mgmt.path(name)))
    try:
        before = mgmt.get(name)
        page = reader.page(name)
        assert ">Save<" not in page
        assert '<fieldset class="plain" disabled>' in page
        assert "Upgrade to Premium" not in page
        private = reader.page(name, "private")
        assert connection in private
        assert 'aria-label="Approve' not in private and 'aria-label="Remove' not in private
        refusals = reader.page(name, "refusals")
        assert '<svg class="chart"' in refusals

        csrf = hidden(page, "csrf")
        etag = hidden(page, "etag")
        base = f"/portal/registries/{name}/networking"
        for path, data in [
            (base, {"etag": etag, "access": "all", "add": "0.0.0.0/0"}),
            (base + "/upgrade", {}),
            (base + "/allow", {"address": OTHER}),
            (base + "/connections", {"connection": connection, "action": "approve"}),
            (base + "/connections", {"connection": connection, "action": "remove"}),
        ]:
            r = reader.http.post(path, data={"csrf": csrf, **data})
            assert r.status_code == 403, (path, r.status_code, r.text)
        after = mgmt.get(name)
        assert after["etag"] == before["etag"]
        assert connection_status(mgmt, name) == ["Pending"]
    finally:
        reader.close()


def test_kept_rules_keep_their_expiry_when_others_change(
    mgmt: Management, browser: Browser
) -> None:
    name = new_registry(mgmt)
    mgmt.update(name, networkRuleSet={"defaultAction": "Deny"})
    assert mgmt.add_rule(name, "203.0.113.7", expiresOn="2099-01-01T00:00:00Z").status_code == 200
    saved(browser.save(name, "selected", add="198.51.100.7"))
    rules = mgmt.get(name)["properties"]["networkRuleSet"]["ipRules"]
    assert rules[0] == {
        "action": "Allow",
        "value": "203.0.113.7",
        "expiresOn": "2099-01-01T00:00:00Z",
    }
