"""Migrations keep every row: a database made by an old revision upgrades with its data."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine

from moorage.store.database import MIGRATIONS, Database


def _upgrade_sync(url: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
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
