"""Portal pages of one registry, the reading side: each tab's view (its template's context) and
`show`, which renders a tab for a GET and for a refused or failed change (registry_pages.py has
the changes). A page reads with Permission.READ on the registry; without WRITE, DELETE or
ACTION it shows the data and no controls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlencode

from aiohttp import web

from moorage.auth.roles import Permission
from moorage.distribution.context import CONTENT
from moorage.domain.registry import (
    ConnectionStatus,
    DefaultAction,
    PublicNetworkAccess,
    Registry,
)
from moorage.management.repository_access import REPOSITORY_ACCESS, RepositoryAccess
from moorage.portal.commands import commands, local_address
from moorage.portal.registries import registry_for, service
from moorage.portal.web import PREFIX, Visitor, flash, page, render
from moorage.store.content import ContentStore
from moorage.store.listings import ContentListings

ROOT: Final = PREFIX + "/registries/{name}"
PAGE: Final = 100  # repositories or tags on one page
EMPTY: Final[Mapping[str, Any]] = {}
CONTROLS: Final = (Permission.WRITE, Permission.DELETE, Permission.ACTION)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
View = Callable[[web.Request, Visitor, Registry, Mapping[str, Any]], Awaitable[dict[str, Any]]]


def content_store(request: web.Request) -> ContentStore:
    return request.config_dict[CONTENT].content


def _listings(request: web.Request) -> ContentListings:
    return request.config_dict[CONTENT].listings


def repository_access(request: web.Request) -> RepositoryAccess:
    return request.config_dict[REPOSITORY_ACCESS]


def text(form: Mapping[str, Any], key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def url_of(registry: Registry, tab: str) -> str:
    return f"{PREFIX}/registries/{registry.name}" + ("" if tab == "overview" else f"/{tab}")


def _rights(visitor: Visitor, registry: Registry) -> dict[str, bool]:
    """Which controls the page shows: a Reader sees the data and none."""
    return {f"may_{p.value}": visitor.can(p, registry.resource_id) for p in CONTROLS}


def size_text(size: int) -> str:
    """Bytes for people: 1536 -> "1.5 KiB"."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024:
            return f"{value:.1f} {unit}"
    return f"{value / 1024:.1f} TiB"


def network_summary(registry: Registry) -> str:
    """Who may reach the registry, in one sentence."""
    approved = sum(
        c.status is ConnectionStatus.APPROVED for c in registry.private_endpoint_connections
    )
    rules = registry.network_rule_set
    parts = []
    if registry.public_network_access is PublicNetworkAccess.DISABLED:
        parts.append("Disabled: reachable through private endpoints only")
    elif rules.default_action is DefaultAction.ALLOW:
        parts.append("Enabled from all networks")
    else:
        parts.append(
            f"Enabled from selected networks: {len(rules.ip_rules)} IP rule(s), "
            f"{len(rules.virtual_network_rules)} virtual network rule(s)"
        )
    restricted = registry.public_network_access is PublicNetworkAccess.DISABLED or (
        rules.default_action is DefaultAction.DENY
    )
    if restricted and registry.network_rule_bypass_options == "AzureServices":
        parts.append("trusted services may bypass the rules")
    if approved:
        parts.append(f"{approved} approved private endpoint connection(s)")
    return "; ".join(parts)


# -- views: a tab's context; `show` renders it, for a GET and for a refused or failed change ---


async def _overview(
    request: web.Request, visitor: Visitor, registry: Registry, form: Mapping[str, Any]
) -> dict[str, Any]:
    listings = _listings(request)
    usage = await listings.registry_usage(registry.id)
    repository, tag = "samples/hello", "v1"
    first = await listings.repository_summaries(registry.id, 1, None)
    if first:
        repository = first[0].name
        newest = await listings.tag_details(registry.id, repository, 1, None, "timedesc")
        tag = newest[0].name if newest else "latest"
    return {
        "usage": usage,
        "storage": size_text(usage.storage_bytes),
        "network": network_summary(registry),
        "commands": commands(
            registry.login_server,
            repository,
            tag,
            tls=request.secure,
            address=local_address(request),
        ),
        "plain_http": not request.secure,
    }


async def _repositories(
    request: web.Request, visitor: Visitor, registry: Registry, form: Mapping[str, Any]
) -> dict[str, Any]:
    """The repositories, or with ?repository=R the tags of R (newest first); ?last= pages."""
    listings = _listings(request)
    chosen = request.query.get("repository") or text(form, "repository")
    last = request.query.get("last") or None
    context: dict[str, Any] = {"repository": None, "tags": [], "summaries": [], "sizes": {}}
    found = None
    if chosen:
        found = await listings.tag_details(registry.id, chosen, PAGE + 1, last, "timedesc")
        if found is None:
            flash(visitor, "error", f"Registry {registry.name} has no repository {chosen!r}.")
            context["status"], last = 404, None
    if found is not None:
        tags = found[:PAGE]
        sizes = await listings.image_sizes(registry.id, chosen, [t.digest for t in tags])
        context |= {"repository": chosen, "tags": tags, "sizes": sizes}
        after = {"repository": chosen, "last": tags[-1].name} if len(found) > PAGE else None
    else:
        summaries = await listings.repository_summaries(registry.id, PAGE + 1, last)
        context["summaries"] = summaries[:PAGE]
        after = {"last": summaries[PAGE - 1].name} if len(summaries) > PAGE else None
    return context | {"next_page": f"?{urlencode(after)}" if after else None}


async def _access_keys(
    request: web.Request, visitor: Visitor, registry: Registry, form: Mapping[str, Any]
) -> dict[str, Any]:
    credentials = None
    if registry.admin_user_enabled and visitor.can(Permission.ACTION, registry.resource_id):
        credentials = await service(request).list_credentials(
            registry.subscription_id, registry.resource_group, registry.name
        )
    return {"credentials": credentials}


async def _tokens(
    request: web.Request, visitor: Visitor, registry: Registry, form: Mapping[str, Any]
) -> dict[str, Any]:
    access = repository_access(request)
    return {
        "tokens": await access.tokens(registry),
        "scope_maps": await access.scope_maps(registry),
        "now": datetime.now(UTC),
    }


VIEWS: Final[dict[str, View]] = {
    "overview": _overview,
    "repositories": _repositories,
    "access-keys": _access_keys,
    "tokens": _tokens,
}


async def show(
    request: web.Request,
    visitor: Visitor,
    registry: Registry,
    tab: str,
    *,
    status: int = 200,
    form: Mapping[str, Any] = EMPTY,
    created: Any = None,
) -> web.Response:
    """The tab's page; `created` is a (token, new passwords) pair to show this once."""
    context = await VIEWS[tab](request, visitor, registry, form)
    return render(
        request,
        f"registry_{tab.replace('-', '_')}.html",
        visitor,
        status=context.pop("status", status),
        registry=registry,
        tab=tab,
        form=form,
        created=created,
        size_text=size_text,
        **_rights(visitor, registry),
        **context,
    )


def page_of(tab: str) -> Handler:
    async def get(request: web.Request, visitor: Visitor) -> web.StreamResponse:
        return await show(request, visitor, await registry_for(request, visitor), tab)

    get.__name__ = f"{tab.replace('-', '_')}_page"
    return page(get)
