"""The /v2 route table and the middlewares every /v2 request passes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

from moorage.distribution import base, blobs, catalog, manifests, referrers, tags, uploads
from moorage.distribution.authz import CATALOG, SIGNED_IN, Need, authorized
from moorage.distribution.errors import (
    BLOB_UPLOAD_INVALID,
    UNKNOWN,
    UNSUPPORTED,
    RegistryError,
    render,
    translate,
)
from moorage.domain.access import Action
from moorage.domain.errors import DomainError, StorageFull
from moorage.store.capacity import report, storage_full

log = logging.getLogger("moorage.distribution")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

NAME: Final = "{name:.+}"
API_VERSION = {"Docker-Distribution-API-Version": "registry/2.0"}

# (method, path under /v2, handler, what the caller must hold). Order matters: uploads
# before blobs/<digest>. A repository action applies to the route's {name}.
PULL, PUSH, DELETE = Action.PULL, Action.PUSH, Action.DELETE
ROUTES: Final[tuple[tuple[str, str, Handler, Need], ...]] = (
    ("GET", "/", base.version, SIGNED_IN),
    ("GET", "/_catalog", catalog.list_repositories, CATALOG),
    ("GET", f"/{NAME}/tags/list", tags.list_tags, PULL),
    ("GET", f"/{NAME}/manifests/{{reference}}", manifests.get, PULL),
    ("PUT", f"/{NAME}/manifests/{{reference}}", manifests.put, PUSH),
    ("DELETE", f"/{NAME}/manifests/{{reference}}", manifests.delete, DELETE),
    ("POST", f"/{NAME}/blobs/uploads/", uploads.start, PUSH),
    ("POST", f"/{NAME}/blobs/uploads", uploads.start, PUSH),
    ("GET", f"/{NAME}/blobs/uploads/{{upload_id}}", uploads.status, PUSH),
    ("PATCH", f"/{NAME}/blobs/uploads/{{upload_id}}", uploads.patch, PUSH),
    ("PUT", f"/{NAME}/blobs/uploads/{{upload_id}}", uploads.put, PUSH),
    ("DELETE", f"/{NAME}/blobs/uploads/{{upload_id}}", uploads.cancel, PUSH),
    ("GET", f"/{NAME}/blobs/{{digest}}", blobs.get, PULL),
    ("DELETE", f"/{NAME}/blobs/{{digest}}", blobs.delete, DELETE),
    ("GET", f"/{NAME}/referrers/{{digest}}", referrers.list_referrers, PULL),
)


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render every failure as the spec's error body, with the API version header."""
    try:
        response = await handler(request)
    except RegistryError as e:
        response = render(e)
    except DomainError as e:
        if isinstance(e, StorageFull):
            report(e, f"{request.method} {request.path}")
        response = render(translate(e))
    except web.HTTPMethodNotAllowed as e:
        response = render(RegistryError(UNSUPPORTED, f"{request.method} is not supported here"))
        response.headers["Allow"] = ",".join(sorted(e.allowed_methods))
    except web.HTTPNotFound:
        response = render(RegistryError(UNSUPPORTED, f"no such endpoint: {request.path}"))
        response.set_status(404)
    except web.HTTPException:
        raise
    except ConnectionError as e:
        # The client went away mid-request: nobody is left to answer, and the server is fine.
        log.info("%s %s: client disconnected: %s", request.method, request.path, e)
        response = render(RegistryError(BLOB_UPLOAD_INVALID, "the client disconnected"))
    except Exception as e:
        full = storage_full(e)
        if full is None:
            log.exception("%s %s failed", request.method, request.path)
            response = render(RegistryError(UNKNOWN))
        else:
            report(full, f"{request.method} {request.path}")
            response = render(translate(full))
    if not response.prepared:
        response.headers.update(API_VERSION)
    return response


def create_v2_app() -> web.Application:
    app = web.Application(middlewares=[errors])  # the gate resolved the registry
    for method, path, handler, need in ROUTES:
        if method == "GET":  # HEAD too, answered by the same handler
            app.router.add_get(path, authorized(need, handler))
        else:
            app.router.add_route(method, path, authorized(need, handler))
    return app
