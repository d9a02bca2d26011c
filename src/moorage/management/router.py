"""The management API's declarative route table and the one dispatcher that serves it.

Paths of the resource manager are case-insensitive (`resourcegroups` and `resourceGroups` are
the same), so routes are matched here rather than by aiohttp's case-sensitive router. Every
route declares the permission it needs; declaring none is an error at import time (the secure
path is the default), and PUBLIC must be said out loud. The same table builds the OpenAPI
document.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import web
from pydantic import BaseModel, ValidationError

from moorage.auth.bearer import Principal, Unauthenticated, principal_from_request, www_authenticate
from moorage.auth.identity import IDENTITY
from moorage.auth.roles import Permission, allows
from moorage.bodies import read_bounded
from moorage.domain.errors import DomainError, InvalidJson, StorageFull
from moorage.domain.json_input import JsonLimits, parse_json
from moorage.management import errors
from moorage.management.apiversions import Versions
from moorage.store.capacity import report, storage_full

log = logging.getLogger("moorage.management")
BODY_LIMITS: Final = JsonLimits(max_bytes=4 * 1024 * 1024)
"""Every management body (the largest: a registry with thousands of IP rules, ~60 bytes each)."""


class _Open:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


PUBLIC: Final = _Open("PUBLIC")
"""Anyone may call the route (the OpenAPI document)."""
AUTHENTICATED: Final = _Open("AUTHENTICATED")
"""Any valid token; the handler shows only what the caller's roles cover (lists)."""


@dataclass
class ManagementRequest:
    http: web.Request
    params: dict[str, str]
    principal: Principal | None
    body: Any = None

    def header(self, name: str) -> str | None:
        return self.http.headers.get(name)


Handler = Callable[[ManagementRequest], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    permission: Permission | _Open | None
    versions: Versions | None
    summary: str
    body: type[BaseModel] | None = None
    action: bool = False
    """A POST action (listCredentials...): authorised on the resource the action acts on."""
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.permission is None:
            raise TypeError(
                f"management route {self.method} {self.path} declares no permission; "
                "give a Permission, or PUBLIC for an open route"
            )
        pattern = re.sub(
            r"\{(\w+)\}",
            r"(?P<\1>[^/]+)",
            re.escape(self.path).replace(r"\{", "{").replace(r"\}", "}"),
        )
        object.__setattr__(self, "regex", re.compile(f"^{pattern}/?$", re.IGNORECASE))

    def scope(self, path: str) -> str:
        """The resource id the caller's roles must cover."""
        path = path.rstrip("/")
        return path.rsplit("/", 1)[0] if self.action else path


class Router:
    def __init__(self, routes: Collection[Route], audiences: Collection[str]) -> None:
        self.routes = tuple(routes)
        self.audiences = tuple(audiences)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        allowed: list[str] = []
        for route in self.routes:
            found = route.regex.match(path)
            if found is None:
                continue
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return route, found.groupdict()
            allowed.append(route.method)
        if allowed:
            raise errors.ArmError(
                errors.METHOD_NOT_ALLOWED,
                f"The method {method} is not allowed on {path}; use {', '.join(allowed)}.",
                headers={"Allow": ", ".join(allowed)},
            )
        raise errors.ArmError(errors.NOT_FOUND, f"No management endpoint at {path}.")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._dispatch(request)
        except errors.ArmError as e:
            return errors.render(e)
        except DomainError as e:
            if isinstance(e, StorageFull):
                report(e, f"{request.method} {request.path}")
            return errors.render(errors.translate(e))
        except Exception as e:
            full = storage_full(e)
            if full is not None:
                report(full, f"{request.method} {request.path}")
                return errors.render(errors.translate(full))
            log.exception("%s %s failed", request.method, request.path)
            return errors.render(errors.ArmError(errors.INTERNAL_ERROR, "Internal server error."))

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        route, params = self.match(request.method, request.path)
        principal: Principal | None = None
        if route.permission is not PUBLIC:
            identity = request.config_dict[IDENTITY]
            try:
                principal = await principal_from_request(request, identity, self.audiences)
            except Unauthenticated as e:
                raise errors.ArmError(
                    errors.AUTHENTICATION_FAILED,
                    e.message,
                    headers={"WWW-Authenticate": www_authenticate(identity, e.message)},
                ) from None
        if isinstance(route.permission, Permission):
            assert principal is not None
            scope = route.scope(request.path)
            if not allows(principal.roles, route.permission, scope):
                raise errors.ArmError(
                    errors.AUTHORIZATION_FAILED,
                    f"The client '{principal.app_id}' ({principal.display_name}) does not have "
                    f"authorization to perform '{route.permission.value}' over scope '{scope}'; "
                    "its roles there: "
                    + (", ".join(sorted({a.role for a in principal.roles})) or "none"),
                )
        # After authentication: a caller without a token learns that first (401), not which
        # api-versions the resource takes.
        if route.versions is not None:
            _check_version(request, route.versions)
        body = await _body(request, route.body) if route.body is not None else None
        return await route.handler(ManagementRequest(request, params, principal, body))


def _check_version(request: web.Request, versions: Versions) -> None:
    version = request.query.get("api-version")
    if not version:
        raise errors.ArmError(
            errors.MISSING_API_VERSION,
            f"The api-version query parameter (?api-version=) is required for all requests; "
            f"use {versions.describe()}.",
        )
    if not versions.accepts(version):
        raise errors.ArmError(
            errors.INVALID_API_VERSION,
            f"The api-version '{version}' is invalid for {versions.namespace}; "
            f"use {versions.describe()}.",
            target="api-version",
        )


async def _body(request: web.Request, model: type[BaseModel]) -> BaseModel:
    raw = await read_bounded(request, BODY_LIMITS.max_bytes)
    if raw is None:
        raise errors.ArmError(
            errors.REQUEST_TOO_LARGE,
            f"The request content is over the limit of {BODY_LIMITS.max_bytes} bytes.",
        )
    try:
        data = parse_json(raw, BODY_LIMITS, what="The request content") if raw else {}
    except InvalidJson as e:
        raise errors.ArmError(errors.INVALID_REQUEST_CONTENT, f"{e.message}.") from None
    try:
        return model.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        value = first.get("input")
        shown = f" (got {json.dumps(value)[:100]})" if first["type"] != "missing" else ""
        message = str(first["msg"]).removeprefix("Value error, ")
        raise errors.ArmError(
            errors.INVALID_REQUEST_CONTENT, f"{where}: {message}{shown}.", target=where
        ) from None


def json_response(data: Any, status: int = 200, etag: str | None = None) -> web.Response:
    headers = {"ETag": f'"{etag}"'} if etag else None
    return web.json_response(data, status=status, headers=headers)
