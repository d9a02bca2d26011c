from __future__ import annotations

import pytest

from moorage.cli.client import CliError
from moorage.cli.repository_access import (
    group_repository_args,
    scope_map_lines,
    scope_map_view,
    token_view,
)


@pytest.mark.parametrize(
    ("args", "grouped"),
    [
        (
            ["-n", "m", "--repository", "app", "content/read", "metadata/read", "-r", "reg"],
            ["-n", "m", "--repository", "app content/read metadata/read", "-r", "reg"],
        ),
        (
            ["--repository", "a", "content/read", "--repository", "b/*", "content/write"],
            ["--repository", "a content/read", "--repository", "b/* content/write"],
        ),
        (
            ["--add-repository=app", "content/read", "--description", "text here"],
            ["--add-repository", "app content/read", "--description", "text here"],
        ),
        (["--repository", "--name", "x"], ["--repository", "", "--name", "x"]),
        (["--repository", "a", "--", "content/read"], ["--repository", "a", "--", "content/read"]),
    ],
)
def test_repository_options_keep_their_actions_together(
    args: list[str], grouped: list[str]
) -> None:
    assert group_repository_args(args) == grouped


def test_scope_map_lines() -> None:
    assert scope_map_lines(
        "--repository", ["app content/read metadata/read", "app content/read"]
    ) == [
        "repositories/app/content/read",
        "repositories/app/metadata/read",
    ]
    with pytest.raises(CliError, match="--repository app: give the repository and its actions"):
        scope_map_lines("--repository", ["app"])


def test_views_flatten_as_the_cloud_cli_prints() -> None:
    resource = {
        "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerRegistry"
        "/registries/r/scopeMaps/m",
        "name": "m",
        "type": "Microsoft.ContainerRegistry/registries/scopeMaps",
        "properties": {"type": "UserDefined", "actions": ["repositories/a/content/read"]},
    }
    view = scope_map_view(resource)
    assert view["type"] == "Microsoft.ContainerRegistry/registries/scopeMaps"
    assert (view["scopeMapType"], view["resourceGroup"], view["actions"]) == (
        "UserDefined",
        "g",
        ["repositories/a/content/read"],
    )
    token = token_view({"id": "/x", "name": "t", "type": "T", "properties": {"status": "enabled"}})
    assert token["credentials"] == {"certificates": [], "passwords": []}
    assert token["status"] == "enabled" and "properties" not in token
