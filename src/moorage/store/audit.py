"""Storage of refused requests, pruned to bounds on every write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from moorage.store.database import Database
from moorage.store.schema import access_denial_counts, access_denials
from moorage.store.types import as_utc


@dataclass(frozen=True, slots=True)
class Denial:
    registry_id: int
    at: datetime
    client: str
    peer: str
    forwarded: str | None
    method: str
    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class DeniedClient:
    registry_id: int
    client: str
    count: int
    first_at: datetime
    last_at: datetime
    last_reason: str


class AuditStore:
    def __init__(
        self, db: Database, *, max_details: int = 1_000, max_addresses: int = 10_000
    ) -> None:
        self._db = db
        self.max_details = max_details
        self.max_addresses = max_addresses

    async def write(self, details: list[Denial], counts: list[DeniedClient]) -> None:
        registries = {d.registry_id for d in details} | {c.registry_id for c in counts}
        async with self._db.write() as conn:
            if details:
                await conn.execute(
                    insert(access_denials),
                    [
                        {
                            "registry_id": d.registry_id,
                            "at": d.at,
                            "client": d.client,
                            "peer": d.peer,
                            "forwarded": d.forwarded,
                            "method": d.method,
                            "path": d.path,
                            "reason": d.reason,
                        }
                        for d in details
                    ],
                )
            for c in counts:
                t = access_denial_counts
                changed = await conn.execute(
                    update(t)
                    .where(t.c.registry_id == c.registry_id, t.c.client == c.client)
                    .values(count=t.c.count + c.count, last_at=c.last_at, last_reason=c.last_reason)
                )
                if changed.rowcount == 0:
                    await conn.execute(
                        insert(t).values(
                            registry_id=c.registry_id,
                            client=c.client,
                            count=c.count,
                            first_at=c.first_at,
                            last_at=c.last_at,
                            last_reason=c.last_reason,
                        )
                    )
            for registry_id in registries:
                await self._prune(conn, registry_id)

    async def _prune(self, conn: AsyncConnection, registry_id: int) -> None:
        d = access_denials
        newest = (
            await conn.execute(select(func.max(d.c.id)).where(d.c.registry_id == registry_id))
        ).scalar()
        if newest is not None:
            await conn.execute(
                delete(d).where(d.c.registry_id == registry_id, d.c.id <= newest - self.max_details)
            )
        c = access_denial_counts
        total = (
            await conn.execute(
                select(func.count()).select_from(c).where(c.c.registry_id == registry_id)
            )
        ).scalar_one()
        if total > self.max_addresses:
            oldest = (
                select(c.c.client)
                .where(c.c.registry_id == registry_id)
                .order_by(c.c.last_at)
                .limit(total - self.max_addresses)
            )
            await conn.execute(
                delete(c).where(c.c.registry_id == registry_id, c.c.client.in_(oldest))
            )

    async def denied_clients(self, registry_id: int, limit: int) -> list[DeniedClient]:
        c = access_denial_counts
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(
                    c.c.registry_id,
                    c.c.client,
                    c.c.count,
                    c.c.first_at,
                    c.c.last_at,
                    c.c.last_reason,
                )
                .where(c.c.registry_id == registry_id)
                .order_by(c.c.last_at.desc())
                .limit(limit)
            )
            return [DeniedClient(r[0], r[1], r[2], as_utc(r[3]), as_utc(r[4]), r[5]) for r in rows]

    async def recent(self, registry_id: int, limit: int) -> list[Denial]:
        d = access_denials
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(
                    d.c.registry_id,
                    d.c.at,
                    d.c.client,
                    d.c.peer,
                    d.c.forwarded,
                    d.c.method,
                    d.c.path,
                    d.c.reason,
                )
                .where(d.c.registry_id == registry_id)
                .order_by(d.c.id.desc())
                .limit(limit)
            )
            return [Denial(r[0], as_utc(r[1]), *r[2:]) for r in rows]
