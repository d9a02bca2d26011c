from __future__ import annotations

from datetime import UTC, datetime

import pytest

from moorage.domain.access import InvalidScope
from moorage.domain.errors import (
    DomainError,
    InvalidAccessField,
    InvalidAccessName,
    ScopeMapExists,
    ScopeMapInUse,
    ScopeMapNotFound,
    SystemScopeMapReadOnly,
    TokenExists,
    TokenNameTaken,
    TokenNotFound,
)
from moorage.domain.registry import NetworkRuleSet, PublicNetworkAccess, Registry, Sku
from moorage.management import errors
from moorage.management.repository_access import child_name

REGISTRY = Registry(
    id=1,
    name="myregistry1",
    login_server="myregistry1.localhost:5000",
    location="local",
    sku=Sku.PREMIUM,
    public_network_access=PublicNetworkAccess.ENABLED,
    network_rule_set=NetworkRuleSet(),
    created_at=datetime(2026, 1, 1, tzinfo=UTC),
    subscription_id="sub",
    resource_group="moorage",
)
BASE = "/subscriptions/sub/resourceGroups/moorage/providers/Microsoft.ContainerRegistry"


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (InvalidScope, 400, "InvalidParameter"),
        (InvalidAccessName, 400, "InvalidResourceName"),
        (InvalidAccessField, 400, "InvalidParameter"),
        (ScopeMapNotFound, 404, "ResourceNotFound"),
        (TokenNotFound, 404, "ResourceNotFound"),
        (ScopeMapExists, 409, "Conflict"),
        (TokenExists, 409, "Conflict"),
        (ScopeMapInUse, 409, "Conflict"),
        (SystemScopeMapReadOnly, 409, "Conflict"),
        (TokenNameTaken, 409, "Conflict"),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_errors_have_their_resource_manager_code(
    exc: type[DomainError], status: int, code: str
) -> None:
    assert exc in errors.TRANSLATION
    wire = errors.translate(exc("what went wrong", tokenName="x"))
    assert (wire.code.status, wire.code.code, wire.message, wire.target) == (
        status,
        code,
        "what went wrong",
        "tokenName",
    )


@pytest.mark.parametrize(
    ("resource_id", "name"),
    [
        (f"{BASE}/registries/myregistry1/scopeMaps/readapp", "readapp"),
        (f"{BASE.lower()}/registries/MYREGISTRY1/scopemaps/ReadApp/", "ReadApp"),
        (f"{BASE}/registries/myregistry1/scopeMaps/_repositories_pull", "_repositories_pull"),
    ],
)
def test_child_name_of_the_registry(resource_id: str, name: str) -> None:
    assert child_name(REGISTRY, resource_id, "scopeMaps", "scopeMapId") == name


@pytest.mark.parametrize(
    "resource_id",
    [
        "readapp",
        f"{BASE}/registries/otherregistry/scopeMaps/readapp",
        f"{BASE}/registries/myregistry1/tokens/readapp",
        f"{BASE}/registries/myregistry1/scopeMaps/",
        f"{BASE}/registries/myregistry1/scopeMaps/a/b",
        "/subscriptions/other/resourceGroups/moorage/providers/Microsoft.ContainerRegistry"
        "/registries/myregistry1/scopeMaps/readapp",
    ],
)
def test_child_name_refuses_ids_of_other_things(resource_id: str) -> None:
    with pytest.raises(InvalidAccessField, match="scopeMapId") as caught:
        child_name(REGISTRY, resource_id, "scopeMaps", "scopeMapId")
    assert caught.value.detail == {"scopeMapId": resource_id}
    assert "myregistry1" in caught.value.message
