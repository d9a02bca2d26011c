"""The network gate against a real server, with real TCP source addresses on loopback."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.management import Management, client_from
from tests.support.registry_http import owner_auth, owner_authorization
from tests.support.server import Server, free_port, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("gate") / "data", "--max-ip-rules", "5") as s:
        yield s


@pytest.fixture(scope="module")
def mgmt(server: Server) -> Iterator[Management]:
    m = Management(server)
    yield m
    m.close()


def v2(
    server: Server,
    registry: str,
    source: str,
    path: str = "/v2/",
    *,
    signed_in: bool = False,
    **kw: Any,
) -> httpx.Response:
    """GET `path` of `registry` from `source`, with the owner's Basic credentials when
    `signed_in` (an admitted client then gets 200; without them, 401 UNAUTHORIZED)."""
    headers = {"Host": f"{registry}.localhost:{server.port}", **kw}
    if signed_in:
        headers["Authorization"] = owner_authorization(server)
    with client_from(source) as c:
        return c.get(f"{server.url}{path}", headers=headers)


def denied(r: httpx.Response, client: str, registry: str) -> dict[str, Any]:
    """A refusal: 403 DENIED on every route, without a challenge, in the cloud's words first."""
    assert r.status_code == 403, r.text
    assert "WWW-Authenticate" not in r.headers
    error = r.json()["errors"][0]
    assert error["code"] == "DENIED"
    assert error["message"].startswith(f"client with IP '{client}' is not allowed access. ")
    assert f"Registry '{registry}'" in error["message"], error
    assert error["detail"]["client"] == client
    return dict(error)


def test_default_allow_admits_anyone(server: Server, mgmt: Management) -> None:
    mgmt.create("gateopen1")
    for source in ("127.0.0.2", "127.0.0.3"):
        assert v2(server, "gateopen1", source, signed_in=True).status_code == 200


def test_deny_with_a_single_address_and_a_range(server: Server, mgmt: Management) -> None:
    mgmt.create("gatedeny1")
    mgmt.update(
        "gatedeny1", networkRuleSet={"defaultAction": "Deny", "ipRules": [{"value": "127.0.0.2"}]}
    )
    assert v2(server, "gatedeny1", "127.0.0.2", signed_in=True).status_code == 200
    error = denied(v2(server, "gatedeny1", "127.0.0.3"), "127.0.0.3", "gatedeny1")
    assert "not in the registry's allowed IP ranges" in error["message"]
    assert (
        "moorage acr network-rule add --name gatedeny1 --ip-address 127.0.0.3" in (error["message"])
    )
    assert mgmt.add_rule("gatedeny1", "127.0.0.0/30").status_code == 200
    # the very next request
    assert v2(server, "gatedeny1", "127.0.0.3", signed_in=True).status_code == 200
    denied(v2(server, "gatedeny1", "127.0.0.5"), "127.0.0.5", "gatedeny1")


def test_every_data_plane_route_is_gated(server: Server, mgmt: Management) -> None:
    mgmt.create("gateroutes1")
    mgmt.update("gateroutes1", networkRuleSet={"defaultAction": "Deny"})
    for path in (
        "/v2/",
        "/v2/_catalog",
        "/v2/app/tags/list",
        "/v2/app/blobs/uploads/",
        "/oauth2/token",
        "/oauth2/exchange",
        "/acr/v1/_catalog",
        "/anything",
    ):
        denied(v2(server, "gateroutes1", "127.0.0.2", path), "127.0.0.2", "gateroutes1")


def test_removing_a_rule_refuses_the_very_next_request(server: Server, mgmt: Management) -> None:
    mgmt.create("gateremove1")
    mgmt.update(
        "gateremove1", networkRuleSet={"defaultAction": "Deny", "ipRules": [{"value": "127.0.0.2"}]}
    )
    with client_from("127.0.0.2") as c:  # one keep-alive connection throughout
        url = f"{server.url}/v2/"
        host = {"Host": f"gateremove1.localhost:{server.port}"}
        signed_in = {**host, "Authorization": owner_authorization(server)}
        assert c.get(url, headers=signed_in).status_code == 200
        assert mgmt.remove_rule("gateremove1", "127.0.0.2").status_code == 200
        denied(c.get(url, headers=host), "127.0.0.2", "gateremove1")


