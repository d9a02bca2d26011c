"""/v2/<name>/tags/list with n/last pagination."""

from __future__ import annotations

from aiohttp import web

from moorage.distribution import context as ctx
from moorage.domain.errors import RepositoryNotFound


async def list_tags(request: web.Request) -> web.Response:
    registry, name = ctx.registry(request), ctx.repository(request)
    limit, last = ctx.page(request)
    found = await ctx.content(request).content.tags(registry.id, name, ctx.fetch_size(limit), last)
    if found is None:
        raise RepositoryNotFound(f"repository {name} is not in registry {registry.name}", name=name)
    names, headers = ctx.paginate(request, limit, found)
    return web.json_response({"name": name, "tags": names}, headers=headers)
