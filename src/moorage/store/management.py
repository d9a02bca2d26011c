"""Subscriptions and resource groups: the containers a registry resource lives in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, select, update

from moorage.domain.errors import ResourceGroupNotFound, SubscriptionNotFound
from moorage.store.database import Database
from moorage.store.schema import registries, resource_groups, subscriptions, tenants
from moorage.store.types import as_utc, utcnow

DEFAULT_RESOURCE_GROUP = "moorage"


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    tenant_id: str
    display_name: str


@dataclass(frozen=True, slots=True)
class ResourceGroup:
    id: int
    subscription_id: str
    name: str
    location: str
    created_at: datetime
    tags: dict[str, str] = field(default_factory=dict)


class SubscriptionStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure_default(
        self, tenant_id: str, location: str
    ) -> tuple[Subscription, ResourceGroup]:
        """The subscription and resource group a new service starts with; registries without
        a resource group (made before the management API) are placed in it."""
        found = await self.all()
        if found:
            subscription = found[0]
        else:
            subscription = Subscription(str(uuid.uuid4()), tenant_id, "moorage")
            async with self._db.write() as conn:
                await conn.execute(
                    insert(subscriptions).values(
                        id=subscription.id,
                        tenant_id=tenant_id,
                        display_name="moorage",
                        created_at=utcnow(),
                    )
                )
        group = await self.put_group(subscription.id, DEFAULT_RESOURCE_GROUP, location, None)
        async with self._db.write() as conn:
            await conn.execute(
                update(registries)
                .where(registries.c.resource_group_id.is_(None))
                .values(resource_group_id=group.id)
            )
        return subscription, group

    async def all(self) -> list[Subscription]:
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(
                    subscriptions.c.id, subscriptions.c.tenant_id, subscriptions.c.display_name
                ).order_by(subscriptions.c.created_at)
            )
            return [Subscription(*row) for row in rows]

    async def get(self, subscription_id: str) -> Subscription:
        for subscription in await self.all():
            if subscription.id.lower() == subscription_id.lower():
                return subscription
        raise SubscriptionNotFound(
            f"The subscription '{subscription_id}' could not be found.",
            subscription=subscription_id,
        )

    async def tenant(self) -> str | None:
        async with self._db.read() as conn:
            return (await conn.execute(select(tenants.c.id).limit(1))).scalar()

    async def group(self, subscription_id: str, name: str) -> ResourceGroup:
        groups = await self._groups(subscription_id, name)
        if not groups:
            raise ResourceGroupNotFound(
                f"Resource group '{name}' could not be found.", resourceGroup=name
            )
        return groups[0]

    async def groups(self, subscription_id: str) -> list[ResourceGroup]:
        return await self._groups(subscription_id, None)

    async def put_group(
        self, subscription_id: str, name: str, location: str, tags: dict[str, str] | None
    ) -> ResourceGroup:
        """Create a resource group, or update its tags; its location never changes."""
        existing = await self._groups(subscription_id, name)
        async with self._db.write() as conn:
            if existing:
                if tags is not None:
                    await conn.execute(
                        update(resource_groups)
                        .where(resource_groups.c.id == existing[0].id)
                        .values(tags=tags)
                    )
            else:
                await conn.execute(
                    insert(resource_groups).values(
                        subscription_id=subscription_id,
                        name=name,
                        name_key=name.lower(),
                        location=location,
                        tags=tags or {},
                        created_at=utcnow(),
                    )
                )
        return (await self._groups(subscription_id, name))[0]

    async def _groups(self, subscription_id: str, name: str | None) -> list[ResourceGroup]:
        query = (
            select(resource_groups)
            .join(subscriptions, subscriptions.c.id == resource_groups.c.subscription_id)
            .where(subscriptions.c.id == subscription_id)
            .order_by(resource_groups.c.name_key)
        )
        if name is not None:
            query = query.where(resource_groups.c.name_key == name.lower())
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            ResourceGroup(
                r["id"],
                r["subscription_id"],
                r["name"],
                r["location"],
                as_utc(r["created_at"]),
                dict(r["tags"] or {}),
            )
            for r in rows
        ]
