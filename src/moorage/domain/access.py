"""What an identity may do on a registry's content, and what a token grants. Pure, no I/O.

Three vocabularies meet here:

- the token request's scopes, as the container tools send them (`repository:app:pull,push`,
  `registry:catalog:*`), parsed by `parse_scopes`;
- scope-map lines, as the cloud writes them (`repositories/app/content/read`), parsed by
  `parse_scope_map_action`; a repository part may be a name, `*`, or a `prefix/*` pattern;
- the actions a granted token carries, `Action`, which every /v2 and /acr/v1 route names.

`grant()` answers a token request: the requested actions the identity holds, never more, and
never an error for asking more (the token is just smaller, as the token specification says).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from moorage.domain.errors import DomainError
from moorage.domain.names import check_repository

MAX_SCOPES = 32
MAX_SCOPE_LENGTH = 512
MAX_SCOPE_MAP_ACTIONS = 500


class InvalidScope(DomainError):
    """A token request's `scope` or a scope-map line that cannot be read."""


class InvalidTokenRequest(DomainError):
    """A token request that cannot be read (a missing or bad field)."""


class Action(StrEnum):
    """An action on a repository, as registry tokens name them."""

    PULL = "pull"
    PUSH = "push"
    DELETE = "delete"
    METADATA_READ = "metadata_read"
    METADATA_WRITE = "metadata_write"


ALL_ACTIONS: frozenset[Action] = frozenset(Action)
CATALOG = ("registry", "catalog")  # (type, name) of the repository listing

# Scope-map action -> token action.
SCOPE_MAP_ACTIONS: Mapping[str, Action] = {
    "content/read": Action.PULL,
    "content/write": Action.PUSH,
    "content/delete": Action.DELETE,
    "metadata/read": Action.METADATA_READ,
    "metadata/write": Action.METADATA_WRITE,
}
_SCOPE_MAP_NAMES = {action: name for name, action in SCOPE_MAP_ACTIONS.items()}

# Data-plane rights of the roles a service principal can hold on a registry (or above it).
ROLE_ACTIONS: Mapping[str, frozenset[Action]] = {
    "Owner": ALL_ACTIONS,
    "Contributor": ALL_ACTIONS,
    "Reader": frozenset({Action.PULL, Action.METADATA_READ}),
    "AcrPull": frozenset({Action.PULL, Action.METADATA_READ}),
    "AcrPush": frozenset({Action.PULL, Action.PUSH, Action.METADATA_READ, Action.METADATA_WRITE}),
    "AcrDelete": frozenset({Action.DELETE}),
}

# The scope maps every registry has, as the cloud defines them.
SYSTEM_SCOPE_MAPS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "_repositories_pull": (
        "Can pull any repository of the registry",
        ("repositories/*/content/read",),
    ),
    "_repositories_pull_metadata_read": (
        "Can perform all read operations on the registry",
        ("repositories/*/content/read", "repositories/*/metadata/read"),
    ),
    "_repositories_push": (
        "Can push to any repository of the registry",
        ("repositories/*/content/read", "repositories/*/content/write"),
    ),
    "_repositories_push_metadata_write": (
        "Can perform all read and write operations on the registry",
        (
            "repositories/*/content/read",
            "repositories/*/content/write",
            "repositories/*/metadata/read",
            "repositories/*/metadata/write",
        ),
    ),
    "_repositories_admin": (
        "Can perform all read, write and delete operations on the registry",
        (
            "repositories/*/content/read",
            "repositories/*/content/write",
            "repositories/*/content/delete",
            "repositories/*/metadata/read",
            "repositories/*/metadata/write",
        ),
    ),
}

_SCOPE_TYPE = re.compile(r"^[a-z0-9]{1,64}(\([a-z0-9]+\))?$")
_TOKEN_ACTION = re.compile(r"^[a-z_*]{1,32}$")


@dataclass(frozen=True, slots=True)
class Scope:
    """One resource scope of a token: `repository:app:pull,push` or `registry:catalog:*`."""

    type: str
    name: str
    actions: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.type}:{self.name}:{','.join(self.actions)}"

    def claim(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name, "actions": list(self.actions)}


