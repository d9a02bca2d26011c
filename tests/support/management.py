"""A small client of moorage's management API for tests: an owner token and registry calls."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.server import Server

API = {"api-version": "2025-11-01"}


def token_for(server: Server, app_id: str, secret: str, tenant: str) -> str:
    r = httpx.post(
        f"{server.url}/{tenant}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app_id,
            "client_secret": secret,
            "scope": "https://management.azure.com/.default",
        },
        verify=False,  # noqa: S501 - loopback test server
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


class Management:
    def __init__(self, server: Server) -> None:
        owner = server.owner
        self.server = server
        self.subscription = owner["subscription"]
        token = token_for(server, owner["appId"], owner["password"], owner["tenant"])
        self.http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"})

    def path(self, name: str, group: str = "moorage") -> str:
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{group}/providers/"
            f"Microsoft.ContainerRegistry/registries/{name}"
        )

    def create(self, name: str, sku: str = "Premium", **properties: Any) -> dict[str, Any]:
        r = self.http.put(
            self.path(name),
            params=API,
            json={"location": "local", "sku": {"name": sku}, "properties": properties},
        )
        assert r.status_code in (200, 201), r.text
        return dict(r.json())

    def patch(self, name: str, body: dict[str, Any]) -> httpx.Response:
        return self.http.patch(self.path(name), params=API, json=body)

    def update(self, name: str, **properties: Any) -> dict[str, Any]:
        r = self.patch(name, {"properties": properties})
        assert r.status_code == 200, r.text
        return dict(r.json())

    def add_rule(self, name: str, value: str, **extra: Any) -> httpx.Response:
        return self.http.post(
            self.path(name) + "/addIpRule", params=API, json={"value": value, **extra}
        )

    def remove_rule(self, name: str, value: str) -> httpx.Response:
        return self.http.post(self.path(name) + "/removeIpRule", params=API, json={"value": value})

    def get(self, name: str) -> dict[str, Any]:
        r = self.http.get(self.path(name), params=API)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def denied(self, name: str) -> dict[str, Any]:
        r = self.http.get(self.path(name) + "/deniedClients", params=API)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def credentials(self, name: str) -> tuple[str, str, str]:
        """The admin user's name and its two passwords."""
        r = self.http.post(self.path(name) + "/listCredentials", params=API)
        assert r.status_code == 200, r.text
        body = r.json()
        return body["username"], body["passwords"][0]["value"], body["passwords"][1]["value"]

    def principal(self, role: str, scope: str) -> tuple[str, str]:
        """A new service principal holding `role` on `scope`: (appId, secret)."""
        r = self.http.post(
            f"/subscriptions/{self.subscription}/providers/Moorage.Identity/servicePrincipals",
            params={"api-version": "2024-11-01"},
            json={"displayName": f"sp-{role}", "role": role, "scopes": [scope]},
        )
        assert r.status_code == 201, r.text
        return r.json()["appId"], r.json()["password"]

    def scoped_token(self, name: str, token: str, actions: list[str]) -> tuple[str, str]:
        """A new token of registry `name` with its own scope map of `actions`:
        (token name, password1)."""
        path = self.path(name)
        r = self.http.put(
            f"{path}/scopeMaps/{token}-map", params=API, json={"properties": {"actions": actions}}
        )
        assert r.status_code == 201, r.text
        r = self.http.put(
            f"{path}/tokens/{token}",
            params=API,
            json={"properties": {"scopeMapId": f"{path}/scopeMaps/{token}-map"}},
        )
        assert r.status_code == 201, r.text
        r = self.http.post(
            f"{path}/generateCredentials", params=API, json={"tokenId": f"{path}/tokens/{token}"}
        )
        assert r.status_code == 200, r.text
        return token, r.json()["passwords"][0]["value"]

    def close(self) -> None:
        self.http.close()


def client_from(source: str, **kwargs: Any) -> httpx.Client:
    """An HTTP client whose TCP connections come from `source` (a loopback address)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=source), **kwargs)
