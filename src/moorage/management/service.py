"""Registry administration: one service behind the management API, the CLI and the portal."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from moorage.access.hosts import RegistryResolver
from moorage.auth.secrets import hash_secret, new_secret
from moorage.domain.errors import (
    AdminUserDisabled,
    DefaultRegistryKept,
    DomainError,
    RegistryExists,
    RegistryNotFound,
)
from moorage.domain.registry import Registry, RegistryChanges, check_registry_name
from moorage.store.credentials import CredentialStore
from moorage.store.management import SubscriptionStore
from moorage.store.registries import AlsoWrite, RegistryStore
from moorage.store.virtual_network_rules import VirtualNetworkRuleStore
from moorage.store.virtual_networks import VirtualNetworkStore

PASSWORD_NAMES = ("password", "password2")


class Cipher(Protocol):
    def encrypt(self, text: str) -> str: ...
    def decrypt(self, token: str) -> str: ...


class ManagementService:
    def __init__(
        self,
        registries: RegistryStore,
        subscriptions: SubscriptionStore,
        credentials: CredentialStore,
        cipher: Cipher,
        resolver: RegistryResolver,
        virtual_networks: VirtualNetworkStore,
        virtual_network_rules: VirtualNetworkRuleStore,
    ) -> None:
        self.registries = registries
        self.subscriptions = subscriptions
        self.credentials = credentials
        self.cipher = cipher
        self.resolver = resolver
        self.virtual_networks = virtual_networks
        self.virtual_network_rules = virtual_network_rules

    @property
    def max_ip_rules(self) -> int:
        """The most IP rules a registry may have (a setting)."""
        return self.registries.max_ip_rules

    async def find(self, name: str) -> Registry | None:
        """The registry of that name (any case) wherever it lives, or None."""
        return await self.registries.find(name)

    async def first_subscription_id(self) -> str:
        """The id of the service's first subscription (the one `moorage serve` makes)."""
        return (await self.subscriptions.all())[0].id

    async def get(self, subscription_id: str, group: str, name: str) -> Registry:
        await self.subscriptions.group(subscription_id, group)
        found = await self.registries.find(name)
        if (
            found is None
            or found.subscription_id.lower() != subscription_id.lower()
            or found.resource_group.lower() != group.lower()
        ):
            raise RegistryNotFound(
                f"The Resource 'Microsoft.ContainerRegistry/registries/{name}' under resource "
                f"group '{group}' was not found.",
                name=name,
            )
        return found

    async def list(self, subscription_id: str, group: str | None = None) -> list[Registry]:
        await self.subscriptions.get(subscription_id)
        if group is not None:
            rg = await self.subscriptions.group(subscription_id, group)
            return await self.registries.in_group(rg.id)
        return [
            r
            for r in await self.registries.all()
            if r.subscription_id.lower() == subscription_id.lower()
        ]

    async def create_or_replace(
        self,
        subscription_id: str,
        group: str,
        name: str,
        changes: RegistryChanges,
        *,
        if_match: str | None = None,
        if_none_match: str | None = None,
    ) -> tuple[Registry, bool]:
        """PUT: create the registry, or replace the settings of the one already there. The
        changes name the SKU and the location (a PUT's body always does)."""
        check_registry_name(name)
        if changes.sku is None or changes.location is None:
            raise TypeError("create_or_replace needs changes with a SKU and a location")
        rg = await self.subscriptions.group(subscription_id, group)
        existing = await self.registries.find(name)
        if existing is not None:
            if existing.resource_group.lower() != group.lower() or (
                existing.subscription_id.lower() != subscription_id.lower()
            ):
                raise RegistryExists(f"The registry name '{name}' is already in use.", name=name)
            if if_none_match is not None and if_none_match.strip() == "*":
                raise RegistryExists(
                    f"The registry '{name}' exists and If-None-Match is '*'.", name=name
                )
            await self._check_virtual_network_rules(existing, changes)
            updated = await self.registries.update(
                name, changes, if_match=if_match, also=self._rules_writer(changes)
            )
            await self._after_change(updated)
            return updated, False
        await self.virtual_network_rules.check_rules(
            name, changes.sku, changes.virtual_network_rules, 0, changing_sku=False
        )
        created = await self.registries.create(
            name,
            changes.sku,
            resource_group_id=rg.id,
            location=changes.location,
            changes=changes,
            also=self._rules_writer(changes),
        )
        await self._after_change(created)
        return created, True

    async def update(
        self,
        subscription_id: str,
        group: str,
        name: str,
        changes: RegistryChanges,
        *,
        if_match: str | None = None,
    ) -> Registry:
        existing = await self.get(subscription_id, group, name)
        await self._check_virtual_network_rules(existing, changes)
        updated = await self.registries.update(
            name, changes, if_match=if_match, also=self._rules_writer(changes)
        )
        await self._after_change(updated)
        return updated

    async def _check_virtual_network_rules(
        self, existing: Registry, changes: RegistryChanges
    ) -> None:
        """Before anything is written: the subnets named exist, and the registry may have its
        virtual-network rules (new or kept) at the SKU it will have (kept rules are not
        rewritten, so they are checked here)."""
        sku = changes.sku or existing.sku
        await self.virtual_network_rules.check_rules(
            existing.name,
            sku,
            changes.virtual_network_rules,
            len(existing.network_rule_set.virtual_network_rules),
            changing_sku=sku is not existing.sku,
        )

    def _rules_writer(self, changes: RegistryChanges) -> AlsoWrite | None:
        """The virtual-network rules a change names, written in the registry's own
        transaction: the registry and its rules change together or not at all."""
        wanted = changes.virtual_network_rules
        if wanted is None:
            return None
        rules = self.virtual_network_rules

        async def write(conn: AsyncConnection, registry_id: int) -> None:
            await rules.replace_rules_in(conn, registry_id, wanted)

        return write

    async def delete(
        self, subscription_id: str, group: str, name: str, *, if_match: str | None = None
    ) -> bool:
        try:
            registry = await self.get(subscription_id, group, name)
        except RegistryNotFound:
            return False
        if registry.name.lower() == self.resolver.default_registry.lower():
            raise DefaultRegistryKept(
                f"The registry '{registry.name}' serves the bare host and cannot be deleted.",
                name=registry.name,
            )
        deleted = await self.registries.delete(registry.name, if_match=if_match)
        self.resolver.forget(registry.name)
        return deleted

    async def add_ip_rule(
        self,
        subscription_id: str,
        group: str,
        name: str,
        value: str,
        expires_at: datetime | None,
    ) -> Registry:
        registry = await self.get(subscription_id, group, name)
        updated = await self.registries.add_ip_rule(registry.name, value, expires_at=expires_at)
        await self._after_change(updated)
        return updated

    async def remove_ip_rule(
        self, subscription_id: str, group: str, name: str, value: str
    ) -> Registry:
        registry = await self.get(subscription_id, group, name)
        updated = await self.registries.remove_ip_rule(registry.name, value)
        await self._after_change(updated)
        return updated

    async def check_name(self, name: str) -> dict[str, Any]:
        try:
            check_registry_name(name)
        except DomainError as e:
            return {"nameAvailable": False, "reason": "Invalid", "message": e.message}
        if await self.registries.find(name) is not None:
            return {
                "nameAvailable": False,
                "reason": "AlreadyExists",
                "message": f"The registry {name} is already in use.",
            }
        return {"nameAvailable": True}

    async def list_credentials(self, subscription_id: str, group: str, name: str) -> dict[str, Any]:
        registry = _with_admin_user(await self.get(subscription_id, group, name))
        stored = await self._ensure_passwords(registry)
        return {
            "username": registry.name,
            "passwords": [
                {"name": n, "value": self.cipher.decrypt(stored[n])} for n in PASSWORD_NAMES
            ],
        }

    async def regenerate(
        self, subscription_id: str, group: str, name: str, which: str
    ) -> dict[str, Any]:
        registry = _with_admin_user(await self.get(subscription_id, group, name))
        await self._new_password(registry, which)
        return await self.list_credentials(subscription_id, group, name)

    async def _ensure_passwords(self, registry: Registry) -> dict[str, str]:
        stored = await self.credentials.get(registry.id)
        for missing in (n for n in PASSWORD_NAMES if n not in stored):
            await self._new_password(registry, missing)
        return await self.credentials.get(registry.id)

    async def _new_password(self, registry: Registry, which: str) -> None:
        password = new_secret()
        hashed = await asyncio.to_thread(hash_secret, password)
        await self.credentials.put(registry.id, which, self.cipher.encrypt(password), hashed)

    async def _after_change(self, registry: Registry) -> None:
        """The data plane judges the very next request by what just changed."""
        self.resolver.forget(registry.name)
        if registry.admin_user_enabled:
            await self._ensure_passwords(registry)


def _with_admin_user(registry: Registry) -> Registry:
    if not registry.admin_user_enabled:
        raise AdminUserDisabled(
            f"The admin user of registry '{registry.name}' is disabled; enable it with "
            f"`moorage acr update --name {registry.name} --admin-enabled true`.",
            name=registry.name,
        )
    return registry
