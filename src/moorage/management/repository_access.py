"""Scope maps and repository-scoped tokens on the management API
(Microsoft.ContainerRegistry/registries/scopeMaps, .../tokens, .../generateCredentials).

`RepositoryAccess` is the service: it finds the registry (so a map or token of registry A is
never reached through registry B), reads the resource ids the cloud's bodies carry, and calls
the stores. The handlers below translate HTTP to it and back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from aiohttp import web

from moorage.domain.errors import InvalidAccessField
from moorage.domain.registry import Registry
from moorage.domain.repository_access import (
    PASSWORD_NAMES,
    GeneratedPassword,
    ScopeMap,
    Token,
    TokenStatus,
)
from moorage.management import models, resources
from moorage.management.router import ManagementRequest, json_response
from moorage.management.service import ManagementService
from moorage.store.repository_tokens import TokenStore
from moorage.store.scope_maps import ScopeMapStore


def child_name(registry: Registry, resource_id: str, kind: str, field: str) -> str:
    """The name in `<registry id>/<kind>/<name>`; refused when it is not of this registry."""
    prefix = f"{registry.resource_id}/{kind}/"
    value = resource_id.strip().rstrip("/")
    name = value[len(prefix) :]
    if not value.lower().startswith(prefix.lower()) or not name or "/" in name:
        raise InvalidAccessField(
            f"{field} '{resource_id}' is not the id of one of registry '{registry.name}''s "
            f"{kind}: expected '{prefix}<name>'",
            **{field: resource_id},
        )
    return name


def _kept(credentials: models.TokenCredentialsModel | None) -> list[str] | None:
    if credentials is None or credentials.passwords is None:
        return None
    return [p.name for p in credentials.passwords]


class RepositoryAccess:
    """Scope maps and tokens of a registry, by name: what the management API's handlers and the
    portal call (the stores stay behind it)."""

    def __init__(
        self, management: ManagementService, scope_maps: ScopeMapStore, tokens: TokenStore
    ) -> None:
        self.management = management
        self._scope_maps = scope_maps
        self._tokens = tokens

    async def registry(self, subscription_id: str, group: str, name: str) -> Registry:
        return await self.management.get(subscription_id, group, name)

    # -- scope maps --------------------------------------------------------------------------

    async def scope_maps(self, registry: Registry) -> list[ScopeMap]:
        """The system scope maps, then the registry's own, by name."""
        return await self._scope_maps.all(registry.id)

    async def scope_map(self, registry: Registry, name: str) -> ScopeMap:
        return await self._scope_maps.get(registry.id, name)

    async def put_scope_map(
        self,
        registry: Registry,
        name: str,
        actions: Sequence[str],
        description: str | None,
        *,
        create_only: bool,
    ) -> tuple[ScopeMap, bool]:
        return await self._scope_maps.put(
            registry.id, name, actions, description, create_only=create_only
        )

    async def update_scope_map(
        self,
        registry: Registry,
        name: str,
        *,
        actions: Sequence[str] | None = None,
        description: str | None = None,
    ) -> ScopeMap:
        return await self._scope_maps.update(
            registry.id, name, actions=actions, description=description
        )

    async def delete_scope_map(self, registry: Registry, name: str) -> bool:
        return await self._scope_maps.delete(registry.id, name)

    # -- tokens ------------------------------------------------------------------------------

    async def tokens(self, registry: Registry) -> list[Token]:
        return await self._tokens.all(registry.id)

    async def token(self, registry: Registry, name: str) -> Token:
        return await self._tokens.get(registry.id, name)

    async def put_token(
        self,
        registry: Registry,
        name: str,
        *,
        scope_map: str,
        status: TokenStatus = TokenStatus.ENABLED,
        keep_passwords: Sequence[str] | None = None,
        create_only: bool = False,
    ) -> tuple[Token, bool]:
        """Create or replace the token, bound to the scope map of that name."""
        return await self._tokens.put(
            registry.id,
            name,
            scope_map=scope_map,
            status=status,
            keep_passwords=keep_passwords,
            create_only=create_only,
        )

    async def update_token(
        self,
        registry: Registry,
        name: str,
        *,
        scope_map: str | None = None,
        status: TokenStatus | None = None,
        keep_passwords: Sequence[str] | None = None,
    ) -> Token:
        """Change what is given (None keeps it)."""
        return await self._tokens.update(
            registry.id, name, scope_map=scope_map, status=status, keep_passwords=keep_passwords
        )

    async def delete_token(self, registry: Registry, name: str) -> bool:
        return await self._tokens.delete(registry.id, name)

    async def new_passwords(
        self,
        registry: Registry,
        token: str,
        names: Sequence[str] = PASSWORD_NAMES,
        expires_at: datetime | None = None,
    ) -> tuple[Token, list[GeneratedPassword]]:
        """New passwords of the token (their values only in what this returns)."""
        return await self._tokens.generate(registry.id, token, names, expires_at=expires_at)


