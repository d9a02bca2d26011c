"""The api-versions each resource type answers to. Unknown or missing ones get a clear 400."""

from __future__ import annotations

import re

# Microsoft.ContainerRegistry, as the public REST specifications list them.
CONTAINER_REGISTRY_STABLE = (
    "2017-03-01",
    "2017-10-01",
    "2019-05-01",
    "2021-09-01",
    "2022-12-01",
    "2023-07-01",
    "2025-04-01",
    "2025-11-01",
)
CONTAINER_REGISTRY_PREVIEW = (
    "2016-06-27-preview",
    "2017-06-01-preview",
    "2019-05-01-preview",
    "2019-12-01-preview",
    "2020-11-01-preview",
    "2021-06-01-preview",
    "2021-08-01-preview",
    "2021-12-01-preview",
    "2022-02-01-preview",
    "2023-01-01-preview",
    "2023-06-01-preview",
    "2023-08-01-preview",
    "2023-11-01-preview",
    "2024-11-01-preview",
    "2025-03-01-preview",
    "2025-05-01-preview",
    "2025-06-01-preview",
    "2026-09-01-preview",
)
CONTAINER_REGISTRY = frozenset(CONTAINER_REGISTRY_STABLE + CONTAINER_REGISTRY_PREVIEW)
NEWEST_STABLE = "2025-11-01"

# Microsoft.Resources (subscriptions, resource groups, resources): any dated version.
_DATED = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")


class Versions:
    """A set of accepted api-versions, named for error messages."""

    def __init__(self, namespace: str, exact: frozenset[str] | None) -> None:
        self.namespace = namespace
        self.exact = exact

    def accepts(self, version: str) -> bool:
        if self.exact is not None:
            return version in self.exact
        return bool(_DATED.fullmatch(version))

    def schema(self) -> dict[str, object]:
        """The JSON schema of the versions accepted, for the OpenAPI document."""
        if self.exact is not None:
            return {"type": "string", "enum": sorted(self.exact), "example": NEWEST_STABLE}
        return {"type": "string", "pattern": _DATED.pattern, "example": NEWEST_STABLE}

    def describe(self) -> str:
        if self.exact is None:
            return "a dated api-version such as 2022-12-01"
        stable = [v for v in sorted(self.exact) if not v.endswith("preview")]
        return f"one of {', '.join(stable)} (newest {NEWEST_STABLE}) or a listed preview"


REGISTRY_VERSIONS = Versions("Microsoft.ContainerRegistry", CONTAINER_REGISTRY)
RESOURCES_VERSIONS = Versions("Microsoft.Resources", None)
