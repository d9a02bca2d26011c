"""Azure Container Registry's metadata API under /acr/v1, as the azure-containerregistry SDK
and `az acr repository` use it: list repositories, tags and manifests with their properties,
show one, delete a repository or a tag.

Shapes are those of the ACR data-plane REST spec (2021-07-01). `{name}` is a repository name
with slashes, as in /v2; its path components never start with "_", so `a/_tags` is always the
tags route of repository `a`. Listings page with `n` and `last` (100 entries when `n` is not
given, at most 1000: a larger `n` gets 1000) and a `Link: <...>; rel="next"` header that keeps
the other query parameters.

Not stored (yet), and so answered as follows:
- changeableAttributes are always all true: there are no per-repository, tag or manifest locks.
  A PATCH that asks for all true changes nothing and answers the current properties; any other
  change answers 405 UNSUPPORTED.
- A tag keeps one time (when it last moved) and a manifest one (when it was pushed): each is
  both its createdTime and lastUpdateTime.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

from aiohttp import web

from moorage.bodies import read_bounded
from moorage.distribution import authz
from moorage.distribution import context as ctx
from moorage.distribution.authz import CATALOG, Need, authorized
from moorage.distribution.errors import UNSUPPORTED, RegistryError
from moorage.distribution.routes import Handler, errors
from moorage.distribution.service import RegistryContent
from moorage.domain.access import Action
from moorage.domain.digest import Digest, is_digest
from moorage.domain.errors import DomainError, InvalidJson, ManifestNotFound, RepositoryNotFound
from moorage.domain.json_input import JsonLimits, parse_json
from moorage.domain.manifest import INDEX_KINDS
from moorage.domain.names import check_tag
from moorage.domain.registry import Registry
from moorage.store.content import ContentStore
from moorage.store.listings import ContentListings, ManifestDetail, TagDetail, TimeOrder

NAME: Final = "{name:[^_/][^/]*(?:/[^_/][^/]*)*}"
DEFAULT_PAGE: Final = 100
MAX_PAGE: Final = 1000
CHANGEABLE: Final = {
    "deleteEnabled": True,
    "writeEnabled": True,
    "readEnabled": True,
    "listEnabled": True,
}
IMAGE_CONFIGS: Final = frozenset(
    {"application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"}
)
MAX_CONFIG_BYTES: Final = 256 * 1024  # larger configs are not read for their platform
STORED_LIMITS: Final = JsonLimits(max_bytes=64 * 1024 * 1024)
PATCH_LIMITS: Final = JsonLimits(max_bytes=1024 * 1024)
CONFIG_READS: Final = 8  # config blobs read at once for one listing
T = TypeVar("T")


# -- repositories ---------------------------------------------------------------------------


async def list_repositories(request: web.Request) -> web.Response:
    registry, (limit, last) = ctx.registry(request), _page(request)
    patterns = authz.caller(request).catalog_patterns()  # only what the caller may see
    found = await _store(request).catalog(registry.id, limit + 1, last, patterns)
    names, headers = _paginate(request, limit, found, str)
    return web.json_response({"repositories": names}, headers=headers)


async def get_repository(request: web.Request) -> web.Response:
    registry, name = ctx.registry(request), ctx.repository(request)
    stats = await _listings(request).repository_stats(registry.id, name)
    if stats is None:
        raise _no_repository(registry, name)
    return web.json_response(
        {
            **_image(registry, name),
            "createdTime": _time(stats.created_at),
            "lastUpdateTime": _time(stats.updated_at),
            "manifestCount": stats.manifest_count,
            "tagCount": stats.tag_count,
            "changeableAttributes": dict(CHANGEABLE),
        }
    )


async def delete_repository(request: web.Request) -> web.Response:
    registry, name = ctx.registry(request), ctx.repository(request)
    deleted = await _store(request).delete_repository(registry.id, name)
    if deleted is None:
        raise _no_repository(registry, name)
    body = {"manifestsDeleted": list(deleted.manifests), "tagsDeleted": list(deleted.tags)}
    return web.json_response(body, status=202)


# -- tags -----------------------------------------------------------------------------------


async def list_tags(request: web.Request) -> web.Response:
    registry, name, (limit, last) = ctx.registry(request), ctx.repository(request), _page(request)
    digest = request.query.get("digest") or None
    if digest is not None:
        digest = str(Digest.parse(digest))
    listings = _listings(request)
    found = await listings.tag_details(registry.id, name, limit + 1, last, _order(request), digest)
    if found is None:
        raise _no_repository(registry, name)
    page, headers = _paginate(request, limit, found, lambda t: t.name)
    body = {**_image(registry, name), "tags": [_tag(t) for t in page]}
    return web.json_response(body, headers=headers)


async def get_tag(request: web.Request) -> web.Response:
    registry, name = ctx.registry(request), ctx.repository(request)
    tag = check_tag(request.match_info["reference"])
    found = await _listings(request).tag_detail(registry.id, name, tag)
    if found is None:
        raise await _unknown(request, registry, name, tag)
    return web.json_response({**_image(registry, name), "tag": _tag(found)})


async def delete_tag(request: web.Request) -> web.Response:
    registry, name = ctx.registry(request), ctx.repository(request)
    tag = check_tag(request.match_info["reference"])
    if not await _store(request).delete_tag(registry.id, name, tag):
        raise await _unknown(request, registry, name, tag)
    return web.Response(status=202, headers={"Content-Length": "0"})


# -- manifests ------------------------------------------------------------------------------


async def list_manifests(request: web.Request) -> web.Response:
    registry, name, (limit, last) = ctx.registry(request), ctx.repository(request), _page(request)
    service = ctx.content(request)
    found = await service.listings.manifest_details(
        registry.id, name, limit + 1, last, _order(request)
    )
    if found is None:
        raise _no_repository(registry, name)
    page, headers = _paginate(request, limit, found, lambda m: m.digest)
    body = {**_image(registry, name), "manifests": await _manifests(service, page)}
    return web.json_response(body, headers=headers)


async def get_manifest(request: web.Request) -> web.Response:
    """By digest, as the spec says; a tag is taken too (the SDK resolves tags first)."""
    registry, name = ctx.registry(request), ctx.repository(request)
    reference = request.match_info["digest"]
    reference = str(Digest.parse(reference)) if is_digest(reference) else check_tag(reference)
    service = ctx.content(request)
    found = await service.listings.manifest_detail(registry.id, name, reference)
    if found is None:
        raise await _unknown(request, registry, name, reference)
    [manifest] = await _manifests(service, [found])
    return web.json_response({**_image(registry, name), "manifest": manifest})


def unchangeable(show: Handler) -> Handler:
    """PATCH of changeableAttributes: nothing can change yet (no locks are stored)."""

    async def update(request: web.Request) -> web.StreamResponse:
        current = await show(request)  # 404 first when there is nothing to change
        raw = await read_bounded(request, PATCH_LIMITS.max_bytes)
        if raw is None:
            raise InvalidJson(
                f"the request body is over the limit of {PATCH_LIMITS.max_bytes} bytes",
                problem="too large",
            )
        wanted = parse_json(raw, PATCH_LIMITS) if raw else None
        if isinstance(wanted, dict) and all(wanted.get(k, True) is True for k in CHANGEABLE):
            return current  # asks for what already holds
        raise RegistryError(
            UNSUPPORTED,
            "changeableAttributes cannot be changed: moorage has no repository, tag or "
            "manifest locks yet, so deleteEnabled, writeEnabled, readEnabled and listEnabled "
            "are always true",
            {"changeableAttributes": dict(CHANGEABLE)},
        )

    update.__name__ = f"update_{show.__name__}"
    return update


# -- shapes and shared steps ----------------------------------------------------------------


def _store(request: web.Request) -> ContentStore:
    return ctx.content(request).content


def _listings(request: web.Request) -> ContentListings:
    return ctx.content(request).listings


def _page(request: web.Request) -> tuple[int, str | None]:
    limit, last = ctx.page(request)
    return (DEFAULT_PAGE if limit is None else min(limit, MAX_PAGE)), last


def _order(request: web.Request) -> TimeOrder | None:
    raw = request.query.get("orderby", "").strip().lower()
    if raw in ("", "none"):
        return None
    if raw == "timeasc":
        return "timeasc"
    if raw == "timedesc":
        return "timedesc"
    raise RegistryError(
        UNSUPPORTED,
        f"orderby must be timedesc, timeasc or none, got {raw[:40]!r}",
        {"orderby": raw},
    )


def _paginate(
    request: web.Request, limit: int, found: list[T], key: Callable[[T], str]
) -> tuple[list[T], dict[str, str]]:
    """Trim a page fetched with one extra entry; link the next page when there is one."""
    if len(found) <= limit or limit == 0:
        return found[:limit], {}
    page = found[:limit]
    query = {"last": key(page[-1]), "n": str(limit)}
    query |= {k: v for k in ("orderby", "digest") if (v := request.query.get(k))}
    return page, {"Link": f'<{request.rel_url.with_query(query)}>; rel="next"'}


def _no_repository(registry: Registry, name: str) -> RepositoryNotFound:
    return RepositoryNotFound(f"repository {name} is not in registry {registry.name}", name=name)


async def _unknown(
    request: web.Request, registry: Registry, name: str, reference: str
) -> DomainError:
    """NAME_UNKNOWN when the repository is missing, else MANIFEST_UNKNOWN."""
    if await _listings(request).repository_stats(registry.id, name) is None:
        return _no_repository(registry, name)
    return ManifestNotFound(
        f"{reference} is not in repository {name}", name=name, reference=reference
    )


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _image(registry: Registry, name: str) -> dict[str, str]:
    return {"registry": registry.login_server, "imageName": name}


def _tag(tag: TagDetail) -> dict[str, Any]:
    return {
        "name": tag.name,
        "digest": tag.digest,
        "createdTime": _time(tag.updated_at),
        "lastUpdateTime": _time(tag.updated_at),
        "signed": False,
        "changeableAttributes": dict(CHANGEABLE),
    }


async def _manifests(
    service: RegistryContent, found: Sequence[ManifestDetail]
) -> list[dict[str, Any]]:
    reads = asyncio.Semaphore(CONFIG_READS)

    async def platform(manifest: ManifestDetail) -> dict[str, Any]:
        async with reads:
            return await _platform(service, manifest)

    platforms = await asyncio.gather(*(platform(m) for m in found))
    return [
        {
            "digest": m.digest,
            "imageSize": m.size,
            "createdTime": _time(m.created_at),
            "lastUpdateTime": _time(m.created_at),
            "mediaType": m.media_type,
            **platform,
            "tags": list(m.tags),
            "changeableAttributes": dict(CHANGEABLE),
        }
        for m, platform in zip(found, platforms, strict=True)
    ]


async def _platform(service: RegistryContent, manifest: ManifestDetail) -> dict[str, Any]:
    """architecture/os from an image's config, configMediaType; an index's references with
    the platform each entry declares. Whatever cannot be read is left out (a manifest over
    the store's LISTED_PAYLOAD_BYTES comes without its bytes)."""
    try:  # stored bytes are read as warily as a request's: a bad one must not break a list
        doc = parse_json(manifest.payload, STORED_LIMITS, what="the stored manifest")
    except InvalidJson:
        return {}
    if not isinstance(doc, dict):
        return {}
    if manifest.media_type in INDEX_KINDS:
        entries = doc.get("manifests")
        refs = (
            [_reference(e) for e in entries if isinstance(e, dict)]
            if isinstance(entries, list)
            else []
        )
        return {"references": [r for r in refs if r]}
    config = doc.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("mediaType"), str):
        return {}
    found: dict[str, Any] = {"configMediaType": config["mediaType"]}
    size = config.get("size")
    if (
        config["mediaType"] in IMAGE_CONFIGS
        and isinstance(size, int)
        and 0 <= size <= MAX_CONFIG_BYTES
    ):
        try:
            digest = str(Digest.parse(str(config.get("digest"))))
            data = b"".join([c async for c in service.driver.reader(digest, 0, size)])
            image = parse_json(data, STORED_LIMITS, what="the image config")
        except (DomainError, OSError):
            return found
        if isinstance(image, dict):
            found |= {k: image[k] for k in ("architecture", "os") if isinstance(image.get(k), str)}
    return found


