"""Portal page of a registry's Networking: public access and its firewall, private access (the
registry's private endpoint connections), and the addresses the rules turned away.

Every change goes through the same services as the management API, with the API's messages:
the Public access tab saves in one `ManagementService.update` guarded by the etag the form was
drawn from; connections move through `PrivateEndpoints`; "Allow" on a refusal adds one IP rule
as `addIpRule` does. Every page works without JavaScript (plain forms, POST then redirect).

The Refusals tab's chart is drawn by portal/refusals_chart.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from moorage.access.client import client_of
from moorage.auth.roles import Permission
from moorage.domain.errors import DomainError, InvalidIPRule, PreconditionFailed
from moorage.domain.network import Matcher, parse_client_address, parse_ip_rule
from moorage.domain.registry import (
    ConnectionStatus,
    DefaultAction,
    IPRule,
    PublicNetworkAccess,
    Registry,
    RegistryChanges,
    Sku,
)
from moorage.management.private_endpoints import PRIVATE_ENDPOINTS
from moorage.management.registries import AUDIT
from moorage.portal import errors
from moorage.portal.refusals_chart import CHART_DETAILS, chart
from moorage.portal.registries import registry_for, service
from moorage.portal.web import PREFIX, Visitor, flash, page, render
from moorage.store.types import utcnow

TABS = ("public", "private", "refusals")
ACCESS: dict[str, tuple[PublicNetworkAccess, DefaultAction | None]] = {
    "all": (PublicNetworkAccess.ENABLED, DefaultAction.ALLOW),
    "selected": (PublicNetworkAccess.ENABLED, DefaultAction.DENY),
    # The rules and the default action stay as they are, for when access is enabled again.
    "disabled": (PublicNetworkAccess.DISABLED, None),
}
ACCESS_LABELS = {"all": "All networks", "selected": "Selected networks", "disabled": "Disabled"}
_SEPARATORS = re.compile(r"[\s,;]+")
RECENT_SHOWN = 20


def path_of(registry: Registry, tab: str = "public") -> str:
    return f"{PREFIX}/registries/{registry.name}/networking?tab={tab}"


def access_of(registry: Registry) -> str:
    if registry.public_network_access is PublicNetworkAccess.DISABLED:
        return "disabled"
    if registry.network_rule_set.default_action is DefaultAction.DENY:
        return "selected"
    return "all"


@dataclass(frozen=True, slots=True)
class PublicForm:
    """The Public access form: as stored, or as posted (kept when it is shown again)."""

    access: str
    trusted: bool
    etag: str
    remove: frozenset[str] = frozenset()
    add: str = ""
    add_client: bool = False
    invalid: tuple[str, ...] = ()
    """The messages of the entries of `add` that are not IP rules."""

    @classmethod
    def of(cls, registry: Registry) -> PublicForm:
        trusted = registry.network_rule_bypass_options == "AzureServices"
        return cls(access_of(registry), trusted, registry.etag)

    @classmethod
    def posted(cls, form: MultiDictProxy[Any]) -> PublicForm:
        return cls(
            access=str(form.get("access", "")),
            trusted=form.get("trusted") == "on",
            etag=str(form.get("etag", "")),
            remove=frozenset(str(v) for v in form.getall("remove", [])),
            add=str(form.get("add", "")).strip(),
            add_client=form.get("add_client") == "on",
        )


def parse_additions(text: str) -> tuple[list[str], list[str]]:
    """Canonical rule values of the addresses/CIDRs in `text` (separated by spaces, commas or
    new lines), and the API's message for each entry that is not one."""
    values: list[str] = []
    errors: list[str] = []
    for entry in _SEPARATORS.split(text):
        if not entry:
            continue
        try:
            values.append(parse_ip_rule(entry))
        except InvalidIPRule as e:
            errors.append(e.message)
    return values, errors


def new_rules(current: Sequence[IPRule], remove: Iterable[str], add: Iterable[str]) -> list[IPRule]:
    """The rules after removing and adding; kept rules keep their expiry, duplicates go."""
    removed = set(remove)
    rules = [r for r in current if r.value not in removed]
    seen = {r.value for r in rules}
    for value in add:
        if value not in seen:
            seen.add(value)
            rules.append(IPRule(value))
    return rules


