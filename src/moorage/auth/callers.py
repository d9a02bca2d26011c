"""Who is calling a registry (`Caller`), and the data plane's refusals of credentials."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from moorage.auth.registry_tokens import Source
from moorage.domain.access import Action, Permissions, Rule, Scope, permits
from moorage.domain.registry import Registry


class Unauthorized(Exception):
    """The credentials were refused; `message` is safe to show (it names no secret)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Throttled(Exception):
    def __init__(self, retry_after: int, client: str, username: str) -> None:
        super().__init__(
            f"too many failed logins from {client} as {username[:256]!r}; retry in "
            f"{retry_after} s (failed logins are slowed down for each address and identity)"
        )
        self.retry_after = retry_after
        self.message = str(self)


@dataclass(frozen=True, slots=True)
class Caller:
    """An identity on one registry, with what it may do: `permissions` when it proved who it
    is here (Basic), `access` when it shows a token (the token's grant)."""

    kind: str  # admin | token | principal | anonymous
    name: str
    permissions: Permissions | None = None
    access: tuple[Scope, ...] | None = None
    catalog: tuple[str, ...] = ()
    source: Source | None = None  # the credential that proved it (None: anonymous)
    refused: tuple[Scope, ...] = ()  # what its token's request asked for and did not get

    def meant(self, repository: str) -> Action | None:
        """The write its token was asked for and refused on `repository` (push before delete):
        what the holder set out to do there."""
        asked = {
            a
            for s in self.refused
            if s.type == "repository" and s.name == repository
            for a in s.actions
        }
        for action in (Action.PUSH, Action.DELETE):
            if action.value in asked:
                return action
        return None

    def may(self, action: Action, repository: str) -> bool:
        if self.permissions is not None:
            return action in self.permissions.actions_on(repository)
        return permits(self.access or (), "repository", repository, action.value)

    def may_everywhere(self, action: Action) -> bool:
        """Whether the caller holds `action` on every repository (a token's grant names
        repositories one by one, so it never does)."""
        if self.permissions is None:
            return False
        return any(r.pattern == "*" and r.action is action for r in self.permissions.rules)

    def may_list(self) -> bool:
        if self.permissions is not None:
            return self.permissions.catalog
        return permits(self.access or (), "registry", "catalog", "*")

    def catalog_patterns(self) -> list[str]:
        if self.permissions is not None:
            return self.permissions.catalog_patterns()
        return list(self.catalog) if self.may_list() else []

    def describe(self) -> str:
        return {
            "admin": f"the admin user {self.name!r}",
            "token": f"token {self.name!r}",
            "principal": f"service principal {self.name!r}",
            "anonymous": "an anonymous client",
        }.get(self.kind, self.name)


def basic_credentials(value: str) -> tuple[str, str]:
    """(user name, password) of the value of an `Authorization: Basic ...` header."""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Unauthorized("the Basic credentials are not base64 of 'username:password'") from None
    username, sep, password = decoded.partition(":")
    if not sep:
        raise Unauthorized("the Basic credentials are not base64 of 'username:password'")
    return username, password


ANONYMOUS_PERMISSIONS = Permissions((Rule("*", Action.PULL),), catalog=False)


def anonymous(registry: Registry) -> Caller | None:
    """The anonymous caller, when the registry lets anyone pull."""
    if not registry.anonymous_pull_enabled:
        return None
    return Caller("anonymous", "", permissions=ANONYMOUS_PERMISSIONS)
