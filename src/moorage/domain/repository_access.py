"""Repository-scoped access of a registry, as values and rules: scope maps (named sets of lines
`repositories/<repository or pattern>/<action>`, the system ones the same for every registry)
and tokens (a login name bound to one scope map, with up to two passwords that may expire).
The store keeps them (store/scope_maps.py, store/repository_tokens.py)."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from moorage.domain.access import SYSTEM_SCOPE_MAPS, parse_scope_map
from moorage.domain.errors import (
    InvalidAccessField,
    InvalidAccessName,
    ScopeMapNotFound,
    SystemScopeMapReadOnly,
    TokenNotFound,
)

MAX_DESCRIPTION = 256
# As the cloud's REST specification has it: letters, digits, "-" and "_" (the system maps
# start with one).
_SCOPE_MAP_NAME = re.compile(r"^[A-Za-z0-9_-]{5,50}$")
SCOPE_MAP_NAME_PATTERN = _SCOPE_MAP_NAME.pattern  # the OpenAPI document's, for the same rule


@dataclass(frozen=True, slots=True)
class ScopeMap:
    name: str
    description: str | None
    actions: tuple[str, ...]  # canonical lines
    system: bool
    created_at: datetime | None  # None for the system maps


def check_scope_map_name(name: str) -> str:
    if not _SCOPE_MAP_NAME.fullmatch(name):
        raise InvalidAccessName(
            f"scope map name {name!r} is not allowed: use 5 to 50 letters, digits, '-' or '_'",
            scopeMapName=name,
        )
    return name


def canonical_actions(actions: Iterable[str]) -> tuple[str, ...]:
    """The lines of a scope map, checked, each once, in canonical form (InvalidScope if not)."""
    return tuple(str(rule) for rule in parse_scope_map(actions))


def system_scope_map(name: str) -> ScopeMap | None:
    """The system scope map of that name (any case), if it is one."""
    found = SYSTEM_SCOPE_MAPS.get(name.lower())
    if found is None:
        return None
    description, actions = found
    return ScopeMap(name.lower(), description, tuple(actions), True, None)


def check_scope_map_description(description: str | None) -> str | None:
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise InvalidAccessField(
            f"description is {len(description)} characters long; at most {MAX_DESCRIPTION}",
            description=description[:64],
        )
    return description


def system_scope_map_read_only(name: str) -> SystemScopeMapReadOnly:
    return SystemScopeMapReadOnly(
        f"'{name.lower()}' is a system scope map: it cannot be created, changed or deleted; "
        "create a scope map of your own, with another name",
        scopeMapName=name,
    )


def scope_map_not_found(registry: str, name: str) -> ScopeMapNotFound:
    return ScopeMapNotFound(
        f"The scope map '{name}' of registry '{registry}' could not be found; see: moorage acr "
        f"scope-map list --registry {registry}",
        scopeMapName=name,
    )


PASSWORD_NAMES = ("password1", "password2")
# As the cloud's REST specification has it: letters, digits and "-" (it is a login user name).
_TOKEN_NAME = re.compile(r"^[A-Za-z0-9-]{5,50}$")
TOKEN_NAME_PATTERN = _TOKEN_NAME.pattern  # the OpenAPI document's, for the same rule


class TokenStatus(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class TokenPassword:
    name: str  # "password1" | "password2"
    value_hash: str
    created_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class Token:
    name: str
    scope_map: str  # the scope map's name as created (a system map's own name)
    status: TokenStatus
    created_at: datetime
    passwords: tuple[TokenPassword, ...]


@dataclass(frozen=True, slots=True)
class GeneratedPassword:
    """A password as `generate` made it: the only time its value is known."""

    name: str
    value: str
    created_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class TokenLogin:
    """What the data plane's login needs of a token, read at once."""

    name: str  # the token's name as created
    enabled: bool  # status == "enabled"
    scope_map: str  # scope map name
    actions: tuple[str, ...]  # the scope map's lines (system maps resolved), canonical
    passwords: tuple[TokenPassword, ...]


def check_token_name(name: str) -> str:
    if not _TOKEN_NAME.fullmatch(name):
        raise InvalidAccessName(
            f"token name {name!r} is not allowed: use 5 to 50 letters, digits or '-'",
            tokenName=name,
        )
    return name


def token_not_found(registry: str, name: str) -> TokenNotFound:
    return TokenNotFound(
        f"The token '{name}' of registry '{registry}' could not be found; see: moorage acr "
        f"token list --registry {registry}",
        tokenName=name,
    )


def check_password_names(names: Collection[str]) -> None:
    unknown = [n for n in names if n not in PASSWORD_NAMES]
    if unknown or not names:
        raise InvalidAccessField(
            f"password name(s) {', '.join(map(repr, unknown)) or 'none'}: use "
            f"{' or '.join(PASSWORD_NAMES)}",
            name=unknown[0] if unknown else "",
        )
