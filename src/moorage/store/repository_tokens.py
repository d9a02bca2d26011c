"""Repository-scoped tokens of a registry: a login name bound to one scope map, with up to two
passwords (`password1`, `password2`) that may expire.

Passwords are stored as argon2id hashes only; the clear value exists once, in what
`TokenStore.generate` returns. Hashing is slow (~50 ms, 64 MiB), so it runs in worker threads,
a few at a time, and never inside a write transaction. `TokenStore.login` is what the data
plane's login reads.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from moorage.domain.errors import InvalidAccessField, TokenExists, TokenNameTaken
from moorage.domain.repository_access import (
    PASSWORD_NAMES,
    GeneratedPassword,
    Token,
    TokenLogin,
    TokenPassword,
    TokenStatus,
    check_password_names,
    check_token_name,
    scope_map_not_found,
    system_scope_map,
    token_not_found,
)
from moorage.store.changes import CredentialsChanged
from moorage.store.database import Database
from moorage.store.schema import registry_tokens, scope_maps, token_passwords
from moorage.store.scope_maps import registry_name
from moorage.store.types import as_utc, utcnow

T = TypeVar("T")


def _token_query() -> Any:
    """A token's row with its scope map's display name and lines (NULL for a system map)."""
    return select(
        registry_tokens.c.id,
        registry_tokens.c.name,
        registry_tokens.c.scope_map,
        registry_tokens.c.status,
        registry_tokens.c.created_at,
        scope_maps.c.name.label("map_name"),
        scope_maps.c.actions.label("map_actions"),
    ).outerjoin(
        scope_maps,
        (scope_maps.c.registry_id == registry_tokens.c.registry_id)
        & (scope_maps.c.name_key == registry_tokens.c.scope_map),
    )


def _password(row: Any) -> TokenPassword:
    return TokenPassword(
        name=row.name,
        value_hash=row.value_hash,
        created_at=as_utc(row.created_at),
        expires_at=as_utc(row.expires_at) if row.expires_at is not None else None,
    )


def _token(row: Any, passwords: Iterable[TokenPassword]) -> Token:
    return Token(
        name=row.name,
        scope_map=row.map_name or row.scope_map,
        status=TokenStatus(row.status),
        created_at=as_utc(row.created_at),
        passwords=tuple(sorted(passwords, key=lambda p: p.name)),
    )


NewSecret = Callable[[], tuple[str, str]]
"""Makes a password: its clear value and the hash to keep (auth.secrets.new_hashed_secret)."""


class TokenStore:
    def __init__(
        self, db: Database, *, new_secret: NewSecret, hashing_concurrency: int | None = None
    ) -> None:
        self._db = db
        self._new_secret = new_secret
        self._hashing = asyncio.Semaphore(hashing_concurrency or min(4, os.cpu_count() or 1))

    async def _argon2(self, work: Callable[[], T]) -> T:
        async with self._hashing:
            return await asyncio.to_thread(work)

    async def all(self, registry_id: int) -> list[Token]:
        async with self._db.read() as conn:
            rows = (
                await conn.execute(
                    _token_query()
                    .where(registry_tokens.c.registry_id == registry_id)
                    .order_by(registry_tokens.c.name_key)
                )
            ).all()
            passwords = await self._passwords(conn, [r.id for r in rows])
        return [_token(r, passwords.get(r.id, ())) for r in rows]

    async def get(self, registry_id: int, name: str) -> Token:
        async with self._db.read() as conn:
            return await self._get(conn, registry_id, name)

    async def put(
        self,
        registry_id: int,
        name: str,
        *,
        scope_map: str,
        status: TokenStatus = TokenStatus.ENABLED,
        keep_passwords: Collection[str] | None = None,
        create_only: bool = False,
    ) -> tuple[Token, bool]:
        """Create the token, or replace its scope map and status (and drop the passwords
        `keep_passwords` leaves out, when given); True when created."""
        check_token_name(name)
        async with self._db.write(CredentialsChanged(registry_id)) as conn:
            registry = await registry_name(conn, registry_id)
            if name.lower() == registry.lower():
                raise TokenNameTaken(
                    f"A token cannot be named '{name}': that is the login name of the admin "
                    f"user of registry '{registry}'. Choose another name.",
                    tokenName=name,
                )
            map_key = await self._scope_map_key(conn, registry_id, registry, scope_map)
            row = await self._row(conn, registry_id, name)
            if row is None:
                await conn.execute(
                    insert(registry_tokens).values(
                        registry_id=registry_id,
                        name=name,
                        name_key=name.lower(),
                        scope_map=map_key,
                        status=status.value,
                        created_at=utcnow(),
                    )
                )
            elif create_only:
                raise TokenExists(
                    f"The token '{row.name}' of registry '{registry}' already exists.",
                    tokenName=name,
                )
            else:
                await conn.execute(
                    update(registry_tokens)
                    .where(registry_tokens.c.id == row.id)
                    .values(scope_map=map_key, status=status.value)
                )
                await self._keep(conn, row.id, keep_passwords)
            return await self._get(conn, registry_id, name), row is None

    async def update(
        self,
        registry_id: int,
        name: str,
        *,
        scope_map: str | None = None,
        status: TokenStatus | None = None,
        keep_passwords: Collection[str] | None = None,
    ) -> Token:
        """Change what is given; `keep_passwords` drops the passwords it leaves out."""
        async with self._db.write(CredentialsChanged(registry_id)) as conn:
            registry = await registry_name(conn, registry_id)
            row = await self._row(conn, registry_id, name)
            if row is None:
                raise token_not_found(registry, name)
            values: dict[str, Any] = {}
            if scope_map is not None:
                values["scope_map"] = await self._scope_map_key(
                    conn, registry_id, registry, scope_map
                )
            if status is not None:
                values["status"] = status.value
            if values:
                await conn.execute(
                    update(registry_tokens).where(registry_tokens.c.id == row.id).values(values)
                )
            await self._keep(conn, row.id, keep_passwords)
            return await self._get(conn, registry_id, name)

    async def delete(self, registry_id: int, name: str) -> bool:
        async with self._db.write(CredentialsChanged(registry_id)) as conn:
            deleted = await conn.execute(
                delete(registry_tokens).where(
                    registry_tokens.c.registry_id == registry_id,
                    registry_tokens.c.name_key == name.lower(),
                )
            )
        return bool(deleted.rowcount)

    async def generate(
        self,
        registry_id: int,
        name: str,
        names: Sequence[str] = PASSWORD_NAMES,
        *,
        expires_at: datetime | None = None,
    ) -> tuple[Token, list[GeneratedPassword]]:
        """New passwords `names` of the token (each replaces the one of its name; the other
        stays). Their values are in what this returns, and nowhere else."""
        names = tuple(dict.fromkeys(names))
        check_password_names(names)
        now = utcnow()
        if expires_at is not None:
            expires_at = as_utc(expires_at)
            if expires_at <= now:
                raise InvalidAccessField(
                    f"expiry {expires_at.isoformat()} is in the past", expiry=str(expires_at)
                )
        await self.get(registry_id, name)  # a missing token costs no hashing
        made = {n: await self._argon2(self._new_secret) for n in names}
        values = {n: value for n, (value, _) in made.items()}
        hashes = {n: hashed for n, (_, hashed) in made.items()}
        async with self._db.write(CredentialsChanged(registry_id)) as conn:
            row = await self._row(conn, registry_id, name)
            if row is None:  # deleted while the passwords were hashed
                raise token_not_found(await registry_name(conn, registry_id), name)
            token_id = row.id
            await conn.execute(
                delete(token_passwords).where(
                    token_passwords.c.token_id == token_id, token_passwords.c.name.in_(names)
                )
            )
            await conn.execute(
                insert(token_passwords),
                [
                    {
                        "token_id": token_id,
                        "name": n,
                        "value_hash": hashes[n],
                        "created_at": now,
                        "expires_at": expires_at,
                    }
                    for n in names
                ],
            )
            token = await self._get(conn, registry_id, name)
        return token, [GeneratedPassword(n, values[n], now, expires_at) for n in names]

    async def login(self, registry_id: int, name: str) -> TokenLogin | None:
        """The token named `name` (any case) with its scope map's lines and its passwords, in
        one read; None when the registry has no such token."""
        query = (
            _token_query()
            .add_columns(
                token_passwords.c.name.label("password_name"),
                token_passwords.c.value_hash,
                token_passwords.c.created_at.label("password_created_at"),
                token_passwords.c.expires_at,
            )
            .outerjoin(token_passwords, token_passwords.c.token_id == registry_tokens.c.id)
            .where(
                registry_tokens.c.registry_id == registry_id,
                registry_tokens.c.name_key == name.lower(),
            )
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        if not rows:
            return None
        first = rows[0]
        system = system_scope_map(first.scope_map)
        # A stored map that is gone (deletion prevents it) grants nothing.
        actions = system.actions if system is not None else tuple(first.map_actions or ())
        return TokenLogin(
            name=first.name,
            enabled=first.status == TokenStatus.ENABLED.value,
            scope_map=system.name if system else (first.map_name or first.scope_map),
            actions=actions,
            passwords=tuple(
                TokenPassword(
                    name=r.password_name,
                    value_hash=r.value_hash,
                    created_at=as_utc(r.password_created_at),
                    expires_at=as_utc(r.expires_at) if r.expires_at is not None else None,
                )
                for r in sorted(rows, key=lambda r: r.password_name)
                if r.password_name is not None
            ),
        )

    async def _get(self, conn: AsyncConnection, registry_id: int, name: str) -> Token:
        row = (
            await conn.execute(
                _token_query().where(
                    registry_tokens.c.registry_id == registry_id,
                    registry_tokens.c.name_key == name.lower(),
                )
            )
        ).first()
        if row is None:
            raise token_not_found(await registry_name(conn, registry_id), name)
        passwords = await self._passwords(conn, [row.id])
        return _token(row, passwords.get(row.id, ()))

    @staticmethod
    async def _row(conn: AsyncConnection, registry_id: int, name: str) -> Any:
        return (
            await conn.execute(
                select(registry_tokens.c.id, registry_tokens.c.name).where(
                    registry_tokens.c.registry_id == registry_id,
                    registry_tokens.c.name_key == name.lower(),
                )
            )
        ).first()

    @staticmethod
    async def _passwords(
        conn: AsyncConnection, token_ids: Sequence[int]
    ) -> dict[int, list[TokenPassword]]:
        if not token_ids:
            return {}
        rows = await conn.execute(
            select(token_passwords).where(token_passwords.c.token_id.in_(token_ids))
        )
        found: dict[int, list[TokenPassword]] = {}
        for row in rows:
            found.setdefault(row.token_id, []).append(_password(row))
        return found

    @staticmethod
    async def _scope_map_key(
        conn: AsyncConnection, registry_id: int, registry: str, name: str
    ) -> str:
        """The lower-cased name of a system map or of one of the registry's maps."""
        if system_scope_map(name) is not None:
            return name.lower()
        found = await conn.scalar(
            select(scope_maps.c.name_key).where(
                scope_maps.c.registry_id == registry_id,
                scope_maps.c.name_key == name.lower(),
            )
        )
        if found is None:
            raise scope_map_not_found(registry, name)
        return str(found)

    @staticmethod
    async def _keep(conn: AsyncConnection, token_id: int, keep: Collection[str] | None) -> None:
        if keep is not None:
            await conn.execute(
                delete(token_passwords).where(
                    token_passwords.c.token_id == token_id,
                    token_passwords.c.name.not_in(list(keep)),
                )
            )
