"""/v2/_catalog with n/last pagination: the repositories the caller may list."""

from __future__ import annotations

from aiohttp import web

from moorage.distribution import authz
from moorage.distribution import context as ctx


async def list_repositories(request: web.Request) -> web.Response:
    registry = ctx.registry(request)
    limit, last = ctx.page(request)
    patterns = authz.caller(request).catalog_patterns()  # "*", "prefix/*" or names
    found = await ctx.content(request).content.catalog(
        registry.id, ctx.fetch_size(limit), last, patterns
    )
    names, headers = ctx.paginate(request, limit, found)
    return web.json_response({"repositories": names}, headers=headers)
