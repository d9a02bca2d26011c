"""The Azure SDK for Python against a `--tls` test server, signed in as its owner."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.identity import ClientSecretCredential
from azure.mgmt.containerregistry import ContainerRegistryManagementClient

from tests.support.server import Server


def owner_credential(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ClientSecretCredential:
    """azure-identity signing in as the server's owner. azure-core uses requests, which trusts
    REQUESTS_CA_BUNDLE (set on this machine globally): it gets the system CAs plus the server's."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_bundle(tmp_path / "bundle.pem")))
    monkeypatch.setenv("AZURE_CORE_INSTANCE_DISCOVERY", "false")
    owner = server.owner
    return ClientSecretCredential(
        owner["tenant"],
        owner["appId"],
        owner["password"],
        authority=server.url,
        disable_instance_discovery=True,
    )


def management_client(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ContainerRegistryManagementClient:
    """azure-mgmt-containerregistry on the server's management API."""
    return ContainerRegistryManagementClient(
        owner_credential(server, tmp_path, monkeypatch),
        server.owner["subscription"],
        base_url=server.url,
        credential_scopes=["https://management.azure.com/.default"],
    )