REPOSITORY_ACCESS: Final = web.AppKey("repository_access", RepositoryAccess)


def _access(req: ManagementRequest) -> RepositoryAccess:
    return req.http.config_dict[REPOSITORY_ACCESS]


async def _resolve(req: ManagementRequest) -> tuple[RepositoryAccess, Registry]:
    p = req.params
    access = _access(req)
    registry = await access.registry(p["subscriptionId"], p["resourceGroupName"], p["registryName"])
    return access, registry


def _create_only(req: ManagementRequest) -> bool:
    return (req.header("If-None-Match") or "").strip() == "*"


# -- handlers ----------------------------------------------------------------------------------


async def list_scope_maps(req: ManagementRequest) -> web.Response:
    access, registry = await _resolve(req)
    found = await access.scope_maps(registry)
    return json_response({"value": [resources.scope_map(registry, m) for m in found]})


async def get_scope_map(req: ManagementRequest) -> web.Response:
    access, registry = await _resolve(req)
    found = await access.scope_map(registry, req.params["scopeMapName"])
    return json_response(resources.scope_map(registry, found))


async def put_scope_map(req: ManagementRequest) -> web.Response:
    access, registry = await _resolve(req)
    body: models.ScopeMapModel = req.body
    p = body.properties
    found, created = await access.put_scope_map(
        registry,
        req.params["scopeMapName"],
        p.actions,
        p.description,
        create_only=_create_only(req),
    )
    return json_response(resources.scope_map(registry, found), 201 if created else 200)


async def patch_scope_map(req: ManagementRequest) -> web.Response:
    access, registry = await _resolve(req)
    body: models.ScopeMapUpdateModel = req.body
    p = body.properties or models.ScopeMapUpdatePropertiesModel()
    found = await access.update_scope_map(
        registry, req.params["scopeMapName"], actions=p.actions, description=p.description
    )
    return json_response(resources.scope_map(registry, found))


async def delete_scope_map(req: ManagementRequest) -> web.Response:
    access, registry = await _resolve(req)
    deleted = await access.delete_scope_map(registry, req.params["scopeMapName"])
    return web.Response(status=200 if deleted else 204)


async def list_tokens(req: ManagementRequest) -> web.Response:
    access, registry = await _resolve(req)
    found = await access.tokens(registry)
    return json_response({"value": [resources.token(registry, t) for t in found]})


async def get_token(req: ManagementRequest) -> web.Response:
    access, registry = await _resolve(req)
    found = await access.token(registry, req.params["tokenName"])
    return json_response(resources.token(registry, found))


async def put_token(req: ManagementRequest) -> web.Response:
    access, registry = await _resolve(req)
    body: models.TokenModel = req.body
    p = body.properties
    found, created = await access.put_token(
        registry,
        req.params["tokenName"],
        scope_map=child_name(registry, p.scope_map_id, "scopeMaps", "scopeMapId"),
        status=TokenStatus(p.status),
        keep_passwords=_kept(p.credentials),
        create_only=_create_only(req),
    )
    return json_response(resources.token(registry, found), 201 if created else 200)


async def patch_token(req: ManagementRequest) -> web.Response:
    access, registry = await _resolve(req)
    body: models.TokenUpdateModel = req.body
    p = body.properties or models.TokenUpdatePropertiesModel()
    found = await access.update_token(
        registry,
        req.params["tokenName"],
        scope_map=(
            child_name(registry, p.scope_map_id, "scopeMaps", "scopeMapId")
            if p.scope_map_id is not None
            else None
        ),
        status=TokenStatus(p.status) if p.status is not None else None,
        keep_passwords=_kept(p.credentials),
    )
    return json_response(resources.token(registry, found))


async def delete_token(req: ManagementRequest) -> web.Response:
    access, registry = await _resolve(req)
    deleted = await access.delete_token(registry, req.params["tokenName"])
    return web.Response(status=200 if deleted else 204)


async def generate_credentials(req: ManagementRequest) -> web.Response:
    body: models.GenerateCredentialsModel = req.body
    access, registry = await _resolve(req)
    token = child_name(registry, body.token_id, "tokens", "tokenId")
    names = (body.name,) if body.name else PASSWORD_NAMES
    token_found, generated = await access.new_passwords(registry, token, names, body.expiry)
    return json_response(resources.generated_credentials(token_found, generated))
