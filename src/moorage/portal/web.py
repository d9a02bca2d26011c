"""The portal's plumbing: routes under /portal, sign-in and sessions, CSRF, rendering.

Pages are plain HTML forms that work without JavaScript; htmx (served from /portal/static, no
CDN) makes some of them update in place. Every page acts as the signed-in service principal,
with its roles: a Reader sees and cannot change. The portal answers on the management host
only, never on a login server or a private endpoint.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, urlsplit

import jinja2
from aiohttp import web

from moorage.access.client import client_of
from moorage.access.hosts import registry_name_from_host
from moorage.auth.identity import IDENTITY
from moorage.auth.roles import Permission, RoleAssignment, allows
from moorage.auth.throttle import THROTTLE, LoginThrottle, TooManyFailures, principal_identity
from moorage.portal.sessions import Session, Sessions

log = logging.getLogger("moorage.portal")
PREFIX: Final = "/portal"
COOKIE: Final = "moorage_portal"
HERE = Path(__file__).parent
SESSIONS: Final = web.AppKey("portal_sessions", Sessions)
TEMPLATES: Final = web.AppKey("portal_templates", jinja2.Environment)
SUFFIX: Final = web.AppKey("portal_suffix", str)
OWNER_CREDENTIAL: Final = web.AppKey("portal_owner_credential", Path)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Visitor:
    """The signed-in principal, with the roles it holds now."""

    session: Session
    app_id: str
    display_name: str
    roles: tuple[RoleAssignment, ...]

    def can(self, permission: Permission, resource_id: str) -> bool:
        return allows(self.roles, permission, resource_id)


def setup(app: web.Application, suffix: str, owner_credential: Path) -> None:
    """Add the portal's routes and state to the application. Its sessions (`SESSIONS`) live in
    the metadata store, which opens later: the application's start-up sets them. The sign-in
    page names the owner credential's file (`owner_credential`), where a new user finds it."""
    if THROTTLE not in app:  # the application's own, shared with the other sign-ins
        app[THROTTLE] = LoginThrottle()
    app[SUFFIX] = suffix
    app[OWNER_CREDENTIAL] = owner_credential
    app[TEMPLATES] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    app.router.add_get("/", _home)  # the management host's root leads to the portal
    app.router.add_get(PREFIX, _home)
    app.router.add_get(PREFIX + "/", _home)
    app.router.add_get(PREFIX + "/signin", signin_page)
    app.router.add_post(PREFIX + "/signin", signin)
    app.router.add_post(PREFIX + "/signout", signout)
    app.router.add_static(
        PREFIX + "/static", HERE / "static", name="portal_static", append_version=True
    )


def on_management_host(request: web.Request) -> None:
    if registry_name_from_host(request.host, request.config_dict[SUFFIX]) is not None:
        raise web.HTTPNotFound()


async def visitor_of(request: web.Request) -> Visitor | None:
    sessions = request.config_dict[SESSIONS]
    session = await sessions.get(request.cookies.get(COOKIE))
    if session is None:
        return None
    identity = request.config_dict[IDENTITY]
    principal = await identity.principals.get(session.app_id)
    if principal is None:  # deleted since: its sessions end with it
        await sessions.end(session.id)
        return None
    roles = tuple(await identity.principals.assignments(principal.app_id))
    return Visitor(session, principal.app_id, principal.display_name, roles)


VisitorHandler = Callable[[web.Request, Visitor], Awaitable[web.StreamResponse]]


def page(handler: VisitorHandler) -> Handler:
    """A portal page: signed in (else to the sign-in page), on the management host, and for a
    POST a valid CSRF token."""

    @functools.wraps(handler)
    async def run(request: web.Request) -> web.StreamResponse:
        on_management_host(request)
        visitor = await visitor_of(request)
        if visitor is None:
            if request.method != "GET":
                raise web.HTTPUnauthorized(text="Your session has ended; sign in again.\n")
            target = quote(request.path_qs, safe="")
            raise web.HTTPSeeOther(f"{PREFIX}/signin?next={target}")
        if request.method != "GET":
            form = await request.post()
            token = form.get("csrf") or request.headers.get("X-CSRF-Token")
            if not visitor.session.csrf_ok(token if isinstance(token, str) else None):
                raise web.HTTPForbidden(
                    text="The form's security token is missing or stale; reload the page.\n"
                )
        return await handler(request, visitor)

    return run


def render(
    request: web.Request,
    template: str,
    visitor: Visitor | None,
    *,
    status: int = 200,
    **context: Any,
) -> web.Response:
    env = request.config_dict[TEMPLATES]
    flash: list[tuple[str, str]] = []
    if visitor is not None:
        flash = request.config_dict[SESSIONS].take_flash(visitor.session)
    html = env.get_template(template).render(
        visitor=visitor,
        csrf=visitor.session.csrf if visitor else "",
        flash=flash,
        path=request.path,
        static=lambda name: str(request.app.router["portal_static"].url_for(filename=name)),
        **context,
    )
    response = web.Response(text=html, content_type="text/html", status=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    )
    return response


def flash(visitor: Visitor, kind: str, text: str) -> None:
    visitor.session.flash.append((kind, text))


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a portal path only (never another site)."""
    if not target:
        return PREFIX + "/registries"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(PREFIX + "/"):
        return PREFIX + "/registries"
    return target


async def _home(request: web.Request) -> web.StreamResponse:
    on_management_host(request)
    raise web.HTTPSeeOther(PREFIX + "/registries")  # and from there to sign in, when signed out


async def signin_page(request: web.Request) -> web.StreamResponse:
    on_management_host(request)
    return _signin_form(request, 200, safe_next(request.query.get("next")), "", None)


def _signin_form(
    request: web.Request, status: int, target: str, client_id: str, error: str | None
) -> web.Response:
    return render(
        request,
        "signin.html",
        None,
        status=status,
        next=target,
        client_id=client_id,
        error=error,
        owner_credential=str(request.config_dict[OWNER_CREDENTIAL]),
    )


async def signin(request: web.Request) -> web.StreamResponse:
    on_management_host(request)
    form = await request.post()
    client_id = str(form.get("client_id", "")).strip()
    secret = str(form.get("client_secret", ""))
    target = safe_next(str(form.get("next", "")))
    throttle = request.config_dict[THROTTLE]
    client = client_of(request)
    identity = principal_identity(client_id)
    async with throttle.turn(client, identity):
        try:
            with throttle.attempt(client, identity) as attempt:
                principal = None
                if client_id and secret:
                    identities = request.config_dict[IDENTITY]
                    principal = await identities.principals.authenticate(client_id, secret)
                if principal is None:
                    attempt.failed()
                    error = "The client id (appId) or the secret is wrong."
                    return _signin_form(request, 401, target, client_id, error)
                attempt.succeeded()
        except TooManyFailures as refused:
            error = f"Too many failed sign-ins from {client}; try again in {refused.retry_after} s."
            return _signin_form(request, 429, target, client_id, error)
    session = await request.config_dict[SESSIONS].start(principal.app_id, principal.display_name)
    response = web.HTTPSeeOther(target)
    response.set_cookie(
        COOKIE,
        session.id,
        httponly=True,
        samesite="Strict",
        secure=request.secure,
        path=PREFIX,
    )
    log.info("portal: %s signed in from %s", principal.app_id, client)
    raise response


@page
async def signout(request: web.Request, visitor: Visitor) -> web.StreamResponse:
    await request.config_dict[SESSIONS].end(visitor.session.id)
    response = web.HTTPSeeOther(PREFIX + "/signin")
    response.del_cookie(COOKIE, path=PREFIX)
    raise response
