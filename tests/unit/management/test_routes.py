from __future__ import annotations

import pytest
from aiohttp import web
from openapi_spec_validator import validate

from moorage.auth.roles import Permission
from moorage.management.apiversions import REGISTRY_VERSIONS, RESOURCES_VERSIONS
from moorage.management.openapi import openapi_document
from moorage.management.router import AUTHENTICATED, PUBLIC, ManagementRequest, Route
from moorage.management.routes import ROUTES


async def _handler(req: ManagementRequest) -> web.Response:
    return web.Response()


def test_a_route_without_a_permission_is_refused() -> None:
    with pytest.raises(TypeError, match="declares no permission"):
        Route("GET", "/subscriptions/{subscriptionId}/x", _handler, None, None, "no permission")


def test_every_route_says_who_may_call_it() -> None:
    for route in ROUTES:
        assert isinstance(route.permission, Permission) or route.permission in (
            PUBLIC,
            AUTHENTICATED,
        ), route
    assert [r.path for r in ROUTES if r.permission is PUBLIC] == ["/openapi.json"]


def test_the_openapi_document_is_valid_openapi() -> None:
    validate(openapi_document(ROUTES))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "matches"),
    [
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r",
            True,
        ),
        (
            "/SUBSCRIPTIONS/s/resourcegroups/rg/providers/microsoft.containerregistry/REGISTRIES/r/",
            True,
        ),
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries",
            False,
        ),
        (
            "/subscriptions/s/resourceGroups/rg/providers/MicrosoftXContainerRegistry/registries/r",
            False,
        ),
    ],
)
def test_registry_route_matches_case_insensitively(path: str, matches: bool) -> None:
    route = next(r for r in ROUTES if r.method == "GET" and r.path.endswith("{registryName}"))
    assert bool(route.regex.match(path)) is matches


@pytest.mark.parametrize(
    ("versions", "version", "ok"),
    [
        (REGISTRY_VERSIONS, "2025-11-01", True),
        (REGISTRY_VERSIONS, "2026-09-01-preview", True),
        (REGISTRY_VERSIONS, "2017-03-01", True),
        (REGISTRY_VERSIONS, "2024-01-01", False),
        (REGISTRY_VERSIONS, "", False),
        (RESOURCES_VERSIONS, "2022-12-01", True),
        (RESOURCES_VERSIONS, "2024-11-01", True),
        (RESOURCES_VERSIONS, "yesterday", False),
    ],
)
def test_api_versions(versions: object, version: str, ok: bool) -> None:
    assert versions.accepts(version) is ok  # type: ignore[attr-defined]


def test_actions_are_authorised_on_the_resource_they_act_on() -> None:
    route = next(r for r in ROUTES if r.path.endswith("/listCredentials"))
    assert route.scope(
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerRegistry"
        "/registries/r/listCredentials"
    ) == ("/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerRegistry/registries/r")
