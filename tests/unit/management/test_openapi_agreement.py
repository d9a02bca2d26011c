"""The OpenAPI document allows no value the server refuses (issue 13 §5): path names and
api-versions are stated with the very rules the server checks."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from moorage.domain.errors import DomainError
from moorage.domain.networks import check_network_name
from moorage.domain.registry import check_registry_name
from moorage.domain.repository_access import check_scope_map_name, check_token_name
from moorage.management.apiversions import CONTAINER_REGISTRY, RESOURCES_VERSIONS
from moorage.management.routes import ROUTES, openapi_document

CHECKS: dict[str, Callable[[str], object]] = {
    "registryName": check_registry_name,
    "scopeMapName": check_scope_map_name,
    "tokenName": check_token_name,
    "virtualNetworkName": lambda n: check_network_name("virtual network", n),
    "subnetName": lambda n: check_network_name("subnet", n),
    "privateEndpointName": lambda n: check_network_name("private endpoint", n),
}
SAMPLES = [
    "abcde",
    "abcd",
    "a" * 50,
    "a" * 51,
    "a" * 80,
    "a" * 81,
    "ab-cd",
    "ab_cd",
    "ab.cd",
    "-abcd",
    "abcd-",
    "abcd.",
    "ABCDE9",
    "abcde\n",
    "\nabcde",
    "ab cd",
    "abcdé",
    "a",
    "x" * 5 + "/",
]


def _parameters() -> dict[str, dict[str, object]]:
    found: dict[str, dict[str, object]] = {}
    for operations in openapi_document(ROUTES)["paths"].values():
        for operation in operations.values():
            for parameter in operation["parameters"]:
                found.setdefault(parameter["name"], parameter["schema"])
    return found


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_a_named_path_parameter_has_the_servers_rule(name: str) -> None:
    pattern = str(_parameters()[name]["pattern"])
    for sample in SAMPLES:
        try:
            CHECKS[name](sample)
            accepted = True
        except DomainError:
            accepted = False
        # JSON Schema patterns are ECMA-262: '$' is the end of the input, as fullmatch is.
        assert accepted == bool(re.fullmatch(pattern, sample)), (name, sample)


def test_api_versions_are_listed_as_the_server_accepts_them() -> None:
    schemas = [
        parameter["schema"]
        for operations in openapi_document(ROUTES)["paths"].values()
        for operation in operations.values()
        for parameter in operation["parameters"]
        if parameter["name"] == "api-version"
    ]
    assert {
        "type": "string",
        "enum": sorted(CONTAINER_REGISTRY),
        "example": "2025-11-01",
    } in schemas
    for schema in schemas:
        if "pattern" in schema:
            for version in ("2022-12-01", "2024-05-01-preview", "2022-12-01\n", "latest"):
                assert RESOURCES_VERSIONS.accepts(version) == bool(
                    re.fullmatch(str(schema["pattern"]), version)
                ), version
