"""Whether the credential behind a token or a remembered login still stands.

Every registry token records what issued it (registry_tokens.Source): an admin password and its
generation, a token's password, a service principal's secret, or an identity-endpoint token
(bound to the principal's secret). On every use the credential is looked up again: deleted,
regenerated, expired or disabled, and the token is refused with the reason.

Answers are remembered for a second, and forgotten at once when the store announces a change of
the registry's credentials (store/changes.py): a deleted password stops working at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from moorage.auth.principals import PrincipalStore
from moorage.auth.registry_tokens import Source, fingerprint
from moorage.domain.registry import Registry
from moorage.store.changes import CredentialsChanged
from moorage.store.credentials import CredentialStore

CACHE_SECONDS = 1.0
CACHE_SIZE = 4096


class TokenPasswordLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def value_hash(self) -> str: ...
    @property
    def expires_at(self) -> datetime | None: ...


class TokenLoginLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def actions(self) -> tuple[str, ...]: ...
    @property
    def passwords(self) -> tuple[TokenPasswordLike, ...]: ...


class TokenLogins(Protocol):
    async def login(self, registry_id: int, name: str) -> TokenLoginLike | None: ...


_Key = tuple[int, str, str, Source | None]


class SourceChecks:
    def __init__(
        self,
        credentials: CredentialStore,
        tokens: TokenLogins,
        principals: PrincipalStore,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.credentials = credentials
        self.tokens = tokens
        self.principals = principals
        self._clock = clock
        self._answers: dict[_Key, tuple[float, str | None]] = {}
        self._generation = 0

    def forget(self, change: CredentialsChanged) -> None:
        self._generation += 1
        if change.registry_id is None:
            self._answers.clear()
        else:
            for key in [k for k in self._answers if k[0] == change.registry_id]:
                del self._answers[key]

    async def refusal(
        self, registry: Registry, kind: str, name: str, source: Source | None
    ) -> str | None:
        """None while the identity and the credential that proved it stand; else why not.
        Without a source (an access token of an older release), the identity alone is checked."""
        if kind == "admin" and not registry.admin_user_enabled:
            return f"the admin user of registry {registry.name!r} is disabled"
        if kind == "anonymous":
            if registry.anonymous_pull_enabled:
                return None
            return f"registry {registry.name!r} no longer allows anonymous pull"
        expires = source.expires_at if source is not None else None
        if expires is not None and expires <= time.time():
            assert source is not None
            return f"{source.credential} of {kind} {name!r} expired at {_when(expires)}"
        key = (registry.id, kind, name.lower(), source)
        now = self._clock()
        cached = self._answers.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        generation = self._generation
        answer = await self._look_up(registry, kind, name, source)
        if generation == self._generation:  # no change announced while it was looked up
            if len(self._answers) >= CACHE_SIZE:
                self._answers.clear()
            self._answers[key] = (now + CACHE_SECONDS, answer)
        return answer

    async def _look_up(
        self, registry: Registry, kind: str, name: str, source: Source | None
    ) -> str | None:
        if kind == "admin":
            if source is None:
                return None
            stored = (await self.credentials.logins(registry.id)).get(source.credential)
            if stored is None or fingerprint(stored[0]) != source.generation:
                return f"the admin user's {source.credential} was regenerated since"
            return None
        if kind == "token":
            token = await self.tokens.login(registry.id, name)
            if token is None:
                return f"token {name!r} was deleted"
            if not token.enabled:
                return f"token {name!r} is disabled"
            if source is None:
                return None
            password = next((p for p in token.passwords if p.name == source.credential), None)
            if password is None:
                return f"{source.credential} of token {name!r} was deleted"
            if fingerprint(password.value_hash) != source.generation:
                return f"{source.credential} of token {name!r} was regenerated since"
            if password.expires_at is not None and password.expires_at <= datetime.now(UTC):
                return (
                    f"{source.credential} of token {name!r} expired at "
                    f"{password.expires_at.isoformat(timespec='seconds')}"
                )
            return None
        if kind == "principal":
            found = await self.principals.login(name)
            if found is None:
                return f"service principal {name!r} was deleted"
            if source is not None and fingerprint(found[1]) != source.generation:
                return f"the secret of service principal {name!r} was reset since"
            return None
        return f"{kind!r} is not an identity of this service"


def _when(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
