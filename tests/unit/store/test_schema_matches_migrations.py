"""The migrations make the schema that store/schema.py declares: a database migrated to head has
exactly its tables, columns, types, indexes and unique constraints (alembic's own comparison,
as `alembic revision --autogenerate` would see it), on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from moorage.store.database import Database
from moorage.store.schema import metadata


def _differences(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_head_has_exactly_the_declared_schema(db: Database) -> None:
    async with db.read() as conn:
        differences = await conn.run_sync(_differences)
    # No type-affinity noise shows up today; should one appear, filter it here by name.
    assert differences == [], "\n".join(map(str, differences))
