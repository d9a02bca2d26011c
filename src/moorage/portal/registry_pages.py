"""Portal pages of one registry: Overview, Repositories, Access keys and Tokens.

A page reads with Permission.READ on the registry; a change needs WRITE, a delete DELETE, and
passwords (the admin user's, new ones for a token) ACTION, as listCredentials and
generateCredentials need on the management API. Without the permission a page shows the data
and no controls, and a forged POST is refused with 403 and a message. A change POSTs, then
redirects to its page with a message; new token passwords are the exception: they are rendered
once, in the POST's answer, and kept nowhere. This module has the changes; the tabs' views and
`show` are in registry_views.py.
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
from moorage.domain.errors import DomainError, ManifestNotFound
from moorage.domain.names import check_tag
from moorage.domain.registry import (
    Registry,
    RegistryChanges,
)
from moorage.domain.repository_access import PASSWORD_NAMES as TOKEN_PASSWORDS
from moorage.domain.repository_access import GeneratedPassword, Token, TokenStatus
from moorage.management.service import PASSWORD_NAMES as ADMIN_PASSWORDS
from moorage.portal import errors
from moorage.portal.errors import FormError
from moorage.portal.registries import registry_for, service
from moorage.portal.registry_views import (
    ROOT,
    VIEWS,
    Handler,
    content_store,
    page_of,
    repository_access,
    show,
    text,
    url_of,
)
from moorage.portal.web import Visitor, flash, page

log = logging.getLogger("moorage.portal")


@dataclass(frozen=True, slots=True)
class Done:
    """What a change did: the message; where to go back (a query for the tab); or new passwords
    to show in the POST's answer, once, instead of redirecting."""

    message: str
    back: str = ""
    created: tuple[Token, list[GeneratedPassword]] | None = None


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
        raise web.HTTPSeeOther(url_of(registry, tab) + done.back)

    act.__name__ = work.__name__
    return page(act)


def _choice(form: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = text(form, key)
    if value not in allowed:
        raise FormError(f"{key} must be one of {', '.join(allowed)}; got {value[:40]!r}.")
    return value


def _where(registry: Registry) -> tuple[str, str, str]:
    return registry.subscription_id, registry.resource_group, registry.name


async def delete_tag(
    request: web.Request, visitor: Visitor, registry: Registry, form: Mapping[str, Any]
) -> Done:
    repository, tag = text(form, "repository"), check_tag(text(form, "tag"))
    if not await content_store(request).delete_tag(registry.id, repository, tag):
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
    lines = [line.strip() for line in text(form, "actions").splitlines() if line.strip()]
    name, description = text(form, "name"), text(form, "description") or None
    found, _ = await repository_access(request).put_scope_map(
        registry, name, lines, description, create_only=True
    )
    return f"Scope map {found.name} created with {len(found.actions)} action(s)."


async def delete_scope_map(
    request: web.Request, visitor: Visitor, registry: Registry, form: Mapping[str, Any]
) -> str:
    name = text(form, "scope_map")
    if not await repository_access(request).delete_scope_map(registry, name):
        raise FormError(f"Registry {registry.name} has no scope map {name!r}.")
    return f"Scope map {name} deleted."


def _expiry(form: Mapping[str, Any]) -> datetime | None:
    """The passwords' expiry: the start (00:00 UTC) of the day the form names."""
    value = text(form, "expiry")
    if not value:
        return None
    try:
        when = datetime.combine(date.fromisoformat(value), time(), UTC)
    except ValueError:
        raise FormError(f"Expiry {value[:40]!r} is not a date (YYYY-MM-DD).") from None
    if when <= datetime.now(UTC):
        raise FormError(f"Expiry {value} is not in the future.")
    return when


async def create_token(
    request: web.Request, visitor: Visitor, registry: Registry, form: Mapping[str, Any]
) -> str | Done:
    """Create the token, and (with the action permission) both its passwords."""
    expiry, access = _expiry(form), repository_access(request)
    token, _ = await access.put_token(
        registry, text(form, "name"), scope_map=text(form, "scope_map"), create_only=True
    )
    if not visitor.can(Permission.ACTION, registry.resource_id):
        return (
            f"Token {token.name} created without passwords: making them needs the action "
            "permission, which your roles do not give."
        )
    token, passwords = await access.new_passwords(registry, token.name, expires_at=expiry)
    return Done(
        f"Token {token.name} created. Copy its passwords now: they are shown this once.",
        created=(token, passwords),
    )


async def new_passwords(
    request: web.Request, visitor: Visitor, registry: Registry, form: Mapping[str, Any]
) -> Done:
    which = _choice(form, "which", ("both", *TOKEN_PASSWORDS))
    names = TOKEN_PASSWORDS if which == "both" else (which,)
    token, passwords = await repository_access(request).new_passwords(
        registry, text(form, "token"), names, expires_at=_expiry(form)
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
    token = await repository_access(request).update_token(
        registry, text(form, "token"), status=status
    )
    return f"Token {token.name} {status.value}."


async def delete_token(
    request: web.Request, visitor: Visitor, registry: Registry, form: Mapping[str, Any]
) -> str:
    name = text(form, "token")
    if not await repository_access(request).delete_token(registry, name):
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
        app.router.add_get(ROOT if tab == "overview" else f"{ROOT}/{tab}", page_of(tab))
    for path, need, work in CHANGES:
        app.router.add_post(ROOT + path, _change(path.split("/")[1], need, work))
