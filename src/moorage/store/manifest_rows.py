"""Writing a manifest inside the store's transaction: its row and references, its tag, and
the check that everything it references is in the repository."""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from moorage.domain.errors import InvalidManifest, ManifestReferenceUnknown
from moorage.domain.manifest import ParsedManifest
from moorage.store.schema import blobs, manifest_references, manifests, repository_blobs, tags
from moorage.store.types import utcnow


async def insert_manifest(
    conn: AsyncConnection, repo_id: int, digest: str, parsed: ParsedManifest, payload: bytes
) -> int:
    """Insert the manifest and what it references; its id."""
    manifest_id = int(
        (
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
    )
    references = {str(d.digest): "blob" for d in parsed.blobs} | {
        str(d.digest): "manifest" for d in parsed.children
    }
    if references:
        await conn.execute(
            insert(manifest_references),
            [{"manifest_id": manifest_id, "digest": d, "kind": k} for d, k in references.items()],
        )
    return manifest_id


async def set_tag(conn: AsyncConnection, repo_id: int, tag: str, manifest_id: int) -> None:
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


async def check_references(
    conn: AsyncConnection, repo_id: int, repository: str, parsed: ParsedManifest
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
