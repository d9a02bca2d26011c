"""Scope maps of a registry: named sets of lines `repositories/<repository or pattern>/<action>`
that a repository-scoped token grants (see store/repository_tokens.py).

The system scope maps (`_repositories_pull`, ...) are the same for every registry: they are
never stored; they are listed, tokens can use them, and they cannot be created, changed or
deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from moorage.domain.access import SYSTEM_SCOPE_MAPS
from moorage.domain.errors import RegistryNotFound, ScopeMapExists, ScopeMapInUse
from moorage.domain.repository_access import (
    ScopeMap,
    canonical_actions,
    check_scope_map_description,
    check_scope_map_name,
    scope_map_not_found,
    system_scope_map,
    system_scope_map_read_only,
)
from moorage.store.changes import CredentialsChanged
from moorage.store.database import Database
from moorage.store.schema import registries, registry_tokens, scope_maps
from moorage.store.types import as_utc, utcnow


async def registry_name(conn: AsyncConnection, registry_id: int) -> str:
    """The registry's name, for messages (and a check that it is still there)."""
    name = await conn.scalar(select(registries.c.name).where(registries.c.id == registry_id))
    if name is None:
        raise RegistryNotFound(f"The registry with id {registry_id} no longer exists.")
    return str(name)


def _scope_map(row: Any) -> ScopeMap:
    return ScopeMap(row.name, row.description, tuple(row.actions), False, as_utc(row.created_at))


class ScopeMapStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def all(self, registry_id: int) -> list[ScopeMap]:
        """The system maps, then the registry's own, by name."""
        async with self._db.read() as conn:
            rows = (
                await conn.execute(
                    select(scope_maps)
                    .where(scope_maps.c.registry_id == registry_id)
                    .order_by(scope_maps.c.name_key)
                )
            ).all()
        system = [m for m in map(system_scope_map, SYSTEM_SCOPE_MAPS) if m is not None]
        return [*system, *map(_scope_map, rows)]

    async def get(self, registry_id: int, name: str) -> ScopeMap:
        system = system_scope_map(name)
        if system is not None:
            return system
        async with self._db.read() as conn:
            row = await self._row(conn, registry_id, name)
            if row is None:
                raise scope_map_not_found(await registry_name(conn, registry_id), name)
        return _scope_map(row)

    async def put(
        self,
        registry_id: int,
        name: str,
        actions: Iterable[str],
        description: str | None = None,
        *,
        create_only: bool = False,
    ) -> tuple[ScopeMap, bool]:
        """Create the scope map, or replace its actions and description; True when created."""
        check_scope_map_name(name)
        if system_scope_map(name) is not None:
            raise system_scope_map_read_only(name)
        lines = canonical_actions(actions)
        check_scope_map_description(description)
        async with self._db.write(CredentialsChanged(registry_id)) as conn:
            registry = await registry_name(conn, registry_id)
            row = await self._row(conn, registry_id, name)
            created = row is None
            if row is not None:
                if create_only:
                    raise ScopeMapExists(
                        f"The scope map '{row.name}' of registry '{registry}' already exists.",
                        scopeMapName=name,
                    )
                await conn.execute(
                    update(scope_maps)
                    .where(scope_maps.c.id == row.id)
                    .values(actions=list(lines), description=description)
                )
            else:
                await conn.execute(
                    insert(scope_maps).values(
                        registry_id=registry_id,
                        name=name,
                        name_key=name.lower(),
                        description=description,
                        actions=list(lines),
                        created_at=utcnow(),
                    )
                )
            row = await self._row(conn, registry_id, name)
        return _scope_map(row), created

    async def update(
        self,
        registry_id: int,
        name: str,
        *,
        actions: Iterable[str] | None = None,
        description: str | None = None,
    ) -> ScopeMap:
        """Change what is given; the rest stays."""
        if system_scope_map(name) is not None:
            raise system_scope_map_read_only(name)
        values: dict[str, Any] = {}
        if actions is not None:
            values["actions"] = list(canonical_actions(actions))
        if description is not None:
            values["description"] = check_scope_map_description(description)
        async with self._db.write(CredentialsChanged(registry_id)) as conn:
            row = await self._row(conn, registry_id, name)
            if row is None:
                raise scope_map_not_found(await registry_name(conn, registry_id), name)
            if values:
                await conn.execute(
                    update(scope_maps).where(scope_maps.c.id == row.id).values(values)
                )
                row = await self._row(conn, registry_id, name)
        return _scope_map(row)

    async def delete(self, registry_id: int, name: str) -> bool:
        """False when there was no such map; refused while tokens use it."""
        if system_scope_map(name) is not None:
            raise system_scope_map_read_only(name)
        async with self._db.write(CredentialsChanged(registry_id)) as conn:
            row = await self._row(conn, registry_id, name)
            if row is None:
                return False
            users = (
                await conn.scalars(
                    select(registry_tokens.c.name)
                    .where(
                        registry_tokens.c.registry_id == registry_id,
                        registry_tokens.c.scope_map == row.name_key,
                    )
                    .order_by(registry_tokens.c.name_key)
                )
            ).all()
            if users:
                raise ScopeMapInUse(
                    f"The scope map '{row.name}' is used by the token(s) "
                    f"{', '.join(repr(u) for u in users)}; give them another scope map "
                    "(moorage acr token update --scope-map ...) or delete them first.",
                    scopeMapName=row.name,
                    tokens=list(users),
                )
            await conn.execute(delete(scope_maps).where(scope_maps.c.id == row.id))
        return True

    @staticmethod
    async def _row(conn: AsyncConnection, registry_id: int, name: str) -> Any:
        return (
            await conn.execute(
                select(scope_maps).where(
                    scope_maps.c.registry_id == registry_id,
                    scope_maps.c.name_key == name.lower(),
                )
            )
        ).first()