def _reference(entry: dict[str, Any]) -> dict[str, str]:
    if not isinstance(entry.get("digest"), str):
        return {}
    platform = entry.get("platform")
    found = {"digest": entry["digest"]}
    if isinstance(platform, dict):
        found |= {
            k: platform[k] for k in ("architecture", "os") if isinstance(platform.get(k), str)
        }
    return found


# -- routes ---------------------------------------------------------------------------------

READ, WRITE, DELETE = Action.METADATA_READ, Action.METADATA_WRITE, Action.DELETE
# (method, path under /acr/v1, handler, what the caller must hold); one path's methods together.
ACR_ROUTES: Final[tuple[tuple[str, str, Handler, Need], ...]] = (
    ("GET", "/_catalog", list_repositories, CATALOG),
    ("GET", f"/{NAME}/_tags/{{reference}}", get_tag, READ),
    ("PATCH", f"/{NAME}/_tags/{{reference}}", unchangeable(get_tag), WRITE),
    ("DELETE", f"/{NAME}/_tags/{{reference}}", delete_tag, DELETE),
    ("GET", f"/{NAME}/_tags", list_tags, READ),
    ("GET", f"/{NAME}/_manifests/{{digest}}", get_manifest, READ),
    ("PATCH", f"/{NAME}/_manifests/{{digest}}", unchangeable(get_manifest), WRITE),
    ("GET", f"/{NAME}/_manifests", list_manifests, READ),
    ("GET", f"/{NAME}", get_repository, READ),
    ("PATCH", f"/{NAME}", unchangeable(get_repository), WRITE),
    ("DELETE", f"/{NAME}", delete_repository, DELETE),
)


def create_acr_app() -> web.Application:
    """The /acr/v1 sub-application; the network gate in front has resolved the registry."""
    app = web.Application(middlewares=[errors])
    for method, path, handler, need in ACR_ROUTES:
        if method == "GET":  # HEAD too, answered by the same handler
            app.router.add_get(path, authorized(need, handler))
        else:
            app.router.add_route(method, path, authorized(need, handler))
    return app