def parse_scopes(values: Iterable[str]) -> list[Scope]:
    """The scopes of a token request: each value may hold several, separated by spaces.
    Repository names are checked; unknown resource types are kept (and granted nothing)."""
    scopes: list[Scope] = []
    for value in values:
        for item in value.split():
            if len(scopes) >= MAX_SCOPES:
                raise InvalidScope(f"a token request may name at most {MAX_SCOPES} scopes")
            scopes.append(_parse_scope(item))
    return _merge(scopes)


def _parse_scope(item: str) -> Scope:
    if len(item) > MAX_SCOPE_LENGTH:
        raise InvalidScope(f"scope {item[:64]!r}... is longer than {MAX_SCOPE_LENGTH} characters")
    kind, sep, rest = item.partition(":")
    name, sep2, actions = rest.rpartition(":")
    if not sep or not sep2 or not name or not actions:
        raise InvalidScope(
            f"scope {item!r} is not '<type>:<name>:<actions>', e.g. 'repository:app:pull'",
            scope=item,
        )
    if not _SCOPE_TYPE.fullmatch(kind):
        raise InvalidScope(
            f"scope {item!r} has resource type {kind!r}, which is not lowercase letters and "
            "digits (e.g. 'repository' or 'registry')",
            scope=item,
        )
    kind = kind.split("(", 1)[0]
    wanted = tuple(dict.fromkeys(a.strip() for a in actions.split(",") if a.strip()))
    if not wanted or not all(_TOKEN_ACTION.fullmatch(a) for a in wanted):
        raise InvalidScope(f"scope {item!r} has invalid actions {actions!r}", scope=item)
    if kind == "repository":
        try:
            check_repository(name)
        except DomainError as e:
            raise InvalidScope(f"scope {item!r}: {e.message}", scope=item) from None
    return Scope(kind, name, wanted)


def _merge(scopes: Sequence[Scope]) -> list[Scope]:
    """One scope per resource, with the union of its actions, in first-seen order."""
    merged: dict[tuple[str, str], list[str]] = {}
    for scope in scopes:
        actions = merged.setdefault((scope.type, scope.name), [])
        actions.extend(a for a in scope.actions if a not in actions)
    return [Scope(t, n, tuple(a)) for (t, n), a in merged.items()]


@dataclass(frozen=True, slots=True)
class Rule:
    """One scope-map line: `action` on the repositories `pattern` names."""

    pattern: str  # "*", "prefix/*" or an exact repository name
    action: Action

    def matches(self, repository: str) -> bool:
        if self.pattern == "*":
            return True
        if self.pattern.endswith("/*"):
            return repository.startswith(self.pattern[:-1])
        return repository == self.pattern

    def __str__(self) -> str:
        return f"repositories/{self.pattern}/{_SCOPE_MAP_NAMES[self.action]}"


def parse_scope_map_action(text: str) -> Rule:
    """A scope-map line `repositories/<name or pattern>/<content|metadata>/<verb>`."""
    value = text.strip()
    head, _, rest = value.partition("/")
    parts = rest.rsplit("/", 2)
    if head != "repositories" or len(parts) != 3 or not parts[0]:
        raise InvalidScope(
            f"scope map action {text!r} is not 'repositories/<repository>/<action>', "
            "e.g. 'repositories/app/content/read'",
            action=text,
        )
    pattern, verb = parts[0], f"{parts[1]}/{parts[2]}"
    action = SCOPE_MAP_ACTIONS.get(verb)
    if action is None:
        raise InvalidScope(
            f"scope map action {text!r} has action {verb!r}; use one of "
            f"{', '.join(SCOPE_MAP_ACTIONS)}",
            action=text,
        )
    if pattern != "*":
        try:
            check_repository(pattern.removesuffix("/*"))
        except DomainError as e:
            raise InvalidScope(f"scope map action {text!r}: {e.message}", action=text) from None
    return Rule(pattern, action)


