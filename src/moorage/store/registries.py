"""Registry records: their settings, network rule set and place in a resource group."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from moorage.domain.errors import (
    IPRuleNotFound,
    PreconditionFailed,
    RegistryExists,
    RegistryNotFound,
)
from moorage.domain.registry import (
    DefaultAction,
    PublicNetworkAccess,
    Registry,
    RegistryChanges,
    Sku,
    check_anonymous_pull,
    check_network_settings,
    check_registry_name,
    login_server,
)
from moorage.store.database import Database
from moorage.store.registry_records import live_rule_count, load_registries, new_etag
from moorage.store.schema import (
    ip_rules,
    registries,
)
from moorage.store.types import utcnow

AlsoWrite = Callable[[AsyncConnection, int], Awaitable[object]]
"""More to write in a registry's transaction, given the connection and the registry's id."""


def _check_etag(if_match: str | None, etag: str, name: str) -> None:
    if not _matches(if_match, etag):
        raise PreconditionFailed(
            f"The registry '{name}' has changed (etag \"{etag}\", If-Match {if_match}); "
            "read it again and retry.",
            etag=etag,
        )


def _matches(if_match: str | None, etag: str) -> bool:
    if if_match is None:
        return True
    wanted = {tag.strip().removeprefix("W/").strip('"') for tag in if_match.split(",")}
    return "*" in wanted or etag in wanted


class RegistryStore:
    def __init__(
        self, db: Database, *, login_server_suffix: str, location: str, max_ip_rules: int = 100
    ) -> None:
        self._db = db
        self.suffix = login_server_suffix
        self.location = location
        self.max_ip_rules = max_ip_rules

    async def create(
        self,
        name: str,
        sku: Sku = Sku.PREMIUM,
        *,
        resource_group_id: int | None = None,
        location: str | None = None,
        changes: RegistryChanges | None = None,
        also: AlsoWrite | None = None,
    ) -> Registry:
        """`also` runs in the same transaction, after the registry is written (for what other
        stores keep of it): if it raises, nothing is written."""
        check_registry_name(name)
        try:
            async with self._db.write() as conn:
                registry_id = (
                    await conn.execute(
                        insert(registries)
                        .values(
                            name=name,
                            name_key=name.lower(),
                            login_server=login_server(name, self.suffix),
                            location=location or self.location,
                            sku=sku.value,
                            public_network_access=PublicNetworkAccess.ENABLED.value,
                            default_action=DefaultAction.ALLOW.value,
                            tags={},
                            created_at=utcnow(),
                            resource_group_id=resource_group_id,
                            etag=new_etag(),
                        )
                        .returning(registries.c.id)
                    )
                ).scalar_one()
                if changes is not None:
                    await self._check(conn, registry_id, name, changes)
                    await self._apply(conn, registry_id, changes)
                if also is not None:
                    await also(conn, registry_id)
        except IntegrityError:
            raise RegistryExists(
                f"The registry name '{name}' is already in use.", name=name
            ) from None
        return await self.get(name)

    async def ensure(self, name: str, sku: Sku = Sku.PREMIUM) -> Registry:
        try:
            return await self.get(name)
        except RegistryNotFound:
            try:
                return await self.create(name, sku)
            except RegistryExists:
                return await self.get(name)

    async def update(
        self,
        name: str,
        changes: RegistryChanges,
        *,
        if_match: str | None = None,
        also: AlsoWrite | None = None,
    ) -> Registry:
        """Apply changes in one transaction; a stale If-Match changes nothing. `also` runs in
        the same transaction (see create)."""
        async with self._db.write() as conn:
            row = await self._locked_row(conn, name)
            _check_etag(if_match, row.etag, name)
            await self._check(conn, row.id, name, changes)
            await self._apply(conn, row.id, changes)
            if also is not None:
                await also(conn, row.id)
        return await self.get(name)

    async def _check(
        self, conn: AsyncConnection, registry_id: int, name: str, changes: RegistryChanges
    ) -> None:
        """The registry as it would be after the change must be allowed (SKU, rule limit)."""
        row = (
            await conn.execute(
                select(
                    registries.c.sku,
                    registries.c.public_network_access,
                    registries.c.default_action,
                    registries.c.anonymous_pull_enabled,
                ).where(registries.c.id == registry_id)
            )
        ).one()
        if changes.ip_rules is not None:
            rule_count = len({r.value for r in changes.ip_rules})
        else:
            rule_count = await live_rule_count(conn, registry_id)
        check_network_settings(
            name,
            changes.sku or Sku(row.sku),
            changes.public_network_access or PublicNetworkAccess(row.public_network_access),
            changes.default_action or DefaultAction(row.default_action),
            rule_count,
            max_rules=self.max_ip_rules,
            changing_sku=changes.sku is not None and changes.sku.value != row.sku,
        )
        check_anonymous_pull(
            name,
            changes.sku or Sku(row.sku),
            row.anonymous_pull_enabled
            if changes.anonymous_pull_enabled is None
            else changes.anonymous_pull_enabled,
            changing_sku=changes.sku is not None and changes.sku.value != row.sku,
        )

    async def add_ip_rule(
        self, name: str, value: str, *, expires_at: datetime | None = None
    ) -> Registry:
        """Add one rule (or change its expiry) in one transaction; the others stay as they are."""
        async with self._db.write() as conn:
            row = await self._locked_row(conn, name)
            now = utcnow()
            await conn.execute(
                delete(ip_rules).where(
                    ip_rules.c.registry_id == row.id, ip_rules.c.expires_at <= now
                )
            )
            changed = await conn.execute(
                update(ip_rules)
                .where(ip_rules.c.registry_id == row.id, ip_rules.c.value == value)
                .values(expires_at=expires_at)
            )
            if changed.rowcount == 0:
                check_network_settings(
                    row.name,
                    Sku(row.sku),
                    PublicNetworkAccess(row.public_network_access),
                    DefaultAction(row.default_action),
                    await live_rule_count(conn, row.id) + 1,
                    max_rules=self.max_ip_rules,
                )
                await conn.execute(
                    insert(ip_rules).values(
                        registry_id=row.id,
                        value=value,
                        action="Allow",
                        created_at=now,
                        expires_at=expires_at,
                    )
                )
            await conn.execute(
                update(registries)
                .where(registries.c.id == row.id)
                .values(etag=new_etag(), updated_at=now)
            )
        return await self.get(name)

    async def remove_ip_rule(self, name: str, value: str) -> Registry:
        async with self._db.write() as conn:
            row = await self._locked_row(conn, name)
            removed = await conn.execute(
                delete(ip_rules).where(ip_rules.c.registry_id == row.id, ip_rules.c.value == value)
            )
            if removed.rowcount == 0:
                raise IPRuleNotFound(
                    f"registry '{row.name}' has no IP rule {value!r}; see: moorage acr "
                    f"network-rule list --name {row.name}",
                    value=value,
                )
            await conn.execute(
                update(registries)
                .where(registries.c.id == row.id)
                .values(etag=new_etag(), updated_at=utcnow())
            )
        return await self.get(name)

    async def _row(self, conn: AsyncConnection, name: str) -> Any:
        """The registry's row (id, name, etag and network settings), locked until the write
        transaction ends: on PostgreSQL concurrent changes to one registry queue here, so the
        If-Match check and the rule limit see what the previous change wrote (SQLite's single
        writer already queues them; FOR UPDATE renders as nothing there)."""
        return (
            await conn.execute(
                select(
                    registries.c.id,
                    registries.c.name,
                    registries.c.etag,
                    registries.c.sku,
                    registries.c.public_network_access,
                    registries.c.default_action,
                )
                .where(registries.c.name_key == name.lower())
                .with_for_update()
            )
        ).first()

    async def _locked_row(self, conn: AsyncConnection, name: str) -> Any:
        row = await self._row(conn, name)
        if row is None:
            raise RegistryNotFound(f"The registry '{name}' could not be found.", name=name)
        return row

    async def _apply(
        self, conn: AsyncConnection, registry_id: int, changes: RegistryChanges
    ) -> None:
        values: dict[str, Any] = {"etag": new_etag(), "updated_at": utcnow()}
        simple = {
            "location": changes.location,
            "tags": changes.tags,
            "sku": changes.sku.value if changes.sku else None,
            "admin_user_enabled": changes.admin_user_enabled,
            "anonymous_pull_enabled": changes.anonymous_pull_enabled,
            "data_endpoint_enabled": changes.data_endpoint_enabled,
            "zone_redundancy": changes.zone_redundancy,
            "network_rule_bypass_options": changes.network_rule_bypass_options,
            "public_network_access": (
                changes.public_network_access.value if changes.public_network_access else None
            ),
            "default_action": changes.default_action.value if changes.default_action else None,
        }
        values.update({k: v for k, v in simple.items() if v is not None})
        await conn.execute(update(registries).where(registries.c.id == registry_id).values(values))
        if changes.ip_rules is not None:
            await conn.execute(delete(ip_rules).where(ip_rules.c.registry_id == registry_id))
            if changes.ip_rules:
                now = utcnow()
                await conn.execute(
                    insert(ip_rules),
                    [
                        {
                            "registry_id": registry_id,
                            "value": r.value,
                            "action": r.action,
                            "created_at": now,
                            "expires_at": r.expires_at,
                        }
                        for r in changes.ip_rules
                    ],
                )

    async def delete(self, name: str, *, if_match: str | None = None) -> bool:
        async with self._db.write() as conn:
            row = await self._row(conn, name)
            if row is None:
                return False
            _check_etag(if_match, row.etag, name)
            await conn.execute(delete(registries).where(registries.c.id == row.id))
            return True

    async def etag(self, name: str) -> str | None:
        """The registry's current etag: a cheap way to know whether a cached record is stale."""
        async with self._db.read() as conn:
            found: str | None = (
                await conn.execute(
                    select(registries.c.etag).where(registries.c.name_key == name.lower())
                )
            ).scalar()
        return found

    async def get(self, name: str) -> Registry:
        found = await self._select(registries.c.name_key == name.lower())
        if not found:
            raise RegistryNotFound(f"The registry '{name}' could not be found.", name=name)
        return found[0]

    async def find(self, name: str) -> Registry | None:
        found = await self._select(registries.c.name_key == name.lower())
        return found[0] if found else None

    async def all(self) -> list[Registry]:
        return await self._select(None)

    async def in_group(self, resource_group_id: int) -> list[Registry]:
        return await self._select(registries.c.resource_group_id == resource_group_id)

    async def _select(self, where: ColumnElement[bool] | None) -> list[Registry]:
        async with self._db.read() as conn:
            return await load_registries(conn, where)
