"""Upload sessions: their metadata lives here, their bytes with the blob driver."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update

from moorage.store.database import Database
from moorage.store.schema import uploads
from moorage.store.types import Upload, as_utc, utcnow


class UploadStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, upload_id: str, registry_id: int, repository: str) -> Upload:
        now = utcnow()
        async with self._db.write() as conn:
            await conn.execute(
                insert(uploads).values(
                    id=upload_id,
                    registry_id=registry_id,
                    repository=repository,
                    size=0,
                    created_at=now,
                    updated_at=now,
                )
            )
        return Upload(upload_id, registry_id, repository, 0, now)

    async def get(self, upload_id: str) -> Upload | None:
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    select(
                        uploads.c.id,
                        uploads.c.registry_id,
                        uploads.c.repository,
                        uploads.c.size,
                        uploads.c.updated_at,
                    ).where(uploads.c.id == upload_id)
                )
            ).first()
        if row is None:
            return None
        return Upload(row[0], row[1], row[2], row[3], as_utc(row[4]))

    async def set_size(self, upload_id: str, size: int) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                update(uploads)
                .where(uploads.c.id == upload_id)
                .values(size=size, updated_at=utcnow())
            )

    async def delete(self, upload_id: str) -> bool:
        async with self._db.write() as conn:
            result = await conn.execute(delete(uploads).where(uploads.c.id == upload_id))
            return bool(result.rowcount)

    async def stale(self, before: datetime) -> list[str]:
        async with self._db.read() as conn:
            rows = await conn.execute(select(uploads.c.id).where(uploads.c.updated_at < before))
            return list(rows.scalars())
