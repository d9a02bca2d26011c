"""Portal pages of the registries: the list, creating one, and a registry's Overview."""

from __future__ import annotations

from aiohttp import web

from moorage.auth.roles import Permission
from moorage.domain.errors import DomainError
from moorage.domain.registry import DEFAULT_REGISTRY, Registry, RegistryChanges, Sku
from moorage.management.registries import SERVICE
from moorage.management.service import ManagementService
from moorage.portal import errors
from moorage.portal.web import PREFIX, Visitor, flash, page, render

GROUP = "moorage"


def service(request: web.Request) -> ManagementService:
    return request.config_dict[SERVICE]


async def subscription_id(request: web.Request) -> str:
    return await service(request).first_subscription_id()


def group_id(subscription: str, group: str = GROUP) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{group}"


async def registry_for(request: web.Request, visitor: Visitor) -> Registry:
    """The registry the path names, if the visitor may read it (404 otherwise)."""
    name = request.match_info["name"]
    found = await service(request).find(name)
    if found is None or not visitor.can(Permission.READ, found.resource_id):
        raise web.HTTPNotFound(text=f"No registry named {name!r} that you may see.\n")
    return found


@page
async def list_page(request: web.Request, visitor: Visitor) -> web.StreamResponse:
    return await _list(request, visitor)


async def _list(
    request: web.Request,
    visitor: Visitor,
    *,
    error: str | None = None,
    name: str = "",
    sku: str = "Premium",
    status: int = 200,
) -> web.Response:
    subscription = await subscription_id(request)
    registries = [
        r
        for r in await service(request).list(subscription)
        if visitor.can(Permission.READ, r.resource_id)
    ]
    return render(
        request,
        "registries.html",
        visitor,
        status=status,
        registries=registries,
        may_create=visitor.can(Permission.WRITE, group_id(subscription)),
        skus=[s.value for s in Sku],
        error=error,
        name=name,
        sku=sku,
        default_registry=DEFAULT_REGISTRY,
    )


@page
async def create(request: web.Request, visitor: Visitor) -> web.StreamResponse:
    form = await request.post()
    name = str(form.get("name", "")).strip()
    sku = str(form.get("sku", "Premium"))
    subscription = await subscription_id(request)
    if not visitor.can(Permission.WRITE, group_id(subscription)):
        return await _list(
            request, visitor, error="Your roles do not allow creating registries.", status=403
        )
    if sku not in {s.value for s in Sku}:
        return await _list(request, visitor, error=f"Unknown SKU {sku!r}.", name=name, status=400)
    if await service(request).find(name) is not None:
        return await _list(
            request,
            visitor,
            error=f"The registry name {name!r} is already in use.",
            name=name,
            sku=sku,
            status=409,
        )
    try:
        await service(request).create_or_replace(
            subscription, GROUP, name, RegistryChanges(location="local", tags={}, sku=Sku(sku))
        )
    except DomainError as e:
        return await _list(
            request, visitor, error=errors.message(e), name=name, sku=sku, status=errors.status(e)
        )
    flash(visitor, "ok", f"Registry {name} created.")
    raise web.HTTPSeeOther(f"{PREFIX}/registries/{name}")


def setup(app: web.Application) -> None:
    app.router.add_get(PREFIX + "/registries", list_page)
    app.router.add_post(PREFIX + "/registries", create)
