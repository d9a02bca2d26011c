"""The portal end to end in a real browser (#8): sign in, create a Premium registry, let in only
the client's own address through the offered choice, turn public access off, approve a private
endpoint connection, allow a refused address from Recent refusals; leaving the Networking page
with unsaved changes warns; the Networking form works from the keyboard alone; 100 IP rules do
not break its layout; and every page, at a desktop width and at 420 px, screenshotted into
tests/e2e/artifacts/.

The browser connects from 127.0.0.1, which is therefore the client address moorage offers; the
registry traffic that must be refused or admitted comes from other loopback addresses over
httpx, with the owner's Basic credentials and the registry's login server as Host."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Locator, Page, ViewportSize, expect

from tests.e2e.conftest import DESKTOP, PE1, Dialogs
from tests.support.management import API, Management, client_from
from tests.support.oci import OCI_MANIFEST, make_image
from tests.support.registry_http import digest_of, owner_auth
from tests.support.server import Server

NETWORK_API = {"api-version": "2024-05-01"}
BROWSER = "127.0.0.1"  # where the browser's connections come from
OTHER = "127.0.0.2"  # another client on the same machine
NARROW: ViewportSize = {"width": 420, "height": 900}


# -- the registry side, over HTTP --------------------------------------------------------------


def on_registry(
    server: Server,
    registry: str,
    source: str | None,
    method: str = "GET",
    path: str = "/v2/_catalog",
    *,
    address: str | None = None,
) -> httpx.Response:
    """One request to `registry` as the owner, from `source` (a loopback address; None: the
    system's choice), to the listener on `address` (default the public one)."""
    base = f"http://{address or server.host}:{server.port}"
    kwargs: dict[str, Any] = {"base_url": base, "timeout": 30, "trust_env": False}
    with client_from(source, **kwargs) if source else httpx.Client(**kwargs) as c:
        return c.request(
            method,
            path,
            headers={"Host": f"{registry}.localhost:{server.port}"},
            auth=owner_auth(server),
        )


def refused(r: httpx.Response, *words: str) -> None:
    """A 403 DENIED whose message names each of `words`."""
    assert r.status_code == 403, r.text
    error = r.json()["errors"][0]
    assert error["code"] == "DENIED", error
    for word in words:
        assert word in error["message"], error


def eventually(what: str, check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for `check` to hold (the browser's form has been answered, so this is short)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not so after {timeout}s: {what}"
        time.sleep(0.1)


def rule_set(mgmt: Management, registry: str) -> dict[str, Any]:
    properties: dict[str, Any] = mgmt.get(registry)["properties"]
    return properties


def ip_rules(mgmt: Management, registry: str) -> list[str]:
    rules = rule_set(mgmt, registry)["networkRuleSet"]["ipRules"]
    return [str(r["value"]).removesuffix("/32") for r in rules]


def request_connection(mgmt: Management, registry: str) -> None:
    """A Pending connection of `registry` on pe1 (asked for manually: nothing approves it)."""
    r = mgmt.http.put(
        f"/subscriptions/{mgmt.subscription}/resourceGroups/moorage/providers/"
        "Microsoft.Network/privateEndpoints/pe1",
        params=NETWORK_API,
        json={
            "location": "local",
            "properties": {
                "manualPrivateLinkServiceConnections": [
                    {
                        "name": f"{registry}-pe1",
                        "properties": {
                            "privateLinkServiceId": mgmt.path(registry),
                            "groupIds": ["registry"],
                            "requestMessage": "from the e2e tests",
                        },
                    }
                ]
            },
        },
    )
    assert r.status_code in (200, 201), r.text


def connection_states(mgmt: Management, registry: str) -> list[str]:
    r = mgmt.http.get(mgmt.path(registry) + "/privateEndpointConnections", params=API)
    assert r.status_code == 200, r.text
    return [
        c["properties"]["privateLinkServiceConnectionState"]["status"] for c in r.json()["value"]
    ]


def push_image(server: Server, registry: str, repository: str) -> None:
    """A small image, tag v1, from the browser's own address (which the registry admits)."""
    image = make_image(seed=1, layers=1, layer_bytes=256)
    with client_from(BROWSER, base_url=server.url, timeout=30, trust_env=False) as c:
        c.headers["Host"] = f"{registry}.localhost:{server.port}"
        c.auth = owner_auth(server)
        for blob in image.blobs():
            r = c.post(
                f"/v2/{repository}/blobs/uploads/", params={"digest": digest_of(blob)}, content=blob
            )
            assert r.status_code == 201, r.text
        r = c.put(
            f"/v2/{repository}/manifests/v1",
            content=image.manifest,
            headers={"Content-Type": OCI_MANIFEST},
        )
        assert r.status_code == 201, r.text


# -- the portal side, in the browser -----------------------------------------------------------


def shoot(page: Page, artifacts: Path, name: str) -> None:
    page.screenshot(path=artifacts / f"{name}.png", full_page=True)


def new_name(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(4)}"


def sign_in(page: Page, server: Server, secret: str | None = None) -> None:
    page.get_by_label("Client id (appId)").fill(server.owner["appId"])
    page.get_by_label("Secret").fill(server.owner["password"] if secret is None else secret)
    page.get_by_role("button", name="Sign in").click()


def signed_in(page: Page, server: Server) -> None:
    page.goto("/portal/signin")
    sign_in(page, server)
    expect(page).to_have_url(re.compile(r"/portal/registries$"))


def create_registry(page: Page, name: str, sku: str = "Premium") -> None:
    page.goto("/portal/registries")
    page.get_by_label("Registry name").fill(name)
    page.get_by_label("SKU").select_option(sku)
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(rf"/portal/registries/{name}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def open_tab(page: Page, tabs: str, label: str) -> None:
    """Click tab `label` in the navigation named `tabs`; it becomes the current one."""
    link = page.get_by_role("navigation", name=tabs).get_by_role("link", name=label, exact=True)
    link.click()
    expect(link).to_have_attribute("aria-current", "page")


def registry_tab(page: Page, label: str) -> None:
    """Open one of the registry's tabs (Overview, Repositories, ..., Networking)."""
    open_tab(page, "Registry", label)


def networking(page: Page, registry: str, part: str | None = None) -> None:
    """The registry's Networking page, and in it tab `part` (Public access, Private access,
    Recent refusals)."""
    page.goto(f"/portal/registries/{registry}")
    registry_tab(page, "Networking")
    if part is not None:
        open_tab(page, "Networking", part)


def row_of(page: Page, text: str) -> Locator:
    """The table row (or list item) that mentions `text`."""
    pattern = re.compile(re.escape(text))
    return page.get_by_role("row", name=pattern).or_(
        page.get_by_role("listitem").filter(has_text=pattern)
    )


def told(page: Page, *words: str) -> None:
    """The page confirms what was done, in a status message naming each of `words`."""
    status = page.get_by_role("status").first
    for word in words:
        expect(status).to_contain_text(word)


def save(page: Page) -> None:
    page.get_by_role("button", name="Save").click()
    told(page, "Saved")


def selected_networks_with_my_address(page: Page) -> None:
    page.get_by_role("radio", name="Selected networks").check()
    offered = page.get_by_role(
        "checkbox", name=re.compile(rf"Add your client IP address \({re.escape(BROWSER)}\)")
    )
    expect(offered).to_be_visible()
    offered.check()


# -- the flows ---------------------------------------------------------------------------------


def test_sign_in_wrong_then_right_then_out(page: Page, server: Server, artifacts: Path) -> None:
    page.goto("/portal/registries")
    expect(page).to_have_url(re.compile(r"/portal/signin\?next="))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shoot(page, artifacts, "01-signin")

    sign_in(page, server, "not-the-secret")
    expect(page.get_by_role("alert")).to_contain_text("wrong")
    expect(page.get_by_label("Client id (appId)")).to_have_value(server.owner["appId"])
    shoot(page, artifacts, "02-signin-wrong-secret")

    sign_in(page, server)
    expect(page).to_have_url(re.compile(r"/portal/registries$"))  # where it was going
    expect(page.get_by_role("heading", name="Container registries", level=1)).to_be_visible()
    shoot(page, artifacts, "03-registries")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/portal/signin"))
    page.goto("/portal/registries")
    expect(page).to_have_url(re.compile(r"/portal/signin\?next="))  # the session is over


def test_selected_networks_admit_the_client_ip_offered(
    page: Page, server: Server, mgmt: Management, artifacts: Path
) -> None:
    name = new_name("e2enet")
    signed_in(page, server)
    create_registry(page, name)
    expect(page.get_by_role("status").first).to_contain_text(f"Registry {name} created")
    shoot(page, artifacts, "04-registry-created-overview")
    assert mgmt.get(name)["sku"]["name"] == "Premium"
    # Before any rule, another address on the machine gets in.
    assert on_registry(server, name, OTHER).status_code == 200

    registry_tab(page, "Networking")
    expect(page.get_by_role("radio", name="All networks")).to_be_checked()
    shoot(page, artifacts, "05-networking-all-networks")
    selected_networks_with_my_address(page)
    shoot(page, artifacts, "06-networking-selected-unsaved")
    save(page)
    eventually(
        "the rule set denies by default and admits the browser's address",
        lambda: (
            rule_set(mgmt, name)["networkRuleSet"]["defaultAction"] == "Deny"
            and BROWSER in ip_rules(mgmt, name)
        ),
    )
    assert ip_rules(mgmt, name) == [BROWSER]
    expect(page.get_by_role("radio", name="Selected networks")).to_be_checked()
    expect(page.get_by_text(BROWSER).first).to_be_visible()
    shoot(page, artifacts, "07-networking-selected-saved")

    refused(on_registry(server, name, OTHER), OTHER, name)
    assert on_registry(server, name, BROWSER).status_code == 200


def test_disabled_public_access_refuses_pushes(
    page: Page, server: Server, mgmt: Management, artifacts: Path
) -> None:
    name = new_name("e2eoff")
    signed_in(page, server)
    create_registry(page, name)
    registry_tab(page, "Networking")
    selected_networks_with_my_address(page)
    save(page)
    eventually("the browser's address is let in", lambda: BROWSER in ip_rules(mgmt, name))
    start = on_registry(server, name, BROWSER, "POST", "/v2/app/blobs/uploads/")
    assert start.status_code == 202, start.text  # pushes go in

    networking(page, name)
    page.get_by_role("radio", name="Disabled").check()
    shoot(page, artifacts, "08-networking-disabled-unsaved")
    save(page)
    eventually(
        "public network access is Disabled",
        lambda: rule_set(mgmt, name)["publicNetworkAccess"] == "Disabled",
    )
    expect(page.get_by_role("radio", name="Disabled")).to_be_checked()
    shoot(page, artifacts, "09-networking-disabled-saved")

    refused(
        on_registry(server, name, BROWSER, "POST", "/v2/app/blobs/uploads/"),
        "public network access is disabled",
    )
    # The portal is on the management host: turning the registry's public endpoint off does
    # not lock its owner out of the page that turns it back on.
    page.reload()
    expect(page.get_by_role("radio", name="Disabled")).to_be_checked()


def test_approve_a_private_endpoint_connection(
    page: Page, server: Server, mgmt: Management, artifacts: Path
) -> None:
    name = new_name("e2epe")
    mgmt.create(name)
    request_connection(mgmt, name)
    assert connection_states(mgmt, name) == ["Pending"]
    refused(on_registry(server, name, None, address=PE1), "pe1")

    signed_in(page, server)
    networking(page, name, "Private access")
    pending = row_of(page, "pe1")
    expect(pending).to_contain_text("Pending")
    shoot(page, artifacts, "10-private-access-pending")
    pending.get_by_role("button", name="Approve").click()
    told(page, f"{name}-pe1", "approved")
    eventually("the connection is Approved", lambda: connection_states(mgmt, name) == ["Approved"])
    expect(row_of(page, "pe1")).to_contain_text("Approved")
    shoot(page, artifacts, "11-private-access-approved")

    assert on_registry(server, name, None, address=PE1).status_code == 200


def test_allow_a_refused_address_from_recent_refusals(
    page: Page, server: Server, mgmt: Management, artifacts: Path
) -> None:
    name = new_name("e2eallow")
    mgmt.create(name, networkRuleSet={"defaultAction": "Deny", "ipRules": [{"value": BROWSER}]})
    refused(on_registry(server, name, OTHER), OTHER, name)

    signed_in(page, server)
    networking(page, name, "Recent refusals")
    allow = re.compile(r"^Allow\b")
    # Its row among the addresses turned away (the latest refused requests list it too).
    refusal = row_of(page, OTHER).filter(has=page.get_by_role("button", name=allow))
    expect(refusal).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("[Rr]efused requests"))).to_be_visible()
    shoot(page, artifacts, "12-recent-refusals")
    refusal.get_by_role("button", name=allow).click()
    told(page, OTHER, "added")
    eventually(f"{OTHER} is in the rules", lambda: OTHER in ip_rules(mgmt, name))
    assert sorted(ip_rules(mgmt, name)) == [BROWSER, OTHER]
    shoot(page, artifacts, "13-recent-refusals-allowed")

    assert on_registry(server, name, OTHER).status_code == 200


def test_every_page_at_desktop_and_narrow_widths(
    page: Page, server: Server, mgmt: Management, artifacts: Path
) -> None:
    """Each page with something on it, screenshotted at 1280 px and at 420 px; at 420 px no
    page may scroll sideways (wide tables scroll inside their own box)."""
    name = new_name("e2epages")
    mgmt.create(name, networkRuleSet={"defaultAction": "Deny", "ipRules": [{"value": BROWSER}]})
    mgmt.update(name, adminUserEnabled=True)
    push_image(server, name, "team/app")
    mgmt.scoped_token(name, "cipull", ["repositories/team/app/content/read"])
    refused(on_registry(server, name, OTHER), OTHER, name)
    request_connection(mgmt, name)

    pages = [
        ("registries", "/portal/registries"),
        ("overview", f"/portal/registries/{name}"),
        ("repositories", f"/portal/registries/{name}/repositories"),
        ("access-keys", f"/portal/registries/{name}/access-keys"),
        ("tokens", f"/portal/registries/{name}/tokens"),
        ("networking", f"/portal/registries/{name}/networking"),
        ("networking-private", f"/portal/registries/{name}/networking?tab=private"),
        ("networking-refusals", f"/portal/registries/{name}/networking?tab=refusals"),
    ]
    page.goto("/portal/signin")
    page.set_viewport_size(NARROW)
    shoot(page, artifacts, "narrow-signin")
    too_wide: list[str] = []
    for width, viewport in (("desktop", None), ("narrow", NARROW)):
        if viewport is None:
            page.set_viewport_size(DESKTOP)
            signed_in(page, server)
        else:
            page.set_viewport_size(viewport)
        for label, path in pages:
            response = page.goto(path)
            assert response is not None and response.status == 200, (label, response)
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            shoot(page, artifacts, f"{width}-{label}")
            if viewport is not None:
                scroll = int(page.evaluate("document.documentElement.scrollWidth"))
                if scroll > viewport["width"]:
                    too_wide.append(f"{label}: {scroll}px wide in a {viewport['width']}px window")
    assert not too_wide, too_wide


def test_leaving_with_unsaved_changes_warns(
    page: Page, server: Server, mgmt: Management, dialogs: Dialogs
) -> None:
    """A changed, unsaved Networking form raises the browser's "Leave site?" warning: staying
    keeps the change, leaving leaves; once saved, leaving asks nothing."""
    name = new_name("e2eleave")
    mgmt.create(name)
    signed_in(page, server)
    here = re.compile(rf"/portal/registries/{name}/networking")
    overview = page.get_by_role("navigation", name="Registry").get_by_role(
        "link", name="Overview", exact=True
    )
    selected = page.get_by_role("radio", name="Selected networks")

    networking(page, name)
    selected.check()
    dialogs.leave = False
    with page.expect_event("dialog") as warned:
        overview.click()
    assert warned.value.type == "beforeunload"
    expect(page).to_have_url(here)  # stayed, the change still there
    expect(selected).to_be_checked()

    dialogs.leave = True
    with page.expect_event("dialog") as warned:
        overview.click()
    assert warned.value.type == "beforeunload"
    expect(page).to_have_url(re.compile(rf"/portal/registries/{name}$"))
    assert dialogs.seen == ["beforeunload", "beforeunload"]
    assert rule_set(mgmt, name)["networkRuleSet"]["defaultAction"] == "Allow"  # nothing saved

    # Typing an address is a change too; after Save there is nothing left to lose.
    networking(page, name)
    selected.check()
    page.get_by_label("Add addresses or ranges").press_sequentially("203.0.113.7")
    dialogs.leave = False
    with page.expect_event("dialog") as warned:
        overview.click()
    assert warned.value.type == "beforeunload"
    expect(page).to_have_url(here)
    expect(page.get_by_label("Add addresses or ranges")).to_have_value("203.0.113.7")
    save(page)
    eventually("203.0.113.7 is saved", lambda: ip_rules(mgmt, name) == ["203.0.113.7"])
    dialogs.seen.clear()
    overview.click()
    expect(page).to_have_url(re.compile(rf"/portal/registries/{name}$"))
    assert dialogs.seen == [], "leaving after Save warned"


FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) { return "(body)"; }
  const label = e.labels && e.labels.length ? e.labels[0].textContent : e.textContent;
  return `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""} ${(label || "").trim().slice(0, 40)}`;
}"""


def tab_to(page: Page, target: Locator, limit: int = 60) -> None:
    """Press Tab until `target` has the focus (at most `limit` times)."""
    passed: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("e => e === document.activeElement"):
            return
        passed.append(str(page.evaluate(FOCUSED)))
    raise AssertionError(f"{limit} presses of Tab never reached {target}; focus went: {passed}")


def test_networking_form_from_the_keyboard(
    page: Page, server: Server, mgmt: Management, artifacts: Path
) -> None:
    """Selected networks with the client's own address, chosen and saved with the keyboard
    only. Tab enters the access choices at the checked one (All networks) and leaves the group
    on the next press: within a radio group the arrow keys move, as in every browser."""
    name = new_name("e2ekeys")
    mgmt.create(name)
    signed_in(page, server)
    page.goto(f"/portal/registries/{name}/networking")
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)

    all_networks = page.get_by_role("radio", name="All networks")
    selected = page.get_by_role("radio", name="Selected networks")
    offered = page.get_by_role(
        "checkbox", name=re.compile(rf"Add your client IP address \({re.escape(BROWSER)}\)")
    )
    save_button = page.get_by_role("button", name="Save")

    tab_to(page, all_networks)
    page.keyboard.press("ArrowDown")
    expect(selected).to_be_focused()
    expect(selected).to_be_checked()
    tab_to(page, offered)
    page.keyboard.press("Space")
    expect(offered).to_be_checked()
    shoot(page, artifacts, "keyboard-selected-unsaved")
    tab_to(page, save_button)
    page.keyboard.press("Enter")
    told(page, "Saved")
    eventually(
        "the rule set denies by default and admits the browser's address",
        lambda: (
            rule_set(mgmt, name)["networkRuleSet"]["defaultAction"] == "Deny"
            and ip_rules(mgmt, name) == [BROWSER]
        ),
    )
    expect(selected).to_be_checked()


def hundred_rules() -> list[dict[str, str]]:
    """100 IP rules: IPv4 addresses and ranges, and every fifth a long IPv6 range."""
    rules = []
    for i in range(100):
        if i % 5 == 0:
            value = f"2001:db8:{i:x}:{i * 7:x}::/64"
        elif i % 2:
            value = f"203.0.{i}.0/24"
        else:
            value = f"198.51.100.{i}"
        rules.append({"value": value, "action": "Allow"})
    return rules


def test_a_hundred_rules_keep_the_layout(
    page: Page, server: Server, mgmt: Management, artifacts: Path
) -> None:
    """A Premium registry at its 100 IP rules: at 1280 px and at 420 px the Networking page
    says 100 of 100, does not scroll sideways, and its Save button can be reached."""
    name = new_name("e2e100")
    mgmt.create(name)
    mgmt.update(name, networkRuleSet={"defaultAction": "Deny", "ipRules": hundred_rules()})
    assert len(ip_rules(mgmt, name)) == 100

    signed_in(page, server)
    too_wide: list[str] = []
    for width, viewport in (("desktop", DESKTOP), ("narrow", NARROW)):
        page.set_viewport_size(viewport)
        page.goto(f"/portal/registries/{name}/networking")
        expect(page.locator("#rule-count")).to_contain_text("100 of 100")
        expect(page.get_by_role("radio", name="Selected networks")).to_be_checked()
        expect(page.get_by_role("checkbox", name="Remove 2001:db8:5f:299::/64")).to_be_attached()
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if scroll > inner:
            too_wide.append(f"{width}: {scroll}px wide in a {inner}px window")
        save_button = page.get_by_role("button", name="Save")
        save_button.scroll_into_view_if_needed()
        expect(save_button).to_be_in_viewport(ratio=1)
        shoot(page, artifacts, f"100-rules-{width}")
    assert not too_wide, too_wide
