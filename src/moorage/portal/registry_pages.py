"""Portal pages of one registry: Overview, Repositories, Access keys and Tokens.

A page reads with Permission.READ on the registry; a change needs WRITE, a delete DELETE, and
passwords (the admin user's, new ones for a token) ACTION, as listCredentials and
generateCredentials need on the management API. Without the permission a page shows the data
and no controls, and a forged POST is refused with 403 and a message. A change POSTs, then
redirects to its page with a message; new token passwords are the exception: they are rendered
once, in the POST's answer, and kept nowhere.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Final
from urllib.parse import urlencode

from aiohttp import web

from moorage.auth.roles import Permission
from moorage.distribution.context import CONTENT
from moorage.domain.errors import DomainError, ManifestNotFound
from moorage.domain.names import check_tag
from moorage.domain.registry import (
    ConnectionStatus,
    DefaultAction,
    PublicNetworkAccess,
    Registry,
    RegistryChanges,
)
from moorage.domain.repository_access import PASSWORD_NAMES as TOKEN_PASSWORDS
from moorage.domain.repository_access import GeneratedPassword, Token, TokenStatus
from moorage.management.repository_access import REPOSITORY_ACCESS, RepositoryAccess
from moorage.management.service import PASSWORD_NAMES as ADMIN_PASSWORDS
from moorage.portal import errors
from moorage.portal.commands import commands, local_address
from moorage.portal.errors import FormError
from moorage.portal.registries import registry_for, service
from moorage.portal.web import PREFIX, Visitor, flash, page, render
from moorage.store.content import ContentStore
from moorage.store.listings import ContentListings

log = logging.getLogger("moorage.portal")
ROOT: Final = PREFIX + "/registries/{name}"
PAGE: Final = 100  # repositories or tags on one page
EMPTY: Final[Mapping[str, Any]] = {}
CONTROLS: Final = (Permission.WRITE, Permission.DELETE, Permission.ACTION)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
View = Callable[[web.Request, Visitor, Registry, Mapping[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Done:
    """What a change did: the message; where to go back (a query for the tab); or new passwords
    to show in the POST's answer, once, instead of redirecting."""

    message: str
    back: str = ""
    created: tuple[Token, list[GeneratedPassword]] | None = None


def _content(request: web.Request) -> ContentStore:
    return request.config_dict[CONTENT].content


def _listings(request: web.Request) -> ContentListings:
    return request.config_dict[CONTENT].listings


def _access(request: web.Request) -> RepositoryAccess:
    return request.config_dict[REPOSITORY_ACCESS]


