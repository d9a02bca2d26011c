"""HTTP of the registries' token service: /oauth2/token (GET, POST) and /oauth2/exchange (POST)
on a login server (and on the bare host for the default registry). The logic is in
auth/registry_oauth.py; errors use the registry error body, so container tools print them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from aiohttp import web

from moorage.access.client import client_of
from moorage.auth.callers import Throttled, Unauthorized, basic_credentials
from moorage.auth.registry_oauth import RegistryTokenService
from moorage.distribution import context as ctx
from moorage.distribution.errors import (
    TOOMANYREQUESTS,
    UNAUTHORIZED,
    RegistryError,
    render,
    translate,
)
from moorage.domain.errors import DomainError

TOKENS: Final = web.AppKey("registry_tokens", RegistryTokenService)
API_VERSION = {"Docker-Distribution-API-Version": "registry/2.0"}
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def token_get(request: web.Request) -> web.Response:
    async def answer(service: RegistryTokenService) -> dict[str, Any]:
        basic = None
        header = request.headers.get("Authorization", "").strip()
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "basic":
                raise Unauthorized(
                    f"the token service takes Basic credentials, not {scheme[:20]!r}"
                )
            basic = basic_credentials(value)
        return await service.token_get(
            ctx.registry(request),
            request.query,
            request.query.getall("scope", []),
            basic,
            client_of(request),
        )

    return await _respond(request, answer)


async def token_post(request: web.Request) -> web.Response:
    async def answer(service: RegistryTokenService) -> dict[str, Any]:
        form = await _form(request)
        scopes = [v for k, v in form if k == "scope"]
        return await service.token_post(
            ctx.registry(request), dict(form), scopes, client_of(request)
        )

    return await _respond(request, answer)


async def exchange(request: web.Request) -> web.Response:
    async def answer(service: RegistryTokenService) -> dict[str, Any]:
        return await service.exchange(ctx.registry(request), dict(await _form(request)))

    return await _respond(request, answer)


async def _form(request: web.Request) -> list[tuple[str, str]]:
    data = await request.post()
    return [(k, v) for k, v in data.items() if isinstance(v, str)]


async def _respond(
    request: web.Request,
    answer: Callable[[RegistryTokenService], Awaitable[dict[str, Any]]],
) -> web.Response:
    try:
        body = await answer(request.config_dict[TOKENS])
    except Unauthorized as error:
        response = render(RegistryError(UNAUTHORIZED, error.message))
    except Throttled as error:
        response = render(
            RegistryError(
                TOOMANYREQUESTS,
                error.message,
                headers={"Retry-After": str(error.retry_after)},
            )
        )
    except DomainError as error:
        response = render(translate(error))
    except RegistryError as error:
        response = render(error)
    else:
        response = web.json_response(body)
    response.headers.update({**API_VERSION, **_NO_STORE})
    return response


def token_routes() -> list[tuple[str, str, Callable[[web.Request], Awaitable[web.Response]]]]:
    return [
        ("GET", "/oauth2/token", token_get),
        ("POST", "/oauth2/token", token_post),
        ("POST", "/oauth2/exchange", exchange),
    ]