def parse_scope_map(actions: Iterable[str]) -> tuple[Rule, ...]:
    """All lines of a scope map, each once, in the order given."""
    rules = tuple(dict.fromkeys(parse_scope_map_action(a) for a in actions))
    if not rules:
        raise InvalidScope("a scope map needs at least one action")
    if len(rules) > MAX_SCOPE_MAP_ACTIONS:
        raise InvalidScope(f"a scope map holds at most {MAX_SCOPE_MAP_ACTIONS} actions")
    return rules


@dataclass(frozen=True, slots=True)
class Permissions:
    """What one identity may do on one registry."""

    rules: tuple[Rule, ...] = ()
    catalog: bool = False

    @classmethod
    def everything(cls) -> Permissions:
        return cls(tuple(Rule("*", a) for a in Action), catalog=True)

    @classmethod
    def of_roles(cls, roles: Iterable[str]) -> Permissions:
        """The union of what the roles (canonical names) give; roles of the management plane
        only (none of them today) give nothing."""
        actions: set[Action] = set()
        for role in roles:
            actions |= ROLE_ACTIONS.get(role, frozenset())
        return cls(
            tuple(Rule("*", a) for a in Action if a in actions),
            catalog=Action.METADATA_READ in actions,
        )

    @classmethod
    def of_scope_map(cls, rules: Iterable[Rule]) -> Permissions:
        """A token's: its scope map's lines; it may list the repositories it can read
        metadata of (and only those are listed)."""
        rules = tuple(rules)
        return cls(rules, catalog=any(r.action is Action.METADATA_READ for r in rules))

    def actions_on(self, repository: str) -> frozenset[Action]:
        return frozenset(r.action for r in self.rules if r.matches(repository))

    def catalog_patterns(self) -> list[str]:
        """The repository patterns a catalog listing may show (["*"]: all; []: none)."""
        if not self.catalog:
            return []
        patterns = [r.pattern for r in self.rules if r.action is Action.METADATA_READ]
        return ["*"] if "*" in patterns else list(dict.fromkeys(patterns))


def grant(permissions: Permissions, requested: Sequence[Scope]) -> list[Scope]:
    """The part of `requested` that `permissions` allow; scopes granting nothing are left out."""
    granted: list[Scope] = []
    for scope in requested:
        if scope.type == "repository":
            held = permissions.actions_on(scope.name)
            wanted = ALL_ACTIONS if "*" in scope.actions else scope.actions
            actions = tuple(a.value for a in Action if a in held and a.value in wanted)
            if actions:
                granted.append(Scope(scope.type, scope.name, actions))
        elif (scope.type, scope.name) == CATALOG and permissions.catalog and "*" in scope.actions:
            granted.append(Scope(scope.type, scope.name, ("*",)))
    return granted


def refused(requested: Sequence[Scope], granted: Sequence[Scope]) -> list[Scope]:
    """The repository actions `requested` asked for and `granted` leaves out (a token records
    them, so a refusal can name what its holder meant to do: push, not pull)."""
    given = {(s.type, s.name): set(s.actions) for s in granted}
    out: list[Scope] = []
    for scope in requested:
        if scope.type != "repository":
            continue
        missing = tuple(
            a for a in scope.actions if a not in given.get((scope.type, scope.name), ())
        )
        if missing:
            out.append(Scope(scope.type, scope.name, missing))
    return out


def permits(access: Sequence[Scope], kind: str, name: str, action: str) -> bool:
    """Whether a token's granted `access` covers `action` on (kind, name)."""
    return any(
        scope.type == kind
        and scope.name == name
        and (action in scope.actions or "*" in scope.actions)
        for scope in access
    )


def access_from_claim(claim: object) -> list[Scope]:
    """The `access` claim of a verified token; anything malformed grants nothing."""
    if not isinstance(claim, list):
        return []
    scopes = []
    for entry in claim:
        if not isinstance(entry, dict):
            continue
        kind, name, actions = entry.get("type"), entry.get("name"), entry.get("actions")
        if isinstance(kind, str) and isinstance(name, str) and isinstance(actions, list):
            scopes.append(Scope(kind, name, tuple(a for a in actions if isinstance(a, str))))
    return scopes
