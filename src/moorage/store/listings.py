"""Listings and summaries of a registry's content, for the ACR metadata API (/acr/v1) and the
portal: repository counts and times, tags and manifests with their details, storage used.

Read-only: what changes content (and so the read cache of `ContentStore`) stays there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from moorage.store.content import in_repository, manifest_query
from moorage.store.database import Database
from moorage.store.schema import (
    blobs,
    manifest_references,
    manifests,
    repositories,
    repository_blobs,
    tags,
)
from moorage.store.sql import repository_id
from moorage.store.types import as_utc


class ContentListings:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- the ACR metadata API (/acr/v1) --------------------------------------------------
    # Times: tags keep one time (updated_at), manifests one (created_at); each is both the
    # created and the last-update time the API reports.

    async def repository_stats(self, registry_id: int, repository: str) -> RepositoryStats | None:
        """Counts and times of a repository; None when it does not exist."""
        repo = repositories.c.id
        query = select(
            repositories.c.created_at,
            select(func.count())
            .select_from(manifests)
            .where(manifests.c.repository_id == repo)
            .scalar_subquery(),
            select(func.count())
            .select_from(tags)
            .where(tags.c.repository_id == repo)
            .scalar_subquery(),
            select(func.max(manifests.c.created_at))
            .where(manifests.c.repository_id == repo)
            .scalar_subquery(),
            select(func.max(tags.c.updated_at))
            .where(tags.c.repository_id == repo)
            .scalar_subquery(),
        ).where(in_repository(registry_id, repository))
        async with self._db.read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        created, manifest_count, tag_count, *changes = row
        times = [as_utc(t) for t in (created, *changes) if t is not None]
        return RepositoryStats(as_utc(created), max(times), int(manifest_count), int(tag_count))

    async def tag_details(
        self,
        registry_id: int,
        repository: str,
        limit: int | None,
        last: str | None,
        order: TimeOrder | None = None,
        digest: str | None = None,
    ) -> list[TagDetail] | None:
        """Tags with their manifest and time, by name (or time) after `last`, optionally only
        those on manifest `digest`; None when the repository does not exist."""
        async with self._db.read() as conn:
            repo_id = await repository_id(conn, registry_id, repository)
            if repo_id is None:
                return None
            query = (
                select(tags.c.name, manifests.c.digest, tags.c.updated_at)
                .join(manifests, manifests.c.id == tags.c.manifest_id)
                .where(tags.c.repository_id == repo_id)
            )
            if digest is not None:
                query = query.where(manifests.c.digest == digest)
            if last:
                last_time = (
                    select(tags.c.updated_at)
                    .where(tags.c.repository_id == repo_id, tags.c.name == last)
                    .scalar_subquery()
                )
                query = query.where(_after(order, tags.c.updated_at, tags.c.name, last_time, last))
            query = query.order_by(*_ordering(order, tags.c.updated_at, tags.c.name))
            if limit is not None:
                query = query.limit(limit)
            rows = (await conn.execute(query)).all()
        return [TagDetail(name, found, as_utc(time)) for name, found, time in rows]

    async def tag_detail(self, registry_id: int, repository: str, tag: str) -> TagDetail | None:
        query = (
            select(tags.c.name, manifests.c.digest, tags.c.updated_at)
            .select_from(
                tags.join(manifests, manifests.c.id == tags.c.manifest_id).join(
                    repositories, repositories.c.id == tags.c.repository_id
                )
            )
            .where(in_repository(registry_id, repository), tags.c.name == tag)
        )
        async with self._db.read() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else TagDetail(row[0], row[1], as_utc(row[2]))

    async def manifest_details(
        self,
        registry_id: int,
        repository: str,
        limit: int | None,
        last: str | None,
        order: TimeOrder | None = None,
    ) -> list[ManifestDetail] | None:
        """Manifests by digest (or time) after `last`; None when the repository does not exist."""
        async with self._db.read() as conn:
            repo_id = await repository_id(conn, registry_id, repository)
            if repo_id is None:
                return None
            query = select(*_MANIFEST_DETAIL).where(manifests.c.repository_id == repo_id)
            if last:
                last_time = (
                    select(manifests.c.created_at)
                    .where(manifests.c.repository_id == repo_id, manifests.c.digest == last)
                    .scalar_subquery()
                )
                query = query.where(
                    _after(order, manifests.c.created_at, manifests.c.digest, last_time, last)
                )
            query = query.order_by(*_ordering(order, manifests.c.created_at, manifests.c.digest))
            if limit is not None:
                query = query.limit(limit)
            rows = (await conn.execute(query)).all()
            return await _manifest_details(conn, rows)

    async def manifest_detail(
        self, registry_id: int, repository: str, reference: str
    ) -> ManifestDetail | None:
        """One manifest, by digest or by a tag on it."""
        source, where = manifest_query(registry_id, repository, reference)
        query = select(*_MANIFEST_DETAIL).select_from(source).where(where)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
            found = await _manifest_details(conn, rows)
        return found[0] if found else None

    # -- the portal's summaries ---------------------------------------------------------

    async def registry_usage(self, registry_id: int) -> RegistryUsage:
        """How many repositories the registry has and the storage their blobs take."""
        in_registry = repositories.c.registry_id == registry_id
        linked = (
            select(repository_blobs.c.digest)
            .join(repositories, repositories.c.id == repository_blobs.c.repository_id)
            .where(in_registry)
            .distinct()
            .subquery()
        )
        query = select(
            select(func.count()).select_from(repositories).where(in_registry).scalar_subquery(),
            select(func.coalesce(func.sum(blobs.c.size), 0))
            .where(blobs.c.digest.in_(select(linked.c.digest)))
            .scalar_subquery(),
        )
        async with self._db.read() as conn:
            count, size = (await conn.execute(query)).one()
        return RegistryUsage(int(count), int(size))

    async def repository_summaries(
        self, registry_id: int, limit: int, last: str | None
    ) -> list[RepositorySummary]:
        """Repositories by name after `last`, with their counts and last update."""
        repo = repositories.c.id
        query = select(
            repositories.c.name,
            repositories.c.created_at,
            select(func.count()).where(tags.c.repository_id == repo).scalar_subquery(),
            select(func.count()).where(manifests.c.repository_id == repo).scalar_subquery(),
            select(func.max(manifests.c.created_at))
            .where(manifests.c.repository_id == repo)
            .scalar_subquery(),
            select(func.max(tags.c.updated_at))
            .where(tags.c.repository_id == repo)
            .scalar_subquery(),
        ).where(repositories.c.registry_id == registry_id)
        if last:
            query = query.where(repositories.c.name > last)
        query = query.order_by(repositories.c.name).limit(limit)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [
            RepositorySummary(
                name,
                int(tag_count),
                int(manifest_count),
                max(as_utc(t) for t in (created, *changes) if t is not None),
            )
            for name, created, tag_count, manifest_count, *changes in rows
        ]

    async def image_sizes(
        self, registry_id: int, repository: str, digests: Sequence[str]
    ) -> dict[str, int]:
        """Each manifest's bytes plus those of the blobs it references (as the ACR API's
        imageSize), by digest; digests not in the repository are left out."""
        if not digests:
            return {}
        query = (
            select(
                manifests.c.digest,
                manifests.c.size,
                select(func.coalesce(func.sum(blobs.c.size), 0))
                .select_from(
                    manifest_references.join(blobs, blobs.c.digest == manifest_references.c.digest)
                )
                .where(
                    manifest_references.c.manifest_id == manifests.c.id,
                    manifest_references.c.kind == "blob",
                )
                .scalar_subquery(),
            )
            .join(repositories, repositories.c.id == manifests.c.repository_id)
            .where(in_repository(registry_id, repository), manifests.c.digest.in_(set(digests)))
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return {digest: int(size) + int(blob_bytes) for digest, size, blob_bytes in rows}


# -- the ACR metadata API's records and helpers ------------------------------------------------

TimeOrder = Literal["timeasc", "timedesc"]
"""Listing by last-update time, oldest or newest first (the ACR API's orderby values)."""

LISTED_PAYLOAD_BYTES = 256 * 1024
"""Manifests up to this size come with their bytes in a listing (to read platforms from);
larger ones (rare: real manifests are a few KiB) without, so a page stays small in memory."""

_MANIFEST_DETAIL = (
    manifests.c.id,
    manifests.c.digest,
    manifests.c.media_type,
    case((manifests.c.size <= LISTED_PAYLOAD_BYTES, manifests.c.payload), else_=None).label(
        "payload"
    ),
    manifests.c.size,
    manifests.c.created_at,
)


@dataclass(frozen=True, slots=True)
class RepositoryStats:
    created_at: datetime
    updated_at: datetime
    """The latest of: the repository's creation, a manifest pushed, a tag moved."""
    manifest_count: int
    tag_count: int


@dataclass(frozen=True, slots=True)
class TagDetail:
    name: str
    digest: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ManifestDetail:
    digest: str
    media_type: str
    payload: bytes
    """The manifest itself; empty when over LISTED_PAYLOAD_BYTES."""
    size: int
    """The manifest's bytes plus those of the blobs it references (config and layers)."""
    created_at: datetime
    tags: tuple[str, ...]


def _ordering(
    order: TimeOrder | None, time: ColumnElement[datetime], key: ColumnElement[str]
) -> tuple[ColumnElement[Any], ...]:
    if order is None:
        return (key,)
    return (time.asc() if order == "timeasc" else time.desc(), key)


def _after(
    order: TimeOrder | None,
    time: ColumnElement[datetime],
    key: ColumnElement[str],
    last_time: ColumnElement[datetime],
    last: str,
) -> ColumnElement[bool]:
    """Rows after `last` in the listing's order. By time, a `last` that is gone matches
    nothing (its time is unknown): the listing ends rather than repeat itself."""
    if order is None:
        return key > last
    beyond = time > last_time if order == "timeasc" else time < last_time
    return beyond | ((time == last_time) & (key > last))


async def _manifest_details(
    conn: AsyncConnection, rows: Sequence[Row[*tuple[Any, ...]]]
) -> list[ManifestDetail]:
    """Add to manifest rows their tags and the size of the blobs they reference."""
    ids = [row.id for row in rows]
    if not ids:
        return []
    sizes: dict[int, int] = {
        manifest_id: int(total or 0)
        for manifest_id, total in await conn.execute(
            select(manifest_references.c.manifest_id, func.sum(blobs.c.size))
            .join(blobs, blobs.c.digest == manifest_references.c.digest)
            .where(manifest_references.c.manifest_id.in_(ids), manifest_references.c.kind == "blob")
            .group_by(manifest_references.c.manifest_id)
        )
    }
    names: dict[int, list[str]] = {}
    for manifest_id, name in await conn.execute(
        select(tags.c.manifest_id, tags.c.name)
        .where(tags.c.manifest_id.in_(ids))
        .order_by(tags.c.name)
    ):
        names.setdefault(manifest_id, []).append(name)
    return [
        ManifestDetail(
            row.digest,
            row.media_type,
            row.payload or b"",
            row.size + sizes.get(row.id, 0),
            as_utc(row.created_at),
            tuple(names.get(row.id, ())),
        )
        for row in rows
    ]


# -- the portal's summaries' records ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegistryUsage:
    repositories: int
    storage_bytes: int
    """The sizes of the distinct blobs the registry's repositories link, each counted once."""


@dataclass(frozen=True, slots=True)
class RepositorySummary:
    name: str
    tag_count: int
    manifest_count: int
    updated_at: datetime
    """The latest of: the repository's creation, a manifest pushed, a tag moved."""
