"""Admin-user passwords of registries: encrypted (the API must return them in clear), and
hashed with argon2id (logins are checked against the hash)."""

from __future__ import annotations

from sqlalchemy import select, update

from moorage.store.changes import CredentialsChanged
from moorage.store.database import Database
from moorage.store.schema import registry_credentials
from moorage.store.sql import insert_ignore
from moorage.store.types import utcnow


class CredentialStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, registry_id: int) -> dict[str, str]:
        """Encrypted password by name ("password", "password2")."""
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(registry_credentials.c.name, registry_credentials.c.value_encrypted).where(
                    registry_credentials.c.registry_id == registry_id
                )
            )
            return {name: value for name, value in rows}

    async def logins(self, registry_id: int) -> dict[str, tuple[str, str | None]]:
        """(encrypted password, its argon2 hash or None for a row older than hashing) by name."""
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(
                    registry_credentials.c.name,
                    registry_credentials.c.value_encrypted,
                    registry_credentials.c.value_hash,
                ).where(registry_credentials.c.registry_id == registry_id)
            )
            return {name: (encrypted, hashed) for name, encrypted, hashed in rows}

    async def add_hash(self, registry_id: int, name: str, encrypted: str, hashed: str) -> None:
        """Record the hash of a password stored before hashing, unless it changed meanwhile."""
        async with self._db.write() as conn:
            await conn.execute(
                update(registry_credentials)
                .where(
                    registry_credentials.c.registry_id == registry_id,
                    registry_credentials.c.name == name,
                    registry_credentials.c.value_encrypted == encrypted,
                )
                .values(value_hash=hashed)
            )

    async def put(self, registry_id: int, name: str, encrypted: str, hashed: str) -> None:
        async with self._db.write(CredentialsChanged(registry_id)) as conn:
            changed = await conn.execute(
                update(registry_credentials)
                .where(
                    registry_credentials.c.registry_id == registry_id,
                    registry_credentials.c.name == name,
                )
                .values(value_encrypted=encrypted, value_hash=hashed, created_at=utcnow())
            )
            if changed.rowcount == 0:
                await insert_ignore(
                    conn,
                    registry_credentials,
                    registry_id=registry_id,
                    name=name,
                    value_encrypted=encrypted,
                    value_hash=hashed,
                    created_at=utcnow(),
                )
