"""Password guessing against a real server (in-process, on a real TCP port), in the three
patterns issue 13 §2 found, and the honest clients beside them.

Logins cost argon2, so the counts are small: 5 free failures per (address, identity), 20 per
identity. Each test uses its own client addresses and identities (the throttle is the
server's, shared by the module).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.support.management import Management, client_from
from tests.support.server import Server


def new_registry(app_mgmt: Management, name: str) -> tuple[str, str]:
    """A registry with its admin user on: (login name, password)."""
    app_mgmt.create(name, adminUserEnabled=True)
    username, password, _ = app_mgmt.credentials(name)
    return username, password


def v2(c: httpx.Client, app_server: Server, registry: str, auth: tuple[str, str]) -> int:
    host = f"{registry}.localhost:{app_server.port}"
    return c.get(f"{app_server.url}/v2/", headers={"Host": host}, auth=auth).status_code


def identity_token(c: httpx.Client, app_server: Server, app_id: str, secret: str) -> httpx.Response:
    return c.post(
        f"{app_server.url}/{app_server.owner['tenant']}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app_id,
            "client_secret": secret,
            "scope": "https://management.azure.com/.default",
        },
    )


def test_good_logins_elsewhere_reset_nothing(app_server: Server, app_mgmt: Management) -> None:
    """Pattern 1: between guesses at a registry's admin password, the guesser logs in to a
    registry it owns (checked, then remembered) and with a token it holds on the victim."""
    admin, _ = new_registry(app_mgmt, "victim1")
    own_user, own_password = new_registry(app_mgmt, "ownreg1")
    token, token_password = app_mgmt.scoped_token(
        "victim1", "held1", ["repositories/x/content/read"]
    )
    guesses = []
    with client_from("127.0.0.21", timeout=120) as c:
        for i in range(10):
            assert v2(c, app_server, "ownreg1", (own_user, own_password)) == 200
            assert v2(c, app_server, "victim1", (token, token_password)) == 200
            guesses.append(v2(c, app_server, "victim1", (admin, f"guess-{i}")))
    # Had a success cleared anything, every guess would be checked (401). The penalties after
    # the free five (1 s, 2 s, 4 s, ...) may pass while a busy machine re-checks the good
    # logins every 5 s, so a few more guesses may be checked, never all.
    assert guesses[:5] == [401] * 5, guesses
    assert 429 in guesses[5:] and guesses.count(401) <= 8, guesses


def test_parallel_first_pulls_with_the_right_password_all_succeed(
    app_server: Server, app_mgmt: Management
) -> None:
    """Pattern 2: eight first pulls at once from one address, nothing remembered yet."""
    new_registry(app_mgmt, "parallel2")
    token, password = app_mgmt.scoped_token(
        "parallel2", "puller2", ["repositories/app/content/read"]
    )
    host = f"parallel2.localhost:{app_server.port}"

    def first_pull(_: int) -> int:
        with client_from("127.0.0.22") as c:
            r = c.get(
                f"{app_server.url}/oauth2/token",
                params={"service": host, "scope": "repository:app:pull"},
                headers={"Host": host},
                auth=(token, password),
            )
            return r.status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(first_pull, range(8))) == [200] * 8


def test_an_honest_client_under_load_is_never_throttled(
    app_server: Server, app_mgmt: Management
) -> None:
    """Pattern 2 under load, with a guesser spread over four addresses beside it: the guesser
    uses up the token's own count (20), yet the client that proved the token is never 429,
    while a new address is held back."""
    new_registry(app_mgmt, "load2")
    token, password = app_mgmt.scoped_token("load2", "busy2", ["repositories/app/content/read"])
    with client_from("127.0.0.23") as c:
        assert v2(c, app_server, "load2", (token, password)) == 200  # it proved the token

    def honest(_: int) -> list[int]:
        with client_from("127.0.0.23", timeout=120) as c:
            return [v2(c, app_server, "load2", (token, password)) for _ in range(10)]

    def guesser(n: int) -> list[int]:
        with client_from(f"127.0.0.{30 + n}", timeout=120) as c:
            return [v2(c, app_server, "load2", (token, f"guess-{n}-{i}")) for i in range(6)]

    with ThreadPoolExecutor(10) as pool:
        pulls = [pool.submit(honest, n) for n in range(6)]
        guesses = [pool.submit(guesser, n) for n in range(4)]
        answers = [a for f in pulls for a in f.result()]
        guessed = [g.result() for g in guesses]
    assert answers == [200] * len(answers)
    assert all(g[:5] == [401] * 5 and g[5] == 429 for g in guessed), guessed
    with client_from("127.0.0.35") as c:  # 20 failures: the token itself now waits
        assert v2(c, app_server, "load2", (token, password)) == 429


def test_the_identity_endpoint_and_the_portal_are_throttled(app_server: Server) -> None:
    """Pattern 3: wrong owner secrets at POST /{tenant}/oauth2/v2.0/token, then the right one;
    the portal's sign-in counts for the same principal."""
    owner = app_server.owner
    with client_from("127.0.0.25") as c:
        answers = [identity_token(c, app_server, owner["appId"], f"wrong{i}") for i in range(7)]
        assert [r.status_code for r in answers] == [401] * 5 + [429] * 2
        r = identity_token(c, app_server, owner["appId"], owner["password"])
        assert r.status_code == 429, r.text
        assert int(r.headers["Retry-After"]) >= 1
        body = r.json()
        assert body["error"] == "temporarily_unavailable" and body["error_codes"] == [50053]
        assert "127.0.0.25" in body["error_description"]
        r = c.post(
            f"{app_server.url}/portal/signin",
            data={"client_id": owner["appId"], "client_secret": owner["password"]},
        )
        assert r.status_code == 429 and "Too many failed sign-ins" in r.text
    with client_from("127.0.0.26") as c:  # another address is not held back
        assert identity_token(c, app_server, owner["appId"], owner["password"]).status_code == 200


def test_the_data_plane_counts_a_principal_as_the_identity_endpoint_does(
    app_server: Server, app_mgmt: Management
) -> None:
    """A service principal's secret guessed through a registry's login is the same identity
    as at the identity endpoint."""
    new_registry(app_mgmt, "victim5")
    app_id, secret = app_mgmt.principal("AcrPull", app_mgmt.path("victim5"))
    with client_from("127.0.0.27", timeout=120) as c:
        answers = [v2(c, app_server, "victim5", (app_id, f"wrong{i}")) for i in range(5)]
        assert answers == [401] * 5
        assert identity_token(c, app_server, app_id, secret).status_code == 429
    with client_from("127.0.0.28") as c:
        assert identity_token(c, app_server, app_id, secret).status_code == 200