def test_public_access_disabled_overrides_every_rule(server: Server, mgmt: Management) -> None:
    mgmt.create("gatepublic1")
    mgmt.update(
        "gatepublic1",
        publicNetworkAccess="Disabled",
        networkRuleSet={"defaultAction": "Allow", "ipRules": [{"value": "127.0.0.2"}]},
    )
    error = denied(v2(server, "gatepublic1", "127.0.0.2"), "127.0.0.2", "gatepublic1")
    assert "public network access is disabled" in error["message"]
    assert "--public-network-enabled true" in error["message"]
    mgmt.update("gatepublic1", publicNetworkAccess="Enabled")
    assert v2(server, "gatepublic1", "127.0.0.2", signed_in=True).status_code == 200


def test_the_management_host_is_not_subject_to_a_registrys_rules(
    server: Server, mgmt: Management
) -> None:
    mgmt.update("default", publicNetworkAccess="Disabled")
    try:
        with client_from("127.0.0.3") as c:
            denied(c.get(f"{server.url}/v2/_catalog"), "127.0.0.3", "default")
            assert c.get(f"{server.url}/openapi.json").status_code == 200
        assert mgmt.get("default")["properties"]["publicNetworkAccess"] == "Disabled"
    finally:
        mgmt.update("default", publicNetworkAccess="Enabled")


def test_token_endpoint_refused_before_any_credential_check(
    server: Server, mgmt: Management
) -> None:
    mgmt.create("gatetoken1", adminUserEnabled=True)
    password = mgmt.http.post(
        mgmt.path("gatetoken1") + "/listCredentials", params={"api-version": "2025-11-01"}
    ).json()["passwords"][0]
    mgmt.update("gatetoken1", networkRuleSet={"defaultAction": "Deny"})
    host = {"Host": f"gatetoken1.localhost:{server.port}"}
    for method in ("GET", "POST"):
        answers = []
        for secret in ("wrong", password["value"]):
            with client_from("127.0.0.2") as c:
                r = c.request(
                    method,
                    f"{server.url}/oauth2/token",
                    headers=host,
                    params={"service": "gatetoken1", "scope": "registry:catalog:*"},
                    auth=("gatetoken1", secret),
                    data={"grant_type": "password", "username": "gatetoken1", "password": secret}
                    if method == "POST"
                    else None,
                )
            denied(r, "127.0.0.2", "gatetoken1")
            answers.append((r.status_code, r.json()))
        assert answers[0] == answers[1], method


@pytest.mark.parametrize(
    "header",
    [
        {"X-Forwarded-For": "203.0.113.7"},
        {"Forwarded": "for=203.0.113.7"},
        {"X-Real-IP": "203.0.113.7"},
    ],
)
def test_forwarding_headers_from_an_untrusted_peer_change_nothing(
    server: Server, mgmt: Management, header: dict[str, str]
) -> None:
    mgmt.create("gatespoof1")
    mgmt.update(
        "gatespoof1",
        networkRuleSet={"defaultAction": "Deny", "ipRules": [{"value": "203.0.113.7"}]},
    )
    denied(v2(server, "gatespoof1", "127.0.0.2", **header), "127.0.0.2", "gatespoof1")


def test_skus_and_the_rule_limit(server: Server, mgmt: Management) -> None:
    mgmt.create("gatebasic1", sku="Basic")
    for body in (
        {"networkRuleSet": {"ipRules": [{"value": "203.0.113.7"}]}},
        {"networkRuleSet": {"defaultAction": "Deny"}},
        {"publicNetworkAccess": "Disabled"},
    ):
        r = mgmt.patch("gatebasic1", {"properties": body})
        assert r.status_code == 400, r.text
        assert r.json()["error"]["code"] == "PremiumSkuRequired"
        assert "moorage acr update --name gatebasic1 --sku Premium" in r.json()["error"]["message"]
    mgmt.create("gatedown1")
    assert mgmt.add_rule("gatedown1", "203.0.113.7").status_code == 200
    r = mgmt.patch("gatedown1", {"sku": {"name": "Standard"}})
    assert r.status_code == 400 and r.json()["error"]["code"] == "PremiumSkuRequired", r.text
    assert mgmt.get("gatedown1")["sku"]["name"] == "Premium"
    # --max-ip-rules 5 on this server
    mgmt.create("gatelimit1")
    for n in range(5):
        assert mgmt.add_rule("gatelimit1", f"198.51.100.{n}").status_code == 200
    r = mgmt.add_rule("gatelimit1", "198.51.100.99")
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "IpRuleLimitExceeded"
    assert "the limit is 5" in r.json()["error"]["message"]
    too_many = [{"value": f"192.0.2.{n}"} for n in range(6)]
    r = mgmt.patch("gatelimit1", {"properties": {"networkRuleSet": {"ipRules": too_many}}})
    assert r.status_code == 400
    assert len(mgmt.get("gatelimit1")["properties"]["networkRuleSet"]["ipRules"]) == 5


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("10.0.0.5/24", "did you mean '10.0.0.0/24'"),
        ("10.0.0.300", "10.0.0.300"),
        ("fe80::1%eth0", "zone"),
        ("10.0.0.0/33", "10.0.0.0/33"),
        ("", ""),
    ],
)
def test_bad_rules_are_refused_naming_the_value(mgmt: Management, value: str, words: str) -> None:
    mgmt.create("gatebad1")
    r = mgmt.add_rule("gatebad1", value)
    assert r.status_code == 400, r.text
    assert words in r.json()["error"]["message"]
    assert mgmt.get("gatebad1")["properties"]["networkRuleSet"]["ipRules"] == []


