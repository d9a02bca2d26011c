"""The official azure-containerregistry SDK lists, shows and deletes moorage's content, over TLS,
unchanged: it meets a 401 challenge, trades an identity-endpoint token for a refresh token
(/oauth2/exchange) and that for an access token (/oauth2/token), then calls /acr/v1.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from azure.containerregistry import ArtifactTagOrder, ContainerRegistryClient
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.support.azure import owner_credential
from tests.support.oci import OCI_MANIFEST, Image, make_image
from tests.support.registry_http import owner_auth, push_blob, push_manifest
from tests.support.server import Server, running_server

AUDIENCE = "https://containerregistry.azure.net"


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("sdkacr") / "data", "--tls") as server:
        yield server


@pytest.fixture(scope="module")
def pushed(tls_server: Server) -> dict[str, Image]:
    """sdk/app: v1 (amd64) and v2 (arm64), v2 pushed last; sdk/other: latest."""
    images: dict[str, Image] = {}
    context = ssl.create_default_context(cafile=str(tls_server.ca))
    with httpx.Client(
        base_url=tls_server.url, verify=context, auth=owner_auth(tls_server), trust_env=False
    ) as client:
        for repo, tag, arch, seed in [
            ("sdk/app", "v1", "amd64", 1),
            ("sdk/app", "v2", "arm64", 2),
            ("sdk/other", "latest", "amd64", 3),
        ]:
            image = make_image(seed=seed, layers=1, layer_bytes=128, arch=arch)
            for blob in image.blobs():
                push_blob(client, repo, blob)
            push_manifest(client, repo, tag, image.manifest, OCI_MANIFEST)
            images[f"{repo}:{tag}"] = image
    return images


@pytest.fixture
def client(
    tls_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ContainerRegistryClient:
    credential = owner_credential(tls_server, tmp_path, monkeypatch)
    return ContainerRegistryClient(tls_server.url, credential, audience=AUDIENCE)


def test_list_and_show(client: ContainerRegistryClient, pushed: dict[str, Image]) -> None:
    names = list(client.list_repository_names())
    assert names[0] == "sdk/app" and set(names) <= {"sdk/app", "sdk/other"}
    assert list(client.list_repository_names(results_per_page=1)) == names  # Link paging

    repository = client.get_repository_properties("sdk/app")
    assert (repository.name, repository.manifest_count, repository.tag_count) == ("sdk/app", 2, 2)
    assert repository.can_delete and repository.can_write and repository.can_read
    assert repository.created_on <= repository.last_updated_on

    tags = list(client.list_tag_properties("sdk/app"))
    assert [(t.name, t.digest) for t in tags] == [
        ("v1", pushed["sdk/app:v1"].digest),
        ("v2", pushed["sdk/app:v2"].digest),
    ]
    newest = client.list_tag_properties(
        "sdk/app", order_by=ArtifactTagOrder.LAST_UPDATED_ON_DESCENDING, results_per_page=1
    )
    assert [t.name for t in newest] == ["v2", "v1"]
    tag = client.get_tag_properties("sdk/app", "v1")
    assert (tag.name, tag.digest) == ("v1", tags[0].digest)  # (1.2.0 leaves repository_name out)

    manifests = {m.digest: m for m in client.list_manifest_properties("sdk/app")}
    arm = manifests[pushed["sdk/app:v2"].digest]
    assert (arm.architecture, arm.operating_system, arm.tags) == ("arm64", "linux", ["v2"])
    image = pushed["sdk/app:v2"]
    assert arm.size_in_bytes == len(image.manifest) + sum(len(b) for b in image.blobs())
    shown = client.get_manifest_properties("sdk/app", "v1")  # by tag: the SDK asks _tags first
    assert (shown.digest, shown.architecture, shown.tags) == (tags[0].digest, "amd64", ["v1"])


def test_changeable_attributes_cannot_change(client: ContainerRegistryClient) -> None:
    with pytest.raises(HttpResponseError) as caught:
        client.update_tag_properties("sdk/app", "v1", can_write=False)
    assert caught.value.status_code == 405
    assert "locks" in str(caught.value)
    unchanged = client.update_repository_properties("sdk/app", can_delete=True)
    assert unchanged.can_delete is True


def test_delete_tag_and_repository(
    client: ContainerRegistryClient, pushed: dict[str, Image]
) -> None:
    client.delete_tag("sdk/other", "latest")
    with pytest.raises(ResourceNotFoundError):
        client.get_tag_properties("sdk/other", "latest")
    client.delete_tag("sdk/other", "latest")  # gone already: the SDK does not raise

    client.delete_repository("sdk/other")
    with pytest.raises(ResourceNotFoundError):
        client.get_repository_properties("sdk/other")
    client.delete_repository("sdk/other")  # gone already: the SDK does not raise
    assert "sdk/other" not in list(client.list_repository_names())