# -- the page ------------------------------------------------------------------------------------


async def _render(
    request: web.Request,
    visitor: Visitor,
    registry: Registry,
    tab: str,
    *,
    form: PublicForm | None = None,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    context: dict[str, Any] = {}
    matcher = Matcher.compile(r.value for r in registry.network_rule_set.ip_rules)
    if tab == "public":
        address = client_of(request)
        context.update(
            form=form or PublicForm.of(registry),
            client=address,
            client_rule=_covering(matcher, address),
            limit=service(request).max_ip_rules,
        )
    elif tab == "private":
        endpoints = await request.config_dict[PRIVATE_ENDPOINTS].all_endpoints()
        context["listeners"] = {e.name: str(e.listener) for e in endpoints}
    else:
        audit = request.config_dict[AUDIT]
        clients = await audit.denied_clients(registry.id)
        recent = await audit.recent(registry.id, CHART_DETAILS)
        context.update(
            clients=[(c, _covering(matcher, c.client)) for c in clients],
            recent=recent[:RECENT_SHOWN],
            chart=chart(recent, utcnow()),
        )
    return render(
        request,
        "networking.html",
        visitor,
        status=status,
        registry=registry,
        tab="networking",
        section=tab,
        error=error,
        premium=registry.sku is Sku.PREMIUM,
        may_write=visitor.can(Permission.WRITE, registry.resource_id),
        may_delete=visitor.can(Permission.DELETE, registry.resource_id),
        access_labels=ACCESS_LABELS,
        **context,
    )


def _covering(matcher: Matcher, address: str) -> str | None:
    """The IP rule that covers `address`, if any (for "rule ... covers it")."""
    try:
        return matcher.matching_rule(parse_client_address(address))
    except ValueError:
        return None


@page
async def networking_page(request: web.Request, visitor: Visitor) -> web.StreamResponse:
    registry = await registry_for(request, visitor)
    tab = request.query.get("tab", "public")
    if tab not in TABS:
        raise web.HTTPSeeOther(path_of(registry))
    return await _render(request, visitor, registry, tab)


async def _writable(
    request: web.Request, visitor: Visitor, permission: Permission = Permission.WRITE
) -> Registry:
    registry = await registry_for(request, visitor)
    if not visitor.can(permission, registry.resource_id):
        raise web.HTTPForbidden(
            text=f"Your roles do not allow changing the network settings of {registry.name}.\n"
        )
    return registry


@page
async def save(request: web.Request, visitor: Visitor) -> web.StreamResponse:
    """Public access, trusted services and the firewall, in one update guarded by the etag."""
    registry = await _writable(request, visitor)
    posted = PublicForm.posted(await request.post())
    if posted.access not in ACCESS:
        return await _render(
            request,
            visitor,
            registry,
            "public",
            form=replace(posted, access=access_of(registry)),
            error="Choose All networks, Selected networks or Disabled.",
            status=400,
        )
    additions, invalid = parse_additions(posted.add)
    if invalid:
        return await _render(
            request,
            visitor,
            registry,
            "public",
            form=replace(posted, invalid=tuple(invalid)),
            error="Nothing was saved: correct the addresses marked below.",
            status=400,
        )
    if posted.add_client:
        additions.append(parse_ip_rule(client_of(request)))
    current = registry.network_rule_set.ip_rules
    rules = new_rules(current, posted.remove, additions)
    public, default = ACCESS[posted.access]
    changes = RegistryChanges(
        public_network_access=public,
        default_action=default,
        network_rule_bypass_options="AzureServices" if posted.trusted else "None",
        # Unchanged rules are left alone (None), so their expiry stays as it is.
        ip_rules=None if [r.value for r in rules] == [r.value for r in current] else tuple(rules),
    )
    try:
        await service(request).update(
            registry.subscription_id,
            registry.resource_group,
            registry.name,
            changes,
            if_match=posted.etag,  # an empty etag matches nothing: refused as stale
        )
    except PreconditionFailed:
        fresh = await registry_for(request, visitor)
        return await _render(
            request,
            visitor,
            fresh,
            "public",
            form=replace(PublicForm.of(fresh), add=posted.add),
            error=(
                f"Nothing was saved: the network settings of {registry.name} were changed "
                "(by someone else, or in another window) since this page was loaded. The "
                "page now shows them as they are; make your change again."
            ),
            status=409,
        )
    except DomainError as e:
        return await _render(
            request,
            visitor,
            registry,
            "public",
            form=posted,
            error=errors.message(e),
            status=errors.status(e),
        )
    added = [r.value for r in rules if r.value not in {c.value for c in current}]
    removed = [r.value for r in current if r.value not in {n.value for n in rules}]
    text = f"Saved: {ACCESS_LABELS[posted.access]}, {len(rules)} IP rule(s)"
    text += f"; added {', '.join(added)}" if added else ""
    text += f"; removed {', '.join(removed)}" if removed else ""
    flash(visitor, "ok", text + ". It applies from the very next request.")
    raise web.HTTPSeeOther(path_of(registry))


@page
async def upgrade(request: web.Request, visitor: Visitor) -> web.StreamResponse:
    registry = await _writable(request, visitor)
    try:
        await service(request).update(
            registry.subscription_id,
            registry.resource_group,
            registry.name,
            RegistryChanges(sku=Sku.PREMIUM),
        )
    except DomainError as e:
        flash(visitor, "error", errors.message(e))
    else:
        flash(visitor, "ok", f"{registry.name} is now Premium: it can have network rules.")
    raise web.HTTPSeeOther(path_of(registry))


CONNECTION_ACTIONS = {
    "approve": (ConnectionStatus.APPROVED, Permission.WRITE),
    "reject": (ConnectionStatus.REJECTED, Permission.WRITE),
    "remove": (None, Permission.DELETE),
}


@page
async def connection(request: web.Request, visitor: Visitor) -> web.StreamResponse:
    """Approve, reject or remove one private endpoint connection of the registry."""
    form = await request.post()
    action = str(form.get("action", ""))
    name = str(form.get("connection", ""))
    if action not in CONNECTION_ACTIONS:
        raise web.HTTPBadRequest(text=f"Unknown action {action!r}.\n")
    status, permission = CONNECTION_ACTIONS[action]
    registry = await _writable(request, visitor, permission)
    endpoints = request.config_dict[PRIVATE_ENDPOINTS]
    try:
        if status is None:
            done = await endpoints.delete_connection(registry, name)
        else:
            done = bool(await endpoints.put_connection(registry, name, status))
    except DomainError as e:
        flash(visitor, "error", errors.message(e))
    else:
        if done:
            what = "removed" if status is None else status.value.lower()
            flash(visitor, "ok", f"Private endpoint connection {name} {what}.")
        else:
            flash(visitor, "error", f"{registry.name} has no private endpoint connection {name!r}.")
    raise web.HTTPSeeOther(path_of(registry, "private"))


@page
async def allow(request: web.Request, visitor: Visitor) -> web.StreamResponse:
    """Let a refused address in: one IP rule added, as `addIpRule` does (the others untouched).

    The access mode is never changed here: on All networks the address is not refused by the
    rules anyway (switching to Selected networks would shut out everyone else), and a public
    endpoint someone Disabled is not opened by one click on a list. The flash says which."""
    registry = await _writable(request, visitor)
    address = str((await request.post()).get("address", ""))
    try:
        value = parse_ip_rule(address)
        updated = await service(request).add_ip_rule(
            registry.subscription_id, registry.resource_group, registry.name, value, None
        )
    except DomainError as e:
        flash(visitor, "error", errors.message(e))
        raise web.HTTPSeeOther(path_of(registry, "refusals")) from None
    mode = access_of(updated)
    if mode == "selected":
        flash(visitor, "ok", f"IP rule {value} added: {value} gets in from the next request.")
    else:
        flash(
            visitor,
            "warn",
            f"IP rule {value} added. Public access is {ACCESS_LABELS[mode]}, left as it is: "
            "the rules apply when Selected networks is chosen on the Public access tab.",
        )
    raise web.HTTPSeeOther(path_of(registry, "refusals"))


def setup(app: web.Application) -> None:
    base = PREFIX + "/registries/{name}/networking"
    app.router.add_get(base, networking_page)
    app.router.add_post(base, save)
    app.router.add_post(base + "/upgrade", upgrade)
    app.router.add_post(base + "/connections", connection)
    app.router.add_post(base + "/allow", allow)
