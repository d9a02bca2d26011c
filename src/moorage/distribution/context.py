"""The shared step of every /v2 handler: which registry, which repository, what digest.

Handlers only translate HTTP to a service call; this module turns a request into validated
values, and raises domain errors that the error middleware renders.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Final

from aiohttp import web

from moorage.access.gate import REGISTRY_KEY
from moorage.access.hosts import RegistryResolver
from moorage.distribution.errors import RANGE_INVALID, RegistryError
from moorage.distribution.service import RegistryContent
from moorage.domain.digest import Digest
from moorage.domain.errors import InvalidPagination, InvalidRange, SizeMismatch
from moorage.domain.names import check_repository
from moorage.domain.registry import Registry

CONTENT: Final = web.AppKey("content", RegistryContent)
RESOLVER: Final = web.AppKey("resolver", RegistryResolver)
MAX_PAGE: Final = 10_000

# Offsets of at most 19 digits (int64): a longer number is no offset, and int() of thousands
# of digits fails in Python itself. ASCII digits only (str.isdigit() also takes '²').
_CONTENT_RANGE = re.compile(r"^(?:bytes[ =])?([0-9]{1,19})-([0-9]{1,19})(?:/([0-9]{1,19}|\*))?$")
_PAGE_SIZE = re.compile(r"^[0-9]{1,9}$")
_EMPTY_SUFFIX = re.compile(r"^\s*bytes\s*=\s*-\s*0+\s*$", re.IGNORECASE)


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
    if match[3] not in (None, "*") and end >= int(match[3]):
        raise InvalidRange(
            f"Content-Range {header!r} ends past the total length it declares", range=header
        )
    length = end - start + 1
    declared = request.content_length
    if declared is not None and declared != length:
        raise SizeMismatch(  # SIZE_INVALID: the range is well-formed, the lengths disagree
            f"Content-Range {header!r} is {length} bytes but Content-Length is {declared}",
            range=header,
            declared=declared,
        )
    return start, length


def check_range(request: web.Request, size: int) -> None:
    """Refuse `Range: bytes=-0`: a suffix of no bytes is unsatisfiable (RFC 9110 §14.1.2),
    where aiohttp would answer 206 with the whole blob. Other ranges are aiohttp's to judge."""
    header = request.headers.get("Range")
    if header is not None and _EMPTY_SUFFIX.match(header):
        raise RegistryError(
            RANGE_INVALID,
            f"Range {header!r} asks for the last 0 bytes, which is no range",
            {"range": header},
            headers={"Content-Range": f"bytes */{size}"},
        )


def page(request: web.Request) -> tuple[int | None, str | None]:
    """The `n` and `last` pagination parameters of tags/list and _catalog."""
    raw = request.query.get("n")
    limit: int | None = None
    if raw is not None:
        if not _PAGE_SIZE.fullmatch(raw) or int(raw) > MAX_PAGE:
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
