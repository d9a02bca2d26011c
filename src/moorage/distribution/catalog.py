"""/v2/_catalog with n/last pagination."""

from __future__ import annotations

from aiohttp import web

from moorage.distribution import context as ctx


async def list_repositories(request: web.Request) -> web.Response:
    registry = ctx.registry(request)
    limit, last = ctx.page(request)
    found = await ctx.content(request).content.catalog(registry.id, ctx.fetch_size(limit), last)
    names, headers = ctx.paginate(request, limit, found)
    return web.json_response({"repositories": names}, headers=headers)
