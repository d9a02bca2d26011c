"""Registry records."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from moorage.domain.errors import RegistryExists, RegistryNotFound
from moorage.domain.registry import (
    DefaultAction,
    IPRule,
    NetworkRuleSet,
    PublicNetworkAccess,
    Registry,
    Sku,
    check_registry_name,
    login_server,
)
from moorage.store.database import Database
from moorage.store.schema import ip_rules, registries
from moorage.store.types import as_utc, utcnow


class RegistryStore:
    def __init__(self, db: Database, *, login_server_suffix: str, location: str) -> None:
        self._db = db
        self.suffix = login_server_suffix
        self.location = location

    async def create(self, name: str, sku: Sku = Sku.PREMIUM) -> Registry:
        check_registry_name(name)
        try:
            async with self._db.write() as conn:
                await conn.execute(
                    insert(registries).values(
                        name=name,
                        name_key=name.lower(),
                        login_server=login_server(name, self.suffix),
                        location=self.location,
                        sku=sku.value,
                        public_network_access=PublicNetworkAccess.ENABLED.value,
                        default_action=DefaultAction.ALLOW.value,
                        tags={},
                        created_at=utcnow(),
                    )
                )
        except IntegrityError:
            raise RegistryExists(f"a registry named {name!r} already exists", name=name) from None
        return await self.get(name)

    async def ensure(self, name: str, sku: Sku = Sku.PREMIUM) -> Registry:
        try:
            return await self.get(name)
        except RegistryNotFound:
            try:
                return await self.create(name, sku)
            except RegistryExists:
                return await self.get(name)

    async def get(self, name: str) -> Registry:
        found = await self._select(registries.c.name_key == name.lower())
        if not found:
            raise RegistryNotFound(f"registry {name!r} not found", name=name)
        return found[0]

    async def all(self) -> list[Registry]:
        return await self._select(None)

    async def _select(self, where: Any) -> list[Registry]:
        query = select(registries).order_by(registries.c.name_key)
        if where is not None:
            query = query.where(where)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
            if not rows:
                return []
            rule_rows = (
                await conn.execute(
                    select(ip_rules.c.registry_id, ip_rules.c.value, ip_rules.c.action)
                    .where(ip_rules.c.registry_id.in_([r["id"] for r in rows]))
                    .order_by(ip_rules.c.id)
                )
            ).all()
        rules: dict[int, list[IPRule]] = {}
        for registry_id, value, action in rule_rows:
            rules.setdefault(registry_id, []).append(IPRule(value, action))
        return [
            Registry(
                id=r["id"],
                name=r["name"],
                login_server=r["login_server"],
                location=r["location"],
                sku=Sku(r["sku"]),
                public_network_access=PublicNetworkAccess(r["public_network_access"]),
                network_rule_set=NetworkRuleSet(
                    DefaultAction(r["default_action"]), tuple(rules.get(r["id"], ()))
                ),
                created_at=as_utc(r["created_at"]),
                tags=dict(r["tags"] or {}),
            )
            for r in rows
        ]
