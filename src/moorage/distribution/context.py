"""The shared step of every /v2 handler: which registry, which repository, what digest.

Handlers only translate HTTP to a service call; this module turns a request into validated
values, and raises domain errors that the error middleware renders.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Final

from aiohttp import web

from moorage.access.hosts import RegistryResolver
from moorage.distribution.service import RegistryContent
from moorage.domain.digest import Digest
from moorage.domain.errors import InvalidPagination, InvalidRange, SizeMismatch
from moorage.domain.names import check_repository
from moorage.domain.registry import Registry

CONTENT: Final = web.AppKey("content", RegistryContent)
RESOLVER: Final = web.AppKey("resolver", RegistryResolver)
REGISTRY_KEY: Final = web.RequestKey("registry", Registry)
MAX_PAGE: Final = 10_000

_CONTENT_RANGE = re.compile(r"^(?:bytes[ =])?(\d+)-(\d+)(?:/(?:\d+|\*))?$")


def content(request: web.Request) -> RegistryContent:
    return request.config_dict[CONTENT]


def registry(request: web.Request) -> Registry:
    return request[REGISTRY_KEY]


def repository(request: web.Request) -> str:
    return check_repository(request.match_info["name"])


def digest(request: web.Request, key: str = "digest") -> Digest:
    return Digest.parse(request.match_info[key])


def body(request: web.Request) -> AsyncIterator[bytes]:
    return request.content.iter_any()


def content_range(request: web.Request) -> tuple[int | None, int | None]:
    """(start, length) of Content-Range, checked against Content-Length; (None, None) if none."""
    header = request.headers.get("Content-Range")
    if header is None:
        return None, None
    match = _CONTENT_RANGE.match(header.strip())
    if match is None:
        raise InvalidRange(f"Content-Range {header!r} is not '<start>-<end>'", range=header)
    start, end = int(match[1]), int(match[2])
    if end < start:
        raise InvalidRange(f"Content-Range {header!r} ends before it starts", range=header)
    length = end - start + 1
    declared = request.content_length
    if declared is not None and declared != length:
        raise SizeMismatch(  # SIZE_INVALID: the range is well-formed, the lengths disagree
            f"Content-Range {header!r} is {length} bytes but Content-Length is {declared}",
            range=header,
            declared=declared,
        )
    return start, length


def page(request: web.Request) -> tuple[int | None, str | None]:
    """The `n` and `last` pagination parameters of tags/list and _catalog."""
    raw = request.query.get("n")
    limit: int | None = None
    if raw is not None:
        if not raw.isdigit() or int(raw) > MAX_PAGE:
            raise InvalidPagination(
                f"n must be an integer from 0 to {MAX_PAGE}, got {raw!r}", n=raw
            )
        limit = int(raw)
    return limit, request.query.get("last") or None


def paginate(
    request: web.Request, limit: int | None, names: list[str]
) -> tuple[list[str], dict[str, str]]:
    """Trim a page fetched with one extra row; add the Link header when more follow."""
    if limit is None or len(names) <= limit:
        return names, {}
    if limit == 0:  # n=0: an empty page, and no last entry to continue from
        return [], {}
    names = names[:limit]
    url = request.rel_url.with_query({"n": str(limit), "last": names[-1]})
    return names, {"Link": f'<{url}>; rel="next"'}


def fetch_size(limit: int | None) -> int | None:
    """How many rows to ask for: one more than the page, to know whether another follows."""
    return None if limit is None else limit + 1


def upload_headers(name: str, upload_id: str, size: int) -> dict[str, str]:
    """Location and Range of an upload, as every upload response carries them."""
    return {
        "Location": f"/v2/{name}/blobs/uploads/{upload_id}",
        "Range": f"0-{max(size - 1, 0)}",
        "Docker-Upload-UUID": upload_id,
        "Blob-Upload-Session-ID": upload_id,
        "Content-Length": "0",
    }
