from __future__ import annotations

import pytest

from moorage.auth.roles import ROLES, Permission, RoleAssignment, allows, check_role

SUB = "/subscriptions/abc"
REG = "/subscriptions/ABC/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/x"
P = Permission


@pytest.mark.parametrize(
    ("assignments", "permission", "resource", "expected"),
    [
        ([("Owner", SUB)], P.MANAGE_ACCESS, REG, True),
        ([("Owner", SUB)], P.READ, SUB, True),
        ([("Contributor", SUB)], P.WRITE, REG, True),
        ([("Contributor", SUB)], P.ACTION, REG, True),
        ([("Contributor", SUB)], P.MANAGE_ACCESS, REG, False),
        ([("Reader", SUB)], P.READ, REG, True),
        ([("Reader", SUB)], P.WRITE, REG, False),
        ([("Reader", SUB), ("Contributor", REG)], P.DELETE, REG, True),
        # case-insensitive scopes and role names
        ([("owner", "/SUBSCRIPTIONS/Abc")], P.DELETE, REG, True),
        ([("Reader", REG.upper())], P.READ, REG.lower(), True),
        # segment boundary
        ([("Owner", "/subscriptions/ab")], P.READ, REG, False),
        ([("Owner", REG)], P.READ, REG + "2", False),
        ([("Owner", REG)], P.READ, REG + "/replications/r1", True),
        ([("Owner", SUB + "/")], P.READ, REG, True),
        # a narrower scope does not reach up
        ([("Owner", REG)], P.READ, SUB, False),
        # root scope, and scopes that are not resource ids
        ([("Reader", "/")], P.READ, REG, True),
        ([("Owner", "")], P.READ, REG, False),
        ([("Owner", "subscriptions/abc")], P.READ, REG, False),
        # data-plane roles and unknown roles grant nothing here
        ([("AcrPush", SUB)], P.WRITE, REG, False),
        ([("AcrPull", SUB)], P.READ, REG, False),
        ([("Superuser", SUB)], P.READ, REG, False),
        ([], P.READ, REG, False),
    ],
)
def test_allows(
    assignments: list[tuple[str, str]], permission: Permission, resource: str, expected: bool
) -> None:
    held = [RoleAssignment(role, scope) for role, scope in assignments]
    assert allows(held, permission, resource) is expected


def test_owner_has_every_permission() -> None:
    assert frozenset(Permission) == ROLES["Owner"]
    assert {"AcrPull", "AcrPush", "AcrDelete"} <= ROLES.keys()


@pytest.mark.parametrize(("given", "canonical"), [("owner", "Owner"), ("ACRPULL", "AcrPull")])
def test_check_role_canonicalises(given: str, canonical: str) -> None:
    assert check_role(given) == canonical


def test_check_role_names_value_and_known_roles() -> None:
    with pytest.raises(ValueError, match=r"'Admin'.*Owner, Contributor, Reader"):
        check_role("Admin")
