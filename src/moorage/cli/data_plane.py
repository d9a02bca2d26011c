"""Commands that talk to a registry itself (/v2/...): `acr check-health` and
`acr repository list|show-tags|delete`.

Requests go to the endpoint's host:port with `Host: <login server>`, with Basic credentials:
the admin user's when it is on, else the CLI's service principal's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import click
import httpx

from moorage.cli import registries as reg
from moorage.cli.client import Client, CliError, error_message
from moorage.cli.command import AzCommand, AzGroup, Report, confirm, server_command

MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
PAGE = 100


@dataclass
class Registry:
    """One registry's data plane, as this process reaches it."""

    client: Client
    name: str
    login_server: str
    auth: tuple[str, str]

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return self.client.data(self.login_server, method, path, headers=headers, auth=self.auth)

    def checked(
        self, method: str, path: str, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        response = self.request(method, path, headers)
        if response.status_code >= 400:
            message, code = error_message(response)
            raise CliError(
                f"{self.login_server} refused {method} {path}: {message}",
                code=code,
                status=response.status_code,
            )
        return response

    def listing(self, path: str, key: str) -> list[str]:
        """All names of a paginated listing (`_catalog`, `tags/list`), following Link pages."""
        names: list[str] = []
        url: str | None = f"{path}?n={PAGE}"
        while url:
            response = self.checked("GET", url)
            names.extend(response.json().get(key) or [])
            url = response.links.get("next", {}).get("url")
        return names


def open_registry(client: Client, name: str, group: str | None) -> Registry:
    found = reg.get(client, name, group)
    return Registry(client, name, found.login_server, reg.data_plane_credentials(client, found))


# -- check-health --------------------------------------------------------------------------


def health(registry: Registry) -> Report:
    where = f"{registry.client.endpoint} (Host: {registry.login_server})"
    data: dict[str, Any] = {
        "loginServer": registry.login_server,
        "reachable": False,
        "status": None,
        "message": "",
    }
    healthy = False
    try:
        response = registry.request("GET", "/v2/")
    except CliError as e:
        data["message"] = e.message
    else:
        data["reachable"] = True
        data["status"] = response.status_code
        message, _ = error_message(response)
        healthy = response.status_code == 200
        data.update(_network_view(response))
        if healthy:
            data["message"] = "the registry answers: OCI Distribution API available"
        else:
            data["message"] = message
    lines = [
        f"Registry:      {registry.name} ({registry.login_server})",
        f"Reached via:   {where}",
        f"Reachable:     {'yes' if data['reachable'] else 'no'}",
        f"HTTP status:   {data['status'] if data['status'] is not None else '-'}",
    ]
    if data.get("clientAddress"):
        lines.append(f"Seen as:       {data['clientAddress']}")
    if data.get("networkRule"):
        lines.append(f"Network rule:  {data['networkRule']}")
    lines += [
        f"Registry said: {data['message']}",
        f"Health:        {'OK' if healthy else 'FAILED'}",
    ]
    return Report(data, "\n".join(lines), 0 if healthy else 1)


def _network_view(response: httpx.Response) -> dict[str, str]:
    """The address the registry saw and the network rule that admitted or refused it: from the
    headers of an admitted request, from the refusal's detail otherwise."""
    seen = response.headers.get("X-Moorage-Client-Address")
    rule = response.headers.get("X-Moorage-Network-Rule")
    if seen is None:
        try:
            errors = response.json().get("errors") or []
            detail = errors[0].get("detail") if errors else None
        except (ValueError, AttributeError):
            detail = None
        if isinstance(detail, dict) and "client" in detail:
            seen = str(detail["client"])
            reason = str(detail.get("reason", ""))
            endpoint, state = detail.get("privateEndpoint"), detail.get("connectionState")
            rule = f"refused: {reason}" + (
                f" (private endpoint {endpoint}, connection {state})" if endpoint else ""
            )
    view = {}
    if seen:
        view["clientAddress"] = seen
    if rule:
        view["networkRule"] = rule
    return view


@click.command("check-health", cls=AzCommand)
@reg.name_options
@click.option("--yes", "-y", is_flag=True, help="Do not prompt (accepted for the cloud CLI).")
@server_command()
def check_health(client: Client, name: str, resource_group: str | None, yes: bool) -> Any:
    """Check that the registry answers from here; exit 1 when it does not."""
    return health(open_registry(client, name, resource_group))


# -- repository ----------------------------------------------------------------------------


@click.group("repository", cls=AzGroup)
def repository() -> None:
    """Repositories and images in a registry."""


@repository.command("list")
@reg.name_options
@server_command()
def repository_list(client: Client, name: str, resource_group: str | None) -> Any:
    """List repositories."""
    return open_registry(client, name, resource_group).listing("/v2/_catalog", "repositories")


@repository.command("show-tags")
@reg.name_options
@click.option("--repository", "repository_name", required=True, help="The repository.")
@server_command()
def repository_show_tags(
    client: Client, name: str, resource_group: str | None, repository_name: str
) -> Any:
    """List a repository's tags."""
    registry = open_registry(client, name, resource_group)
    return registry.listing(f"/v2/{_repo_path(repository_name)}/tags/list", "tags")


def parse_image(image: str) -> tuple[str, str]:
    """`repo:tag` or `repo@digest` -> (repository, tag or digest); no tag means latest."""
    if "@" in image:
        repo, _, digest = image.partition("@")
        if not repo or ":" not in digest:
            raise CliError(f"--image: {image!r} is not repository@algorithm:hex", exit_code=2)
        return repo, digest
    repo, colon, tag = image.rpartition(":")
    if not colon or "/" in tag:
        return image, "latest"
    if not repo or not tag:
        raise CliError(f"--image: {image!r} is not repository:tag", exit_code=2)
    return repo, tag


def _repo_path(repository_name: str) -> str:
    return quote(repository_name.strip("/"), safe="/")


@repository.command("delete")
@reg.name_options
@click.option(
    "--repository", "repository_name", default=None, help="Delete this repository, every image."
)
@click.option("--image", "-t", default=None, help="repository:tag or repository@digest.")
@click.option("--yes", "-y", is_flag=True, help="Do not prompt for confirmation.")
@server_command()
def repository_delete(
    client: Client,
    name: str,
    resource_group: str | None,
    repository_name: str | None,
    image: str | None,
    yes: bool,
) -> Any:
    """Delete a repository (--repository) or an image's manifest with every tag on it (--image)."""
    if (repository_name is None) == (image is None):
        raise CliError("usage error: give either --repository or --image", exit_code=2)
    registry = open_registry(client, name, resource_group)
    if repository_name is not None:
        what = f"the repository '{repository_name}' and all the images in it"
        path = f"/acr/v1/{_repo_path(repository_name)}"
    else:
        assert image is not None
        repo, reference = parse_image(image)
        manifests = f"/v2/{_repo_path(repo)}/manifests"
        if reference.count(":") == 1 and "@" in image:
            digest = reference
        else:
            digest = _digest_of(registry, manifests, repo, reference)
        what = f"the manifest '{repo}@{digest}' and all the images that point at it"
        path = f"{manifests}/{digest}"
    if confirm(f"This operation will delete {what}. Are you sure you want to continue?", yes):
        registry.checked("DELETE", path)
    return None


def _digest_of(registry: Registry, manifests: str, repo: str, reference: str) -> str:
    response = registry.request(
        "HEAD",
        f"{manifests}/{quote(reference, safe='')}",
        headers={"Accept": ", ".join(MANIFEST_TYPES)},
    )
    if response.status_code == 404:
        raise CliError(f"image {repo}:{reference} not found in {registry.login_server}")
    if response.status_code >= 400:
        raise CliError(
            f"{registry.login_server} refused HEAD of {repo}:{reference}: "
            f"HTTP {response.status_code}"
        )
    digest = str(response.headers.get("Docker-Content-Digest", ""))
    if not digest:
        raise CliError(f"{registry.login_server} sent no digest for {repo}:{reference}")
    return digest
