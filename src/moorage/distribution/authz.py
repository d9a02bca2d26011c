"""Authentication and authorization of every registry route (/v2 and /acr/v1).

Each route declares what its caller must hold (`Need`); `authorized()` wraps its handler so
that nothing runs before the caller is known and allowed. The network gate has already run.

- No credentials: 401 UNAUTHORIZED with the Bearer challenge that sends clients to the token
  service (realm, service, and the scope the route needs), as the token specification says.
  With anonymous pull on, pull routes answer without credentials (GET /v2/ still challenges,
  so clients that hold credentials learn where to use them).
- Basic credentials are checked directly (admin user, token, service principal).
- A Bearer token is checked (signature, expiry, registry) and must grant the route's action;
  a token that grants less answers 401 with error="insufficient_scope" and the scope to ask.
- Too many failed logins from one address: 429 TOOMANYREQUESTS with Retry-After.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

from aiohttp import web

from moorage.access.client import client_of
from moorage.auth.callers import Caller, Throttled, Unauthorized, anonymous, basic_credentials
from moorage.auth.dataplane import AUTHENTICATOR
from moorage.distribution import context as ctx
from moorage.distribution.errors import DENIED, TOOMANYREQUESTS, UNAUTHORIZED, RegistryError
from moorage.domain.access import Action
from moorage.domain.names import check_repository
from moorage.domain.registry import Registry

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SIGNED_IN: Final = "signed-in"
"""Any identity the registry knows (GET /v2/)."""
CATALOG: Final = "catalog"
"""The repository listing (`registry:catalog:*`)."""
Need = Action | str
CALLER_KEY: Final = web.RequestKey("caller", Caller)

_SCOPE_ACTIONS: dict[Action, str] = {
    Action.PULL: "pull",
    Action.PUSH: "pull,push",
    Action.DELETE: "delete",
    Action.METADATA_READ: "metadata_read",
    Action.METADATA_WRITE: "metadata_write",
}
_WRITES: Final = frozenset({Action.PUSH, Action.DELETE, Action.METADATA_WRITE})
_VERBS: dict[Action, str] = {
    Action.PULL: "pull from",
    Action.PUSH: "push to",
    Action.DELETE: "delete from",
    Action.METADATA_READ: "read the metadata of",
    Action.METADATA_WRITE: "change the metadata of",
}


def authorized(need: Need, handler: Handler) -> Handler:
    """`handler`, run only for a caller that holds `need`."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        request[CALLER_KEY] = await authorize(request, need)
        return await handler(request)

    return guarded


def caller(request: web.Request) -> Caller:
    return request[CALLER_KEY]


async def identify(request: web.Request, registry: Registry) -> Caller | None:
    """The caller the Authorization header proves; None when there is none."""
    header = request.headers.get("Authorization")
    if header is None or not header.strip():
        return None
    scheme, _, value = header.strip().partition(" ")
    authenticator = request.config_dict[AUTHENTICATOR]
    if scheme.lower() == "bearer" and value.strip():
        return await authenticator.from_access_token(registry, value.strip())
    if scheme.lower() == "basic":
        username, password = basic_credentials(value)
        return await authenticator.login(registry, username, password, client_of(request))
    raise Unauthorized(
        f"the Authorization header uses the {scheme[:20]!r} scheme; send Basic credentials "
        "or a Bearer token from the registry's token service"
    )


async def authorize(request: web.Request, need: Need) -> Caller:
    registry = ctx.registry(request)
    repository = None
    if isinstance(need, Action):
        repository = check_repository(request.match_info["name"])  # NAME_INVALID before all
    try:
        found = await identify(request, registry)
    except Unauthorized as error:
        raise challenge(
            request, registry, need, repository, error.message, "invalid_token"
        ) from None
    except Throttled as error:
        raise RegistryError(
            TOOMANYREQUESTS,
            error.message,
            headers={"Retry-After": str(error.retry_after)},
        ) from None
    if found is None:
        if need is Action.PULL:
            found = anonymous(registry)
        if found is None:
            raise challenge(
                request,
                registry,
                need,
                repository,
                f"authentication required: log in to {registry.login_server} first "
                f"(e.g. `podman login {request.host}`)",
                None,
            )
    if _holds(found, need, repository):
        return found
    refusal = challenge(
        request,
        registry,
        need,
        repository,
        f"{found.describe()} may not {_what(_meant(found, need, repository), repository)} "
        f"in registry {registry.name!r}",
        "insufficient_scope",
    )
    if found.access is not None and need in _WRITES:
        # A token that lacks a write: 403 with the challenge naming the scope to ask for. Clients
        # that reuse their token after a 401 (oras-py) ask for a new one only after a 403; the
        # Go tools ask for push up front and print the 403's body as they did the 401's.
        refusal = RegistryError(DENIED, refusal.message, refusal.detail, refusal.headers)
    raise refusal


def _holds(found: Caller, need: Need, repository: str | None) -> bool:
    if need == SIGNED_IN:
        return True
    if need == CATALOG:
        return found.may_list()
    assert isinstance(need, Action) and repository is not None
    return found.may(need, repository)


def _meant(found: Caller, need: Need, repository: str | None) -> Need:
    """The action to name in a refusal: a pull refused on the way to a push (the tools first
    ask whether the blob is there) names the push the token was asked for and refused."""
    if need is Action.PULL and repository is not None:
        return found.meant(repository) or need
    return need


def _what(need: Need, repository: str | None) -> str:
    if isinstance(need, Action):
        return f"{_VERBS[need]} repository {repository!r}"
    if need == CATALOG:
        return "list the repositories"
    return "use this registry"


def scope_for(need: Need, repository: str | None) -> str | None:
    if isinstance(need, Action):
        return f"repository:{repository}:{_SCOPE_ACTIONS[need]}"
    if need == CATALOG:
        return "registry:catalog:*"
    return None


def challenge(
    request: web.Request,
    registry: Registry,
    need: Need,
    repository: str | None,
    message: str,
    error: str | None,
    also: Sequence[str] = (),
) -> RegistryError:
    """401 with the Bearer challenge that tells the client where to get which token (the
    route's scope, and `also` those the request needs beyond it)."""
    host = request.host.replace('"', "").replace("\\", "")  # the client's own header
    parts = [
        f'realm="{request.scheme}://{host}/oauth2/token"',
        f'service="{registry.login_server}"',
    ]
    scopes = [s for s in (scope_for(need, repository), *also) if s is not None]
    detail: list[dict[str, str]] = []
    if scopes:
        parts.append(f'scope="{" ".join(scopes)}"')
        for scope in scopes:
            kind, rest = scope.split(":", 1)
            name, actions = rest.rsplit(":", 1)
            detail.append({"Type": kind, "Name": name, "Action": actions})
    if error is not None:
        # Go clients print a HEAD answer's reason from here (it has no body).
        description = " ".join(message.replace('"', "'").replace("\\", "/").split())
        parts.append(f'error="{error}",error_description="{description}"')
    return RegistryError(
        UNAUTHORIZED,
        message,
        detail,
        headers={"WWW-Authenticate": "Bearer " + ",".join(parts)},
    )
