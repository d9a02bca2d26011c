"""Migrations keep every row: a database made by an old revision upgrades with its data."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine

from moorage.store.database import MIGRATIONS, Database
from tests.support.postgres import Postgres


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade_sync(url: str, revision: str) -> None:
    config = _config()
    with create_engine(url).begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


async def test_upgrade_from_the_first_revision_keeps_repositories(tmp_path: Path) -> None:
    path = tmp_path / "moorage.db"
    _upgrade_sync(f"sqlite:///{path}", "0001")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(
            "INSERT INTO registries (id, name, name_key, login_server, location, sku, "
            "public_network_access, default_action, tags, created_at) VALUES "
            "(1, 'keepme1', 'keepme1', 'keepme1.x', 'l', 'Premium', 'Enabled', 'Allow', '{}', "
            "'2026-01-01 00:00:00')"
        )
        conn.execute(
            "INSERT INTO repositories (id, registry_id, name, created_at) "
            "VALUES (1, 1, 'app', '2026-01-01 00:00:00')"
        )
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.migrate()
    await db.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM repositories").fetchall() == [("app",)]
        row = conn.execute(
            "SELECT name, admin_user_enabled, network_rule_bypass_options FROM registries"
        ).fetchall()
        assert row == [("keepme1", 0, "AzureServices")]
        assert conn.execute("PRAGMA foreign_keys").fetchone() == (0,)  # a fresh connection
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


async def _upgrade_async(url: str, revision: str) -> None:
    db = Database(url)

    def upgrade(conn: Connection) -> None:
        config = _config()
        config.attributes["connection"] = conn
        command.upgrade(config, revision)

    try:
        async with db.write() as conn:
            await conn.run_sync(upgrade)
    finally:
        await db.close()


@pytest.mark.parametrize("start", [None, "-1"], ids=["empty", "one-revision-behind"])
async def test_replicas_starting_at_once_migrate_exactly_once(
    postgres: Postgres, start: str | None
) -> None:
    """Each replica migrates on its own connection; the advisory lock lets one do the work,
    and the others then find the schema at head (without it, they race to the same DDL)."""
    url = postgres.create_database()
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    if start is not None:
        await _upgrade_async(url, f"{head}{start}")
    replicas = [Database(url) for _ in range(4)]
    try:
        await asyncio.gather(*(db.migrate() for db in replicas))
    finally:
        for db in replicas:
            await db.close()
    database = url.rsplit("/", 1)[1]
    assert postgres.psql("SELECT version_num FROM alembic_version", database).split() == [head]
