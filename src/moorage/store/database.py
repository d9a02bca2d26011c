"""Engines and migrations.

SQLite (the embedded default) gets one writer connection that opens every transaction with
BEGIN IMMEDIATE, so writers queue instead of failing, and a small pool of readers that WAL
mode never blocks. Every write goes through `Database.write()`, which announces the change it
names (store/changes.py) once the transaction has committed.

PostgreSQL (`postgresql://user:password@host:port/db`, through asyncpg) gets one pool for
both; what SQLite's single writer made safe is held by row locks and constraints in the stores.
Migrations run in one transaction under an advisory lock, so replicas starting at once
migrate exactly once: the others wait, then find the schema at its newest revision.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from moorage.store.changes import Change, Changes

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(engine: AsyncEngine, *, begin: str) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (the driver's implicit transactions are too lazy).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed push survives power loss, not only a killed process.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin)


MIGRATION_LOCK = 0x6D6F6F72  # "moor": the advisory lock key every replica migrates under


def engine_url(url: str) -> str:
    """The SQLAlchemy URL of a database URL as users write it (postgresql:// -> asyncpg)."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+asyncpg://" + url[len(scheme) :]
    return url


class Database:
    def __init__(self, url: str) -> None:
        url = engine_url(url)
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.changes = Changes()
        if self.is_sqlite:
            self.writer = create_async_engine(url, pool_size=1, max_overflow=0)
            self.reader = create_async_engine(url, pool_size=4, max_overflow=4)
            _sqlite_pragmas(self.writer, begin="BEGIN IMMEDIATE")
            _sqlite_pragmas(self.reader, begin="BEGIN")
        else:
            self.writer = self.reader = create_async_engine(
                url, pool_size=10, max_overflow=10, pool_pre_ping=True
            )

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> Database:
        return cls(f"sqlite+aiosqlite:///{data_dir / 'moorage.db'}")

    @asynccontextmanager
    async def write(self, change: Change | None = None) -> AsyncIterator[AsyncConnection]:
        async with self.writer.begin() as conn:
            yield conn
        if change is not None:
            self.changes.announce(change)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.reader.connect() as conn:
            yield conn

    async def migrate(self) -> None:
        """Bring the schema to the newest revision.

        On SQLite, foreign keys are off while migrations run: a migration that rebuilds a
        table (SQLite's way to alter one) would otherwise cascade-delete the rows pointing at
        it. The keys are checked once the migrations are done, and turned back on.
        """
        async with self.writer.connect() as conn:
            raw = None
            if self.is_sqlite:
                raw = (await conn.get_raw_connection()).driver_connection
                assert raw is not None
                await raw.execute("PRAGMA foreign_keys=OFF")
            try:
                async with conn.begin():
                    if not self.is_sqlite:  # held until this transaction ends
                        await conn.exec_driver_sql(
                            f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"
                        )
                    await conn.run_sync(_upgrade)
                    if raw is not None:
                        broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                        if broken:
                            raise RuntimeError(f"migration broke foreign keys: {broken[:5]}")
            finally:
                if raw is not None:
                    await raw.execute("PRAGMA foreign_keys=ON")

    @property
    def address(self) -> str:
        """Where the database is, as an error names it (no password)."""
        if self.is_sqlite:
            return self.url.removeprefix("sqlite+aiosqlite:///")
        parsed = make_url(self.url)
        return f"PostgreSQL at {parsed.host}:{parsed.port or 5432}, database {parsed.database!r}"

    async def close(self) -> None:
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