def test_the_same_rule_is_stored_once(mgmt: Management) -> None:
    mgmt.create("gatedup1")
    for value in ("203.0.113.7", "203.0.113.7/32", "::ffff:203.0.113.7"):
        assert mgmt.add_rule("gatedup1", value).status_code == 200
    rules = mgmt.get("gatedup1")["properties"]["networkRuleSet"]["ipRules"]
    assert [r["value"] for r in rules] == ["203.0.113.7"]


def test_a_rule_expires_on_its_own(server: Server, mgmt: Management) -> None:
    mgmt.create("gateexpiry1")
    mgmt.update("gateexpiry1", networkRuleSet={"defaultAction": "Deny"})
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    assert mgmt.add_rule("gateexpiry1", "127.0.0.2", expiresOn=soon).status_code == 200
    assert v2(server, "gateexpiry1", "127.0.0.2", signed_in=True).status_code == 200
    time.sleep(2.2)
    denied(v2(server, "gateexpiry1", "127.0.0.2"), "127.0.0.2", "gateexpiry1")
    assert mgmt.get("gateexpiry1")["properties"]["networkRuleSet"]["ipRules"] == []


def test_concurrent_adds_all_land(mgmt: Management) -> None:
    mgmt.create("gateconc1")
    values = [f"192.0.2.{n}" for n in range(5)]
    results: list[int] = []

    def add(value: str) -> None:
        results.append(mgmt.add_rule("gateconc1", value).status_code)

    threads = [threading.Thread(target=add, args=(v,)) for v in values]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 5
    rules = {r["value"] for r in mgmt.get("gateconc1")["properties"]["networkRuleSet"]["ipRules"]}
    assert rules == set(values)


def test_refusals_are_recorded_with_counts(server: Server, mgmt: Management) -> None:
    mgmt.create("gateaudit1")
    mgmt.update("gateaudit1", networkRuleSet={"defaultAction": "Deny"})
    for _ in range(3):
        v2(server, "gateaudit1", "127.0.0.3", "/v2/_catalog")
    v2(server, "gateaudit1", "127.0.0.4")
    report = mgmt.denied("gateaudit1")
    counts = {c["address"]: c["count"] for c in report["value"]}
    assert counts == {"127.0.0.3": 3, "127.0.0.4": 1}
    assert report["recent"][0]["address"] == "127.0.0.4"
    assert {d["path"] for d in report["recent"]} == {"/v2/_catalog", "/v2/"}


def test_ipv6_rules(tmp_path: Path) -> None:
    server = Server(tmp_path / "v6", free_port("::1"), host="::1").start()
    try:
        mgmt = Management(server)
        mgmt.create("gatesix1")
        mgmt.update(
            "gatesix1",
            networkRuleSet={"defaultAction": "Deny", "ipRules": [{"value": "2001:db8::/32"}]},
        )
        denied(v2(server, "gatesix1", "::1"), "::1", "gatesix1")
        assert mgmt.add_rule("gatesix1", "::1").status_code == 200
        assert v2(server, "gatesix1", "::1", signed_in=True).status_code == 200
        mgmt.close()
    finally:
        server.stop()


