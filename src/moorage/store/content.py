"""Repositories, blob links, manifests and tags of a registry."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    case,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from moorage.domain.digest import is_digest
from moorage.domain.errors import BlobInUse, BlobNotFound, InvalidManifest, ManifestReferenceUnknown
from moorage.domain.manifest import ParsedManifest
from moorage.store.cache import ReadCache
from moorage.store.database import Database
from moorage.store.schema import (
    blobs,
    manifest_references,
    manifests,
    repositories,
    repository_blobs,
    tags,
)
from moorage.store.sql import ensure_repository, insert_ignore, repository_id
from moorage.store.types import ManifestHead, Referrer, StoredManifest, as_utc, utcnow


def _in_repository(registry_id: int, repository: str) -> ColumnElement[bool]:
    """Condition on repositories joined in: the named repository of the registry."""
    return (repositories.c.registry_id == registry_id) & (repositories.c.name == repository)


class ContentStore:
    def __init__(self, db: Database, *, cache_seconds: float = 1.0) -> None:
        self._db = db
        # Hot reads: manifests by reference, blob sizes by digest. Writes below invalidate.
        self._manifests: ReadCache[StoredManifest] = ReadCache(ttl=cache_seconds)
        self._blob_sizes: ReadCache[int] = ReadCache(ttl=cache_seconds)

    @asynccontextmanager
    async def _write(self, registry_id: int, repository: str) -> AsyncIterator[AsyncConnection]:
        """A write transaction that may change what the repository shows: drops its cache."""
        try:
            async with self._db.write() as conn:
                yield conn
        finally:
            self._manifests.invalidate((registry_id, repository))
            self._blob_sizes.invalidate((registry_id, repository))

    # -- blobs ---------------------------------------------------------------------------

    async def blob_size(self, registry_id: int, repository: str, digest: str) -> int | None:
        """Size of a blob linked into the repository, or None when it is not there."""
        key = (registry_id, repository)
        cached = self._blob_sizes.get(key, digest)
        if cached is not None:
            return cached
        generation = self._blob_sizes.generation(key)
        query = (
            select(blobs.c.size)
            .select_from(
                repository_blobs.join(blobs, blobs.c.digest == repository_blobs.c.digest).join(
                    repositories, repositories.c.id == repository_blobs.c.repository_id
                )
            )
            .where(_in_repository(registry_id, repository), repository_blobs.c.digest == digest)
        )
        async with self._db.read() as conn:
            size: int | None = (await conn.execute(query)).scalar()
        if size is not None:
            self._blob_sizes.put(key, digest, size, generation)
        return size

    async def link_blob(self, registry_id: int, repository: str, digest: str, size: int) -> None:
        """Record a verified blob and make it visible in the repository."""
        async with self._db.write() as conn:
            now = utcnow()
            await insert_ignore(conn, blobs, digest=digest, size=size, created_at=now)
            repo_id = await ensure_repository(conn, registry_id, repository)
            await insert_ignore(
                conn, repository_blobs, repository_id=repo_id, digest=digest, created_at=now
            )

    async def mount_blob(
        self, registry_id: int, repository: str, digest: str, source: str | None
    ) -> int | None:
        """Link a blob another repository of the registry holds; None when none holds it.

        Without a source repository any repository of the registry may provide it.
        """
        query = (
            select(blobs.c.size)
            .select_from(
                repository_blobs.join(blobs, blobs.c.digest == repository_blobs.c.digest).join(
                    repositories, repositories.c.id == repository_blobs.c.repository_id
                )
            )
            .where(repositories.c.registry_id == registry_id, repository_blobs.c.digest == digest)
            .limit(1)
        )
        if source is not None:
            query = query.where(repositories.c.name == source)
        async with self._db.write() as conn:
            size: int | None = (await conn.execute(query)).scalar()
            if size is None:
                return None
            repo_id = await ensure_repository(conn, registry_id, repository)
            await insert_ignore(
                conn, repository_blobs, repository_id=repo_id, digest=digest, created_at=utcnow()
            )
        return size

    async def unlink_blob(self, registry_id: int, repository: str, digest: str) -> None:
        async with self._write(registry_id, repository) as conn:
            repo_id = await repository_id(conn, registry_id, repository)
            if repo_id is None:
                raise BlobNotFound(f"blob {digest} is not in repository {repository}")
            user = (
                await conn.execute(
                    select(manifests.c.digest)
                    .join(manifest_references, manifest_references.c.manifest_id == manifests.c.id)
                    .where(
                        manifests.c.repository_id == repo_id,
                        manifest_references.c.digest == digest,
                        manifest_references.c.kind == "blob",
                    )
                    .limit(1)
                )
            ).scalar()
            if user is not None:
                raise BlobInUse(
                    f"blob {digest} is used by manifest {user} in repository {repository}; "
                    "delete that manifest first",
                    digest=digest,
                    manifest=user,
                )
            deleted = await conn.execute(
                delete(repository_blobs).where(
                    repository_blobs.c.repository_id == repo_id,
                    repository_blobs.c.digest == digest,
                )
            )
            if deleted.rowcount == 0:
                raise BlobNotFound(f"blob {digest} is not in repository {repository}")

    # -- manifests -----------------------------------------------------------------------

    def _manifest_query(
        self, registry_id: int, repository: str, reference: str
    ) -> tuple[FromClause, ColumnElement[bool]]:
        if is_digest(reference):
            source = manifests.join(repositories, repositories.c.id == manifests.c.repository_id)
            match = manifests.c.digest == reference
        else:
            source = tags.join(manifests, manifests.c.id == tags.c.manifest_id).join(
                repositories, repositories.c.id == tags.c.repository_id
            )
            match = tags.c.name == reference
        return source, _in_repository(registry_id, repository) & match

    async def manifest(
        self, registry_id: int, repository: str, reference: str
    ) -> StoredManifest | None:
        key = (registry_id, repository)
        cached = self._manifests.get(key, reference)
        if cached is not None:
            return cached
        generation = self._manifests.generation(key)
        source, where = self._manifest_query(registry_id, repository, reference)
        query = (
            select(manifests.c.id, manifests.c.digest, manifests.c.media_type, manifests.c.payload)
            .select_from(source)
            .where(where)
        )
        async with self._db.read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        found = StoredManifest(row[0], row[1], row[2], row[3])
        self._manifests.put(key, reference, found, generation, size=len(found.payload))
        return found

    async def manifest_head(
        self, registry_id: int, repository: str, reference: str
    ) -> ManifestHead | None:
        found = await self.manifest(registry_id, repository, reference)
        if found is None:
            return None
        return ManifestHead(found.digest, found.media_type, len(found.payload))

    async def put_manifest(
        self,
        registry_id: int,
        repository: str,
        digest: str,
        parsed: ParsedManifest,
        payload: bytes,
        tag: str | None,
    ) -> None:
        """Store a manifest (and move a tag to it) once everything it references is there."""
        async with self._write(registry_id, repository) as conn:
            repo_id = await ensure_repository(conn, registry_id, repository)
            await self._check_references(conn, repo_id, repository, parsed)
            manifest_id = (
                await conn.execute(
                    select(manifests.c.id).where(
                        manifests.c.repository_id == repo_id, manifests.c.digest == digest
                    )
                )
            ).scalar()
            if manifest_id is None:
                manifest_id = (
                    await conn.execute(
                        insert(manifests)
                        .values(
                            repository_id=repo_id,
                            digest=digest,
                            media_type=parsed.media_type,
                            artifact_type=parsed.artifact_type,
                            size=len(payload),
                            payload=payload,
                            subject=str(parsed.subject.digest) if parsed.subject else None,
                            annotations=parsed.annotations or None,
                            created_at=utcnow(),
                        )
                        .returning(manifests.c.id)
                    )
                ).scalar_one()
                references = {str(d.digest): "blob" for d in parsed.blobs} | {
                    str(d.digest): "manifest" for d in parsed.children
                }
                if references:
                    await conn.execute(
                        insert(manifest_references),
                        [
                            {"manifest_id": manifest_id, "digest": d, "kind": k}
                            for d, k in references.items()
                        ],
                    )
            if tag is not None:
                await self._set_tag(conn, repo_id, tag, manifest_id)

    async def _set_tag(
        self, conn: AsyncConnection, repo_id: int, tag: str, manifest_id: int
    ) -> None:
        moved = await conn.execute(
            update(tags)
            .where(tags.c.repository_id == repo_id, tags.c.name == tag)
            .values(manifest_id=manifest_id, updated_at=utcnow())
        )
        if moved.rowcount == 0:
            await conn.execute(
                insert(tags).values(
                    repository_id=repo_id, name=tag, manifest_id=manifest_id, updated_at=utcnow()
                )
            )

    async def _check_references(
        self, conn: AsyncConnection, repo_id: int, repository: str, parsed: ParsedManifest
    ) -> None:
        missing: list[str] = []
        required = parsed.required_blobs
        if required:
            wanted = {str(d.digest) for d in required}
            found = dict(
                (
                    await conn.execute(
                        select(repository_blobs.c.digest, blobs.c.size)
                        .join(blobs, blobs.c.digest == repository_blobs.c.digest)
                        .where(
                            repository_blobs.c.repository_id == repo_id,
                            repository_blobs.c.digest.in_(wanted),
                        )
                    )
                ).all()
            )
            for d in required:
                size = found.get(str(d.digest))
                if size is None:
                    missing.append(str(d.digest))
                elif size != d.size:
                    raise InvalidManifest(
                        f"descriptor of {d.digest} says size {d.size}; the blob has {size} bytes",
                        digest=str(d.digest),
                    )
        if parsed.children:
            wanted = {str(d.digest) for d in parsed.children}
            present = set(
                (
                    await conn.execute(
                        select(manifests.c.digest).where(
                            manifests.c.repository_id == repo_id, manifests.c.digest.in_(wanted)
                        )
                    )
                ).scalars()
            )
            missing.extend(str(d.digest) for d in parsed.children if str(d.digest) not in present)
        if missing:
            raise ManifestReferenceUnknown(
                f"manifest references {len(missing)} blob(s) or manifest(s) not in repository "
                f"{repository}: {', '.join(sorted(set(missing)))}",
                digests=sorted(set(missing)),
            )

    async def delete_manifest(self, registry_id: int, repository: str, digest: str) -> bool:
        """Delete a manifest and every tag on it. Blobs stay: other manifests may use them."""
        async with self._write(registry_id, repository) as conn:
            repo_id = await repository_id(conn, registry_id, repository)
            if repo_id is None:
                return False
            result = await conn.execute(
                delete(manifests).where(
                    manifests.c.repository_id == repo_id, manifests.c.digest == digest
                )
            )
            return bool(result.rowcount)

    async def delete_tag(self, registry_id: int, repository: str, tag: str) -> bool:
        async with self._write(registry_id, repository) as conn:
            repo_id = await repository_id(conn, registry_id, repository)
            if repo_id is None:
                return False
            result = await conn.execute(
                delete(tags).where(tags.c.repository_id == repo_id, tags.c.name == tag)
            )
            return bool(result.rowcount)

    # -- listings ------------------------------------------------------------------------

    async def tags(
        self, registry_id: int, repository: str, limit: int | None, last: str | None
    ) -> list[str] | None:
        """Tags in lexical order after `last`; None when the repository does not exist."""
        async with self._db.read() as conn:
            repo_id = await repository_id(conn, registry_id, repository)
            if repo_id is None:
                return None
            query = select(tags.c.name).where(tags.c.repository_id == repo_id)
            return await _page(conn, query, tags.c.name, limit, last)

    async def catalog(
        self,
        registry_id: int,
        limit: int | None,
        last: str | None,
        patterns: Sequence[str] = ("*",),
    ) -> list[str]:
        """Repository names in order; `patterns` ("*", "prefix/*" or names) limit which."""
        query = select(repositories.c.name).where(repositories.c.registry_id == registry_id)
        if "*" not in patterns:
            query = query.where(
                or_(
                    false(),
                    *(
                        repositories.c.name.startswith(p[:-1], autoescape=True)
                        if p.endswith("/*")
                        else repositories.c.name == p
                        for p in patterns
                    ),
                )
            )
        async with self._db.read() as conn:
            return await _page(conn, query, repositories.c.name, limit, last)

    async def referrers(
        self, registry_id: int, repository: str, subject: str, artifact_type: str | None
    ) -> list[Referrer]:
        query = (
            select(
                manifests.c.digest,
                manifests.c.media_type,
                manifests.c.size,
                manifests.c.artifact_type,
                manifests.c.annotations,
            )
            .join(repositories, repositories.c.id == manifests.c.repository_id)
            .where(_in_repository(registry_id, repository), manifests.c.subject == subject)
            .order_by(manifests.c.created_at, manifests.c.digest)
        )
        if artifact_type is not None:
            query = query.where(manifests.c.artifact_type == artifact_type)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [Referrer(*row) for row in rows]

    async def count_manifests(self, registry_id: int) -> int:
        query = (
            select(func.count())
            .select_from(manifests.join(repositories))
            .where(repositories.c.registry_id == registry_id)
        )
        async with self._db.read() as conn:
            return int((await conn.execute(query)).scalar_one())

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
        ).where(_in_repository(registry_id, repository))
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
            .where(_in_repository(registry_id, repository), tags.c.name == tag)
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
        source, where = self._manifest_query(registry_id, repository, reference)
        query = select(*_MANIFEST_DETAIL).select_from(source).where(where)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
            found = await _manifest_details(conn, rows)
        return found[0] if found else None

    async def delete_repository(
        self, registry_id: int, repository: str
    ) -> DeletedRepository | None:
        """Delete a repository with its manifests, tags and blob links (blob files stay:
        other repositories may link them); None when it does not exist."""
        async with self._write(registry_id, repository) as conn:
            repo_id = await repository_id(conn, registry_id, repository)
            if repo_id is None:
                return None
            digests = (
                await conn.execute(
                    select(manifests.c.digest)
                    .where(manifests.c.repository_id == repo_id)
                    .order_by(manifests.c.digest)
                )
            ).scalars()
            found = tuple(str(d) for d in digests)
            names = (
                await conn.execute(
                    select(tags.c.name).where(tags.c.repository_id == repo_id).order_by(tags.c.name)
                )
            ).scalars()
            deleted = DeletedRepository(found, tuple(str(n) for n in names))
            await conn.execute(delete(repositories).where(repositories.c.id == repo_id))
        return deleted

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
            .where(_in_repository(registry_id, repository), manifests.c.digest.in_(set(digests)))
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return {digest: int(size) + int(blob_bytes) for digest, size, blob_bytes in rows}


async def _page(
    conn: AsyncConnection,
    query: Select[tuple[str]],
    column: ColumnElement[str],
    limit: int | None,
    last: str | None,
) -> list[str]:
    if last:
        query = query.where(column > last)
    query = query.order_by(column)
    if limit is not None:
        query = query.limit(limit)
    return [str(name) for name in (await conn.execute(query)).scalars()]


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


@dataclass(frozen=True, slots=True)
class DeletedRepository:
    manifests: tuple[str, ...]
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
