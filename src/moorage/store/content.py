"""Repositories, blob links, manifests and tags of a registry: what the /v2 API and uploads
read and write. The listings and summaries of the ACR metadata API and the portal are in
`moorage.store.listings`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    delete,
    false,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from moorage.domain.digest import is_digest
from moorage.domain.errors import BlobInUse, BlobNotFound
from moorage.domain.manifest import ParsedManifest
from moorage.store.cache import ReadCache
from moorage.store.database import Database
from moorage.store.manifest_rows import check_references, insert_manifest, set_tag
from moorage.store.schema import (
    blobs,
    manifest_references,
    manifests,
    repositories,
    repository_blobs,
    tags,
)
from moorage.store.sql import ensure_repository, insert_ignore, lock_repository, repository_id
from moorage.store.types import ManifestHead, Referrer, StoredManifest, utcnow


def in_repository(registry_id: int, repository: str) -> ColumnElement[bool]:
    """Condition on repositories joined in: the named repository of the registry."""
    return (repositories.c.registry_id == registry_id) & (repositories.c.name == repository)


def manifest_query(
    registry_id: int, repository: str, reference: str
) -> tuple[FromClause, ColumnElement[bool]]:
    """Where to find a manifest by digest or by a tag on it, and the condition that picks it."""
    if is_digest(reference):
        source = manifests.join(repositories, repositories.c.id == manifests.c.repository_id)
        match = manifests.c.digest == reference
    else:
        source = tags.join(manifests, manifests.c.id == tags.c.manifest_id).join(
            repositories, repositories.c.id == tags.c.repository_id
        )
        match = tags.c.name == reference
    return source, in_repository(registry_id, repository) & match


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
            .where(in_repository(registry_id, repository), repository_blobs.c.digest == digest)
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

    async def manifest(
        self, registry_id: int, repository: str, reference: str
    ) -> StoredManifest | None:
        key = (registry_id, repository)
        cached = self._manifests.get(key, reference)
        if cached is not None:
            return cached
        generation = self._manifests.generation(key)
        source, where = manifest_query(registry_id, repository, reference)
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
            await lock_repository(conn, repo_id)
            await check_references(conn, repo_id, repository, parsed)
            manifest_id = (
                await conn.execute(
                    select(manifests.c.id).where(
                        manifests.c.repository_id == repo_id, manifests.c.digest == digest
                    )
                )
            ).scalar()
            if manifest_id is None:
                manifest_id = await insert_manifest(conn, repo_id, digest, parsed, payload)
            if tag is not None:
                await set_tag(conn, repo_id, tag, manifest_id)

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
            .where(in_repository(registry_id, repository), manifests.c.subject == subject)
            .order_by(manifests.c.created_at, manifests.c.digest)
        )
        if artifact_type is not None:
            query = query.where(manifests.c.artifact_type == artifact_type)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [Referrer(*row) for row in rows]


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


@dataclass(frozen=True, slots=True)
class DeletedRepository:
    manifests: tuple[str, ...]
    tags: tuple[str, ...]