def test_trusted_proxy(tmp_path: Path) -> None:
    with running_server(tmp_path / "data", "--trusted-proxy", "127.0.0.4/32") as server:
        mgmt = Management(server)
        mgmt.create("gateproxy1")
        mgmt.update(
            "gateproxy1",
            networkRuleSet={"defaultAction": "Deny", "ipRules": [{"value": "203.0.113.7"}]},
        )
        ok = [
            {"X-Forwarded-For": "203.0.113.7"},
            {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"},  # the right-most counts
            {"X-Forwarded-For": "203.0.113.7, 127.0.0.4"},  # proxies are skipped
        ]
        for header in ok:
            r = v2(server, "gateproxy1", "127.0.0.4", signed_in=True, **header)
            assert r.status_code == 200, (header, r.text)
        error = denied(
            v2(
                server,
                "gateproxy1",
                "127.0.0.4",
                **{"X-Forwarded-For": "203.0.113.7, 198.51.100.9"},
            ),
            "198.51.100.9",
            "gateproxy1",
        )
        assert error["detail"]["peer"] == "127.0.0.4"
        # Only the named header (X-Forwarded-For by default) is believed: the proxy is judged.
        for other in ({"Forwarded": 'for="203.0.113.7:4711"'}, {"X-Real-IP": "203.0.113.7"}):
            denied(v2(server, "gateproxy1", "127.0.0.4", **other), "127.0.0.4", "gateproxy1")
        # A hop it must read and cannot: refused, never skipped.
        r = v2(server, "gateproxy1", "127.0.0.4", **{"X-Forwarded-For": "not-an-ip"})
        assert r.status_code == 400, r.text
        error = r.json()["errors"][0]
        assert error["code"] == "FORWARDED_HEADER_INVALID"
        assert error["detail"] == {
            "header": "X-Forwarded-For",
            "value": "not-an-ip",
            "proxy": "127.0.0.4",
        }
        # The same header from an untrusted peer is ignored.
        denied(
            v2(server, "gateproxy1", "127.0.0.5", **{"X-Forwarded-For": "203.0.113.7"}),
            "127.0.0.5",
            "gateproxy1",
        )
        mgmt.close()


@pytest.mark.parametrize("tool", ["skopeo", "podman"])
def test_container_tools_report_a_refusal_as_403_not_a_password_problem(
    server: Server, mgmt: Management, tmp_path: Path, tool: str
) -> None:
    """Debian 12's skopeo 1.9.3 and podman 4.3.1 print the status of a 403 on the version
    check (newer releases print its body); a 401 there made them say "invalid
    username/password". What they print is quoted in docs/network.md."""
    from tests.support.containers import isolated_tools
    from tests.support.oci import image_layout, make_image

    mgmt.update("default", networkRuleSet={"defaultAction": "Deny"})
    try:
        layout = image_layout(tmp_path / "img", make_image(seed=11), "v1")
        user, password = owner_auth(server)
        with isolated_tools(tmp_path / "tools", tool) as tools:
            if tool == "skopeo":
                runs = [
                    tools.skopeo(
                        "copy",
                        "--dest-tls-verify=false",
                        f"oci:{layout}:v1",
                        f"docker://{server.address}/app:v1",
                    ),
                    tools.skopeo(
                        "inspect", "--tls-verify=false", f"docker://{server.address}/app:v1"
                    ),
                    tools.skopeo(
                        "login", "--tls-verify=false", "-u", user, "-p", password, server.address
                    ),
                ]
            else:
                runs = [
                    tools.podman("pull", "--tls-verify=false", f"{server.address}/app:v1"),
                    tools.podman(
                        "login", "--tls-verify=false", "-u", user, "-p", password, server.address
                    ),
                ]
        for run in runs:
            said = run.stderr.decode()
            assert run.returncode != 0
            assert "403 (Forbidden)" in said, said
            assert "invalid username/password" not in said, said
    finally:
        mgmt.update("default", networkRuleSet={"defaultAction": "Allow"})


def test_a_change_reaches_every_replica_within_a_second(tmp_path: Path) -> None:
    """Two server processes on one data directory: a rule changed through one is enforced by
    the other within a second (the cloud says 'a few minutes')."""
    with running_server(tmp_path / "data", "--shared-data-dir") as first:
        second = Server(tmp_path / "data", free_port(), extra_args=["--shared-data-dir"]).start()
        try:
            mgmt = Management(first)
            mgmt.create("gatereplica1")
            assert v2(second, "gatereplica1", "127.0.0.2", signed_in=True).status_code == 200
            mgmt.update("gatereplica1", networkRuleSet={"defaultAction": "Deny"})
            changed = time.monotonic()
            while (r := v2(second, "gatereplica1", "127.0.0.2", signed_in=True)).status_code == 200:
                assert time.monotonic() - changed < 1.5, "the other replica still admits"
                time.sleep(0.05)
            assert time.monotonic() - changed <= 1.2
            denied(r, "127.0.0.2", "gatereplica1")
            mgmt.close()
        finally:
            second.stop()
