"""Roles and scopes, as Azure RBAC has them: a role held on a scope (a resource id) applies to
that resource and to everything under it. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Permission(StrEnum):
    READ = "read"
    WRITE = "write"
    DELETE = "delete"
    ACTION = "action"  # POST actions such as listCredentials, regenerateCredential
    MANAGE_ACCESS = "manageAccess"  # role assignments, service principals


ROLES: dict[str, frozenset[Permission]] = {
    "Owner": frozenset(Permission),
    "Contributor": frozenset(
        {Permission.READ, Permission.WRITE, Permission.DELETE, Permission.ACTION}
    ),
    "Reader": frozenset({Permission.READ}),
    # Data-plane roles: they act on registries' content, not on the management API.
    "AcrPull": frozenset(),
    "AcrPush": frozenset(),
    "AcrDelete": frozenset(),
}
_BY_KEY = {name.lower(): name for name in ROLES}


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    role: str
    scope: str


def check_role(name: str) -> str:
    """The role's canonical name (role names are case-insensitive); ValueError if unknown."""
    try:
        return _BY_KEY[name.lower()]
    except KeyError:
        raise ValueError(f"unknown role {name!r}; known roles: {', '.join(ROLES)}") from None


def covers(scope: str, resource_id: str) -> bool:
    """True when `scope` is `resource_id` or one of its ancestors, on a "/" boundary,
    regardless of case ("/subscriptions/ab" does not cover "/subscriptions/abc"). The root
    scope "/" covers everything; a scope that is not an absolute id covers nothing."""
    if not scope.startswith("/"):
        return False
    prefix = scope.rstrip("/").lower()
    resource = resource_id.rstrip("/").lower()
    return prefix == "" or resource == prefix or resource.startswith(prefix + "/")


def allows(assignments: Iterable[RoleAssignment], permission: Permission, resource_id: str) -> bool:
    return any(
        permission in ROLES.get(_BY_KEY.get(a.role.lower(), ""), frozenset())
        and covers(a.scope, resource_id)
        for a in assignments
    )
