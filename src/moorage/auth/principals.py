"""Service principals (client id + secret) of the management plane, and their role assignments.

Secrets are stored as argon2id hashes. Hashing is CPU- and memory-heavy (64 MiB each), so it
runs in worker threads, a few at a time: a burst of token requests queues instead of eating
the machine's memory.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete, func, insert, select, update

from moorage.auth.roles import RoleAssignment, check_role
from moorage.auth.secrets import hash_secret, new_secret, verify_secret, verify_unknown
from moorage.domain.errors import PrincipalNotFound
from moorage.store.changes import CredentialsChanged
from moorage.store.database import Database
from moorage.store.schema import role_assignments, service_principals, tenants
from moorage.store.types import as_utc, utcnow

T = TypeVar("T")
MAX_DISPLAY_NAME = 128
# A principal, its secret or its roles prove it on every registry.
EVERY_REGISTRY = CredentialsChanged(None)


@dataclass(frozen=True, slots=True)
class ServicePrincipal:
    app_id: str
    display_name: str
    trusted: bool
    created_at: datetime


def _principal(row: Any) -> ServicePrincipal:
    return ServicePrincipal(
        app_id=row.app_id,
        display_name=row.display_name,
        trusted=bool(row.trusted),
        created_at=as_utc(row.created_at),
    )


def _key(app_id: str) -> str:
    """Client ids are GUIDs, matched regardless of case as Entra does."""
    return app_id.strip().lower()


def _check_scope(scope: str) -> str:
    if not scope.startswith("/"):
        raise ValueError(
            f"scope {scope!r} is not a resource id; expected e.g. '/subscriptions/<id>'"
        )
    return scope.rstrip("/") or "/"


def _not_found(app_id: str) -> PrincipalNotFound:
    return PrincipalNotFound(f"service principal {app_id!r} not found", app_id=app_id)


_COLUMNS = (
    service_principals.c.app_id,
    service_principals.c.display_name,
    service_principals.c.trusted,
    service_principals.c.created_at,
)


class PrincipalStore:
    def __init__(self, db: Database, *, hashing_concurrency: int | None = None) -> None:
        self._db = db
        self._hashing = asyncio.Semaphore(hashing_concurrency or min(4, os.cpu_count() or 1))

    async def _argon2(self, work: Callable[..., T], *args: str) -> T:
        async with self._hashing:
            return await asyncio.to_thread(work, *args)

    async def ensure_tenant(self) -> str:
        """The service's one tenant id, made on first use."""
        async with self._db.read() as conn:
            found = await conn.scalar(select(tenants.c.id).order_by(tenants.c.created_at).limit(1))
        if found is not None:
            return str(found)
        async with self._db.write() as conn:  # BEGIN IMMEDIATE: one creator wins
            found = await conn.scalar(select(tenants.c.id).order_by(tenants.c.created_at).limit(1))
            if found is not None:
                return str(found)
            tenant_id = str(uuid.uuid4())
            await conn.execute(insert(tenants).values(id=tenant_id, created_at=utcnow()))
        return tenant_id

    async def create(
        self, display_name: str, *, trusted: bool = False
    ) -> tuple[ServicePrincipal, str]:
        """A new principal and its secret, which is shown this once and never stored."""
        if not display_name.strip() or len(display_name) > MAX_DISPLAY_NAME:
            raise ValueError(
                f"display name {display_name!r} must have 1 to {MAX_DISPLAY_NAME} characters"
            )
        secret = new_secret()
        hashed = await self._argon2(hash_secret, secret)
        principal = ServicePrincipal(
            app_id=str(uuid.uuid4()),
            display_name=display_name,
            trusted=trusted,
            created_at=utcnow(),
        )
        async with self._db.write() as conn:
            await conn.execute(
                insert(service_principals).values(
                    app_id=principal.app_id,
                    display_name=principal.display_name,
                    secret_hash=hashed,
                    trusted=principal.trusted,
                    created_at=principal.created_at,
                )
            )
        return principal, secret

    async def authenticate(self, app_id: str, secret: str) -> ServicePrincipal | None:
        """The principal when `secret` is its secret; None otherwise. An unknown client id
        costs as much as a wrong secret."""
        found = await self.login(app_id)
        if not await self.verify(found[1] if found else None, secret):
            return None
        return found[0] if found else None

    async def login(self, app_id: str) -> tuple[ServicePrincipal, str] | None:
        """The principal and its secret's hash, for a caller that verifies it alongside other
        candidates (the registries' logins); None for an unknown or malformed id."""
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    select(*_COLUMNS, service_principals.c.secret_hash).where(
                        service_principals.c.app_id == _key(app_id)
                    )
                )
            ).first()
        return None if row is None else (_principal(row), row.secret_hash)

    async def verify(self, hashed: str | None, secret: str) -> bool:
        """One argon2 verification in a worker thread; None (no such identity) costs the same
        as a wrong secret and is False."""
        if hashed is None:
            return await self._argon2(verify_unknown, secret)
        return await self._argon2(verify_secret, hashed, secret)

    async def hash(self, secret: str) -> str:
        return await self._argon2(hash_secret, secret)

    async def reset_secret(self, app_id: str) -> str:
        secret = new_secret()
        hashed = await self._argon2(hash_secret, secret)
        async with self._db.write(EVERY_REGISTRY) as conn:
            result = await conn.execute(
                update(service_principals)
                .where(service_principals.c.app_id == _key(app_id))
                .values(secret_hash=hashed)
            )
        if result.rowcount == 0:
            raise _not_found(app_id)
        return secret

    async def get(self, app_id: str) -> ServicePrincipal | None:
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    select(*_COLUMNS).where(service_principals.c.app_id == _key(app_id))
                )
            ).first()
        return None if row is None else _principal(row)

    async def all(self) -> list[ServicePrincipal]:
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(*_COLUMNS).order_by(
                    service_principals.c.created_at, service_principals.c.app_id
                )
            )
            return [_principal(row) for row in rows]

    async def delete(self, app_id: str) -> bool:
        async with self._db.write(EVERY_REGISTRY) as conn:
            await conn.execute(
                delete(role_assignments).where(role_assignments.c.principal_id == _key(app_id))
            )
            result = await conn.execute(
                delete(service_principals).where(service_principals.c.app_id == _key(app_id))
            )
        return bool(result.rowcount)

    async def set_trusted(self, app_id: str, trusted: bool) -> ServicePrincipal:
        async with self._db.write(EVERY_REGISTRY) as conn:
            result = await conn.execute(
                update(service_principals)
                .where(service_principals.c.app_id == _key(app_id))
                .values(trusted=trusted)
            )
        if result.rowcount == 0:
            raise _not_found(app_id)
        principal = await self.get(app_id)
        if principal is None:  # deleted in between
            raise _not_found(app_id)
        return principal

    async def assign(self, app_id: str, role: str, scope: str) -> RoleAssignment:
        """Give `role` on `scope`; assigning what is already held (scope in any case) returns
        the existing assignment."""
        role = check_role(role)
        scope = _check_scope(scope)
        async with self._db.write(EVERY_REGISTRY) as conn:
            exists = await conn.scalar(
                select(service_principals.c.app_id).where(
                    service_principals.c.app_id == _key(app_id)
                )
            )
            if exists is None:
                raise _not_found(app_id)
            held = await conn.scalar(
                select(role_assignments.c.scope).where(
                    role_assignments.c.principal_id == _key(app_id),
                    role_assignments.c.role == role,
                    func.lower(role_assignments.c.scope) == scope.lower(),
                )
            )
            if held is not None:
                return RoleAssignment(role, held)
            await conn.execute(
                insert(role_assignments).values(
                    id=str(uuid.uuid4()),
                    principal_id=_key(app_id),
                    role=role,
                    scope=scope,
                    created_at=utcnow(),
                )
            )
        return RoleAssignment(role, scope)

    async def assignments(self, app_id: str) -> list[RoleAssignment]:
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(role_assignments.c.role, role_assignments.c.scope)
                .where(role_assignments.c.principal_id == _key(app_id))
                .order_by(role_assignments.c.created_at, role_assignments.c.id)
            )
            return [RoleAssignment(role, scope) for role, scope in rows]

    async def unassign(self, app_id: str, role: str, scope: str) -> bool:
        role = check_role(role)
        scope = _check_scope(scope)
        async with self._db.write(EVERY_REGISTRY) as conn:
            result = await conn.execute(
                delete(role_assignments).where(
                    role_assignments.c.principal_id == _key(app_id),
                    role_assignments.c.role == role,
                    func.lower(role_assignments.c.scope) == scope.lower(),
                )
            )
        return bool(result.rowcount)
