"""Small SQL helpers shared by the stores, written once for SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from moorage.store.schema import repositories
from moorage.store.types import utcnow


async def insert_ignore(conn: AsyncConnection, table: Table, **values: Any) -> None:
    """INSERT that does nothing when the row (by any unique key) is already there."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    await conn.execute(dialect.insert(table).values(**values).on_conflict_do_nothing())


async def repository_id(conn: AsyncConnection, registry_id: int, name: str) -> int | None:
    return (
        await conn.execute(
            select(repositories.c.id).where(
                repositories.c.registry_id == registry_id, repositories.c.name == name
            )
        )
    ).scalar()


async def ensure_repository(conn: AsyncConnection, registry_id: int, name: str) -> int:
    await insert_ignore(conn, repositories, registry_id=registry_id, name=name, created_at=utcnow())
    found = await repository_id(conn, registry_id, name)
    assert found is not None  # inserted or already there, inside this transaction
    return found


async def lock_repository(conn: AsyncConnection, repo_id: int) -> None:
    """Hold the repository's row until the transaction ends: on PostgreSQL, writes of manifests
    and tags to one repository queue here instead of racing to the same unique keys."""
    await conn.execute(
        select(repositories.c.id).where(repositories.c.id == repo_id).with_for_update()
    )