def _text(form: Mapping[str, Any], key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def _url(registry: Registry, tab: str) -> str:
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
    chosen = request.query.get("repository") or _text(form, "repository")
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
    access = _access(request)
    return {
        "tokens": await access.tokens.all(registry.id),
        "scope_maps": await access.scope_maps.all(registry.id),
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


def _page_of(tab: str) -> Handler:
    async def get(request: web.Request, visitor: Visitor) -> web.StreamResponse:
        return await show(request, visitor, await registry_for(request, visitor), tab)

    get.__name__ = f"{tab.replace('-', '_')}_page"
    return page(get)


# -- changes: each a `Work`, run by `act` under the permission CHANGES names ------------------

Work = Callable[[web.Request, Visitor, Registry, Mapping[str, Any]], Awaitable[str | Done]]


def _change(tab: str, need: Permission, work: Work) -> Handler:
    async def act(request: web.Request, visitor: Visitor) -> web.StreamResponse:
        """The registry (404 unless readable), the permission (403 with a message), the work
        (400 with a DomainError's message), then the confirmation: a redirect to the tab, or
        the tab in this answer when `Done.created` has passwords to show once."""
        registry = await registry_for(request, visitor)
        form = await request.post()
        if not visitor.can(need, registry.resource_id):
            flash(
                visitor,
                "error",
                f"Your roles on registry {registry.name} do not allow this: it needs the "
                f"{need.value} permission.",
            )
            return await show(request, visitor, registry, tab, status=403, form=form)
        try:
            done = await work(request, visitor, registry, form)
        except (FormError, DomainError) as e:
            flash(visitor, "error", errors.message(e))
            return await show(request, visitor, registry, tab, status=errors.status(e), form=form)
        done = Done(done) if isinstance(done, str) else done
        log.info("portal: %s on registry %s: %s", visitor.app_id, registry.name, done.message)
        flash(visitor, "ok", done.message)
        if done.created is not None:
            registry = await registry_for(request, visitor)
            return await show(request, visitor, registry, tab, created=done.created)
        raise web.HTTPSeeOther(_url(registry, tab) + done.back)

    act.__name__ = work.__name__
    return page(act)


def _choice(form: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = _text(form, key)
    if value not in allowed:
        raise FormError(f"{key} must be one of {', '.join(allowed)}; got {value[:40]!r}.")
    return value


def _where(registry: Registry) -> tuple[str, str, str]:
    return registry.subscription_id, registry.resource_group, registry.name


async def delete_tag(
    request: web.Request, visitor: Visitor, registry: Registry, form: Mapping[str, Any]
) -> Done:
    repository, tag = _text(form, "repository"), check_tag(_text(form, "tag"))
    if not await _content(request).delete_tag(registry.id, repository, tag):
        raise ManifestNotFound(f"Tag {tag} is not in repository {repository!r} (any more).")
    back = "?" + urlencode({"repository": repository})
    return Done(f"Tag {repository}:{tag} deleted.", back=back)


async def set_admin_user(
    request: web.Request, visitor: Visitor, registry: Registry, form: Mapping[str, Any]
) -> str:
    enabled = _choice(form, "enabled", ("true", "false")) == "true"
    changes = RegistryChanges(admin_user_enabled=enabled)
    await service(request).update(*_where(registry), changes)
    return f"Admin user {'enabled' if enabled else 'disabled'}."


async def regenerate(
    request: web.Request, visitor: Visitor, registry: Registry, form: Mapping[str, Any]
) -> str:
    which = _choice(form, "which", ADMIN_PASSWORDS)
    await service(request).regenerate(*_where(registry), which)
    return f"New {which} made for the admin user; the old one no longer signs in."


async def create_scope_map(
    request: web.Request, visitor: Visitor, registry: Registry, form: Mapping[str, Any]
) -> str:
    lines = [line.strip() for line in _text(form, "actions").splitlines() if line.strip()]
    name, description = _text(form, "name"), _text(form, "description") or None
    found, _ = await _access(request).scope_maps.put(
        registry.id, name, lines, description, create_only=True
    )
    return f"Scope map {found.name} created with {len(found.actions)} action(s)."


async def delete_scope_map(
    request: web.Request, visitor: Visitor, registry: Registry, form: Mapping[str, Any]
) -> str:
    name = _text(form, "scope_map")
    if not await _access(request).scope_maps.delete(registry.id, name):
        raise FormError(f"Registry {registry.name} has no scope map {name!r}.")
    return f"Scope map {name} deleted."


def _expiry(form: Mapping[str, Any]) -> datetime | None:
    """The passwords' expiry: the start (00:00 UTC) of the day the form names."""
    text = _text(form, "expiry")
    if not text:
        return None
    try:
        when = datetime.combine(date.fromisoformat(text), time(), UTC)
    except ValueError:
        raise FormError(f"Expiry {text[:40]!r} is not a date (YYYY-MM-DD).") from None
    if when <= datetime.now(UTC):
        raise FormError(f"Expiry {text} is not in the future.")
    return when


async def create_token(
    request: web.Request, visitor: Visitor, registry: Registry, form: Mapping[str, Any]
) -> str | Done:
    """Create the token, and (with the action permission) both its passwords."""
    expiry, tokens = _expiry(form), _access(request).tokens
    token, _ = await tokens.put(
        registry.id, _text(form, "name"), scope_map=_text(form, "scope_map"), create_only=True
    )
    if not visitor.can(Permission.ACTION, registry.resource_id):
        return (
            f"Token {token.name} created without passwords: making them needs the action "
            "permission, which your roles do not give."
        )
    token, passwords = await tokens.generate(registry.id, token.name, expires_at=expiry)
    return Done(
        f"Token {token.name} created. Copy its passwords now: they are shown this once.",
        created=(token, passwords),
    )


async def new_passwords(
    request: web.Request, visitor: Visitor, registry: Registry, form: Mapping[str, Any]
) -> Done:
    which = _choice(form, "which", ("both", *TOKEN_PASSWORDS))
    names = TOKEN_PASSWORDS if which == "both" else (which,)
    token, passwords = await _access(request).tokens.generate(
        registry.id, _text(form, "token"), names, expires_at=_expiry(form)
    )
    return Done(
        f"New {' and '.join(names)} for token {token.name}. Copy them now: they are shown "
        "this once.",
        created=(token, passwords),
    )


async def set_token_status(
    request: web.Request, visitor: Visitor, registry: Registry, form: Mapping[str, Any]
) -> str:
    status = TokenStatus(_choice(form, "status", tuple(s.value for s in TokenStatus)))
    token = await _access(request).tokens.update(registry.id, _text(form, "token"), status=status)
    return f"Token {token.name} {status.value}."


async def delete_token(
    request: web.Request, visitor: Visitor, registry: Registry, form: Mapping[str, Any]
) -> str:
    name = _text(form, "token")
    if not await _access(request).tokens.delete(registry.id, name):
        raise FormError(f"Registry {registry.name} has no token {name!r}.")
    return f"Token {name} deleted; its passwords no longer sign in."


# (path under the registry: its first part is the tab, permission needed, work). Passwords need
# ACTION, as listCredentials and generateCredentials on the management API.
CHANGES: Final[tuple[tuple[str, Permission, Work], ...]] = (
    ("/repositories/delete-tag", Permission.DELETE, delete_tag),
    ("/access-keys/admin-user", Permission.WRITE, set_admin_user),
    ("/access-keys/regenerate", Permission.ACTION, regenerate),
    ("/tokens/scope-maps", Permission.WRITE, create_scope_map),
    ("/tokens/scope-maps/delete", Permission.DELETE, delete_scope_map),
    ("/tokens", Permission.WRITE, create_token),
    ("/tokens/passwords", Permission.ACTION, new_passwords),
    ("/tokens/status", Permission.WRITE, set_token_status),
    ("/tokens/delete", Permission.DELETE, delete_token),
)


def setup(app: web.Application) -> None:
    for tab in VIEWS:
        app.router.add_get(ROOT if tab == "overview" else f"{ROOT}/{tab}", _page_of(tab))
    for path, need, work in CHANGES:
        app.router.add_post(ROOT + path, _change(path.split("/")[1], need, work))
