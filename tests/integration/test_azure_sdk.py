"""The official Azure SDK for Python manages moorage's registries, over TLS, unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.containerregistry import ContainerRegistryManagementClient
from azure.mgmt.containerregistry.models import (
    IPRule,
    NetworkRuleSet,
    Registry,
    RegistryNameCheckRequest,
    RegistryUpdateParameters,
    Sku,
)

from tests.support.azure import management_client
from tests.support.server import Server, running_server

GROUP = "moorage"


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("sdk") / "data", "--tls") as server:
        yield server


@pytest.fixture
def client(
    tls_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ContainerRegistryManagementClient:
    return management_client(tls_server, tmp_path, monkeypatch)


def test_create_get_list_update_delete(client: ContainerRegistryManagementClient) -> None:
    created = client.registries.begin_create(
        GROUP, "sdkregistry1", Registry(location="local", sku=Sku(name="Premium"))
    ).result()
    assert created.name == "sdkregistry1"
    assert created.provisioning_state == "Succeeded"
    assert created.login_server.startswith("sdkregistry1.localhost:")
    assert created.network_rule_set.default_action == "Allow"
    assert created.public_network_access == "Enabled"
    assert created.admin_user_enabled is False

    fetched = client.registries.get(GROUP, "sdkregistry1")
    assert fetched.id == created.id
    assert "sdkregistry1" in [r.name for r in client.registries.list_by_resource_group(GROUP)]
    assert "sdkregistry1" in [r.name for r in client.registries.list()]

    updated = client.registries.begin_update(
        GROUP,
        "sdkregistry1",
        RegistryUpdateParameters(
            network_rule_set=NetworkRuleSet(
                default_action="Deny",
                ip_rules=[
                    IPRule(ip_address_or_range="203.0.113.7"),
                    IPRule(ip_address_or_range="198.51.100.0/24"),
                ],
            ),
        ),
    ).result()
    assert updated.network_rule_set.default_action == "Deny"
    assert [r.ip_address_or_range for r in updated.network_rule_set.ip_rules] == [
        "203.0.113.7",
        "198.51.100.0/24",
    ]
    # A change that leaves the rule set out keeps it.
    disabled = client.registries.begin_update(
        GROUP, "sdkregistry1", RegistryUpdateParameters(public_network_access="Disabled")
    ).result()
    assert disabled.public_network_access == "Disabled"
    assert len(disabled.network_rule_set.ip_rules) == 2

    client.registries.begin_delete(GROUP, "sdkregistry1").result()
    with pytest.raises(ResourceNotFoundError):
        client.registries.get(GROUP, "sdkregistry1")


def test_name_check_and_credentials(client: ContainerRegistryManagementClient) -> None:
    check = client.registries.check_name_availability(
        RegistryNameCheckRequest(name="sdkregistry2", type="Microsoft.ContainerRegistry/registries")
    )
    assert check.name_available is True
    client.registries.begin_create(
        GROUP,
        "sdkregistry2",
        Registry(location="local", sku=Sku(name="Standard"), admin_user_enabled=True),
    ).result()
    taken = client.registries.check_name_availability(
        RegistryNameCheckRequest(name="SDKREGISTRY2", type="Microsoft.ContainerRegistry/registries")
    )
    assert (taken.name_available, taken.reason) == (False, "AlreadyExists")
    credentials = client.registries.list_credentials(GROUP, "sdkregistry2")
    assert credentials.username == "sdkregistry2"
    first = {p.name: p.value for p in credentials.passwords}
    assert set(first) == {"password", "password2"}
    renewed = client.registries.regenerate_credential(GROUP, "sdkregistry2", {"name": "password"})
    second = {p.name: p.value for p in renewed.passwords}
    assert second["password"] != first["password"]
    assert second["password2"] == first["password2"]
    client.registries.begin_delete(GROUP, "sdkregistry2").result()


def test_errors_come_back_in_the_resource_managers_shape(
    client: ContainerRegistryManagementClient,
) -> None:
    with pytest.raises(HttpResponseError) as caught:
        client.registries.begin_create(
            GROUP, "bad-name", Registry(location="local", sku=Sku(name="Premium"))
        ).result()
    assert caught.value.error is not None
    assert caught.value.error.code == "InvalidResourceName"
    assert "bad-name" in caught.value.error.message
    with pytest.raises(ResourceNotFoundError) as missing:
        client.registries.get("nosuchgroup", "whatever1")
    assert missing.value.error is not None
    assert missing.value.error.code == "ResourceGroupNotFound"
