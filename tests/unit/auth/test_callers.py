"""Callers of a registry's data plane: what each may do."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from moorage.auth.callers import Caller, anonymous
from moorage.domain.access import Action, Permissions, Scope, parse_scope_map
from moorage.domain.registry import NetworkRuleSet, PublicNetworkAccess, Registry, Sku

REGISTRY = Registry(
    id=1,
    name="registrya",
    login_server="registrya.localhost:5000",
    location="local",
    sku=Sku.STANDARD,
    public_network_access=PublicNetworkAccess.ENABLED,
    network_rule_set=NetworkRuleSet(),
    created_at=datetime(2026, 1, 1, tzinfo=UTC),
)

SCOPE_MAP = Permissions.of_scope_map(
    parse_scope_map(
        [
            "repositories/app/content/read",
            "repositories/app/content/write",
            "repositories/team/*/content/read",
            "repositories/team/*/metadata/read",
            "repositories/*/content/delete",
        ]
    )
)
GRANT = (
    Scope("repository", "app", ("pull", "push")),
    Scope("repository", "team/x", ("metadata_read",)),
    Scope("registry", "catalog", ("*",)),
)


@pytest.mark.parametrize(
    ("action", "repository", "allowed"),
    [
        (Action.PULL, "app", True),
        (Action.PUSH, "app", True),
        (Action.METADATA_READ, "app", False),
        (Action.PULL, "team/x", True),
        (Action.PULL, "team/x/y", True),
        (Action.PUSH, "team/x", False),
        (Action.PULL, "team", False),
        (Action.PULL, "other", False),
        (Action.DELETE, "other", True),
        (Action.DELETE, "team/x", True),
    ],
)
def test_may_with_permissions(action: Action, repository: str, allowed: bool) -> None:
    assert Caller("token", "t", permissions=SCOPE_MAP).may(action, repository) is allowed


@pytest.mark.parametrize(
    ("action", "repository", "allowed"),
    [
        (Action.PULL, "app", True),
        (Action.PUSH, "app", True),
        (Action.DELETE, "app", False),
        (Action.METADATA_READ, "team/x", True),
        (Action.PULL, "team/x", False),
        (Action.METADATA_READ, "team/y", False),
        (Action.PULL, "catalog", False),
        (Action.PULL, "other", False),
    ],
)
def test_may_with_an_access_grant(action: Action, repository: str, allowed: bool) -> None:
    assert Caller("token", "t", access=GRANT).may(action, repository) is allowed


def test_permissions_win_over_an_access_grant() -> None:
    caller = Caller("token", "t", permissions=Permissions(), access=GRANT, catalog=("*",))
    assert not caller.may(Action.PULL, "app")
    assert not caller.may_list()
    assert caller.catalog_patterns() == []


def test_a_caller_holding_nothing_may_nothing() -> None:
    caller = Caller("token", "t")
    assert not any(caller.may(action, "app") for action in Action)
    assert not any(caller.may_everywhere(action) for action in Action)
    assert not caller.may_list()
    assert caller.catalog_patterns() == []


def test_may_everywhere() -> None:
    caller = Caller("token", "t", permissions=SCOPE_MAP)
    assert caller.may_everywhere(Action.DELETE)
    assert not caller.may_everywhere(Action.PULL)  # app and team/* only
    assert not caller.may_everywhere(Action.METADATA_READ)
    owner = Caller("admin", "registrya", permissions=Permissions.everything())
    assert all(owner.may_everywhere(action) for action in Action)
    pull = Caller("principal", "p", permissions=Permissions.of_roles(["AcrPull"]))
    assert pull.may_everywhere(Action.PULL) and pull.may_everywhere(Action.METADATA_READ)
    assert not pull.may_everywhere(Action.PUSH)
    # A token's grant names repositories one by one, even when it holds `*`.
    everything = (Scope("repository", "app", ("*",)),)
    granted = Caller("admin", "registrya", access=everything)
    assert granted.may(Action.DELETE, "app")
    assert not any(granted.may_everywhere(action) for action in Action)


def test_listing_with_permissions() -> None:
    caller = Caller("token", "t", permissions=SCOPE_MAP)
    assert caller.may_list()
    assert caller.catalog_patterns() == ["team/*"]
    reader = Caller("principal", "p", permissions=Permissions.of_roles(["Reader"]))
    assert reader.may_list() and reader.catalog_patterns() == ["*"]
    deleter = Caller("principal", "p", permissions=Permissions.of_roles(["AcrDelete"]))
    assert not deleter.may_list() and deleter.catalog_patterns() == []


def test_listing_with_an_access_grant() -> None:
    caller = Caller("token", "t", access=GRANT, catalog=("team/*", "app"))
    assert caller.may_list()
    assert caller.catalog_patterns() == ["team/*", "app"]
    # The patterns alone list nothing: the grant must name the catalog.
    no_catalog = Caller("token", "t", access=GRANT[:2], catalog=("team/*",))
    assert not no_catalog.may_list()
    assert no_catalog.catalog_patterns() == []
    # The catalog granted with no patterns lists nothing either.
    bare = Caller("token", "t", access=GRANT)
    assert bare.may_list() and bare.catalog_patterns() == []
    # Only `registry:catalog:*` names the catalog.
    pull_catalog = Caller("token", "t", access=(Scope("registry", "catalog", ("pull",)),))
    assert not pull_catalog.may_list()


@pytest.mark.parametrize(
    ("kind", "name", "described"),
    [
        ("admin", "registrya", "the admin user 'registrya'"),
        ("token", "pulltoken", "token 'pulltoken'"),
        ("principal", "0000-app", "service principal '0000-app'"),
        ("anonymous", "", "an anonymous client"),
        ("something", "who", "who"),
    ],
)
def test_describe(kind: str, name: str, described: str) -> None:
    assert Caller(kind, name).describe() == described


def test_anonymous_only_when_the_registry_allows_it() -> None:
    assert anonymous(REGISTRY) is None
    caller = anonymous(dataclasses.replace(REGISTRY, anonymous_pull_enabled=True))
    assert caller is not None
    assert (caller.kind, caller.name) == ("anonymous", "")
    assert caller.describe() == "an anonymous client"
    for repository in ("app", "team/x/y"):
        assert caller.may(Action.PULL, repository)
        assert not any(caller.may(a, repository) for a in Action if a is not Action.PULL)
    assert caller.may_everywhere(Action.PULL)
    assert not caller.may_everywhere(Action.PUSH)
    assert not caller.may_list()
    assert caller.catalog_patterns() == []
