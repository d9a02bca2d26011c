"""OCI distribution error codes, declared once, rendered in one place.

Handlers and services raise domain exceptions or `RegistryError`; the error middleware renders
`{"errors": [{"code", "message", "detail"}]}` with the status declared here.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from moorage.domain import errors as domain
from moorage.domain import private_endpoints as endpoints
from moorage.domain import virtual_networks as vnets
from moorage.domain.access import InvalidScope, InvalidTokenRequest
from moorage.domain.networks import InvalidNetworkName

log = logging.getLogger("moorage.distribution")


@dataclass(frozen=True, slots=True)
class ErrorCode:
    code: str
    status: int
    message: str
    description: str


CODES: dict[str, ErrorCode] = {}


def _register(code: str, status: int, message: str, description: str) -> ErrorCode:
    key = f"{code}/{status}"
    assert key not in CODES, key
    CODES[key] = ErrorCode(code, status, message, description)
    return CODES[key]


# The codes of the OCI Distribution Spec 1.1, code-1 to code-14.
BLOB_UNKNOWN = _register(
    "BLOB_UNKNOWN", 404, "blob unknown to registry", "The blob is not in the repository."
)
BLOB_UPLOAD_INVALID = _register(
    "BLOB_UPLOAD_INVALID",
    400,
    "blob upload invalid",
    "The upload failed and can no longer proceed.",
)
BLOB_UPLOAD_UNKNOWN = _register(
    "BLOB_UPLOAD_UNKNOWN",
    404,
    "blob upload unknown to registry",
    "The upload was cancelled, completed or never started.",
)
DIGEST_INVALID = _register(
    "DIGEST_INVALID",
    400,
    "provided digest did not match uploaded content",
    "A digest is malformed, unsupported, or not that of the content.",
)
MANIFEST_BLOB_UNKNOWN = _register(
    "MANIFEST_BLOB_UNKNOWN",
    400,
    "manifest references a manifest or blob unknown to registry",
    "Push every blob and child manifest before the manifest.",
)
MANIFEST_INVALID = _register(
    "MANIFEST_INVALID", 400, "manifest invalid", "The manifest failed validation."
)
MANIFEST_UNKNOWN = _register(
    "MANIFEST_UNKNOWN",
    404,
    "manifest unknown to registry",
    "No manifest with that tag or digest in the repository.",
)
NAME_INVALID = _register(
    "NAME_INVALID",
    400,
    "invalid repository name",
    "The repository name does not match the spec's grammar.",
)
NAME_UNKNOWN = _register(
    "NAME_UNKNOWN",
    404,
    "repository name not known to registry",
    "The repository does not exist in this registry.",
)
SIZE_INVALID = _register(
    "SIZE_INVALID",
    400,
    "provided length did not match content length",
    "Content-Length or Content-Range disagree with the content sent.",
)
UNAUTHORIZED = _register(
    "UNAUTHORIZED", 401, "authentication required", "The client must authenticate."
)
DENIED = _register(
    "DENIED",
    403,
    "requested access to the resource is denied",
    "The client may not perform this operation.",
)
UNSUPPORTED = _register(
    "UNSUPPORTED",
    405,
    "the operation is unsupported",
    "The operation or its parameters are not supported.",
)
TOOMANYREQUESTS = _register(
    "TOOMANYREQUESTS", 429, "too many requests", "The client sent too many requests; retry later."
)
# Codes beyond the spec, with the status each situation calls for.
MANIFEST_TOO_LARGE = _register(
    "MANIFEST_INVALID",
    413,
    "manifest too large",
    "The manifest is over the registry's size limit (4 MiB default).",
)
TAG_INVALID = _register(
    "TAG_INVALID", 400, "invalid tag", "The tag does not match [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}."
)
RANGE_INVALID = _register(
    "RANGE_INVALID", 416, "invalid content range", "A chunk must start where the upload ends."
)
BLOB_IN_USE = _register(
    "BLOB_IN_USE",
    409,
    "blob is referenced by a manifest",
    "Delete the manifests that use a blob before the blob.",
)
PAGINATION_NUMBER_INVALID = _register(
    "PAGINATION_NUMBER_INVALID",
    400,
    "invalid number of results requested",
    "n must be a non-negative integer.",
)
TOKEN_REQUEST_INVALID = _register(
    "INVALID_REQUEST",
    400,
    "invalid token request",
    "A field of the token request is missing or has a value the token service cannot use.",
)
BODY_INVALID = _register(
    "BODY_INVALID",
    400,
    "request body is not valid JSON",
    "A JSON request body is malformed, too large, too deep or ambiguous; the message says how.",
)
STORAGE_FULL = _register(
    "STORAGE_FULL",
    507,
    "the registry's storage is full",
    "A write found no space left; nothing partial was kept. Retry once space is freed.",
)
UNKNOWN = _register("UNKNOWN", 500, "unknown error", "The server failed; see its log.")


class RegistryError(Exception):
    def __init__(
        self,
        error: ErrorCode,
        message: str | None = None,
        detail: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or error.message)
        self.error = error
        self.message = message or error.message
        self.detail = detail
        self.headers = headers or {}


# Domain exception -> wire error: the only place this choice is made.
TRANSLATION: dict[type[domain.DomainError], ErrorCode] = {
    domain.InvalidDigest: DIGEST_INVALID,
    domain.UnsupportedDigest: DIGEST_INVALID,
    domain.DigestMismatch: DIGEST_INVALID,
    domain.InvalidName: NAME_INVALID,
    domain.InvalidTag: TAG_INVALID,
    domain.InvalidManifest: MANIFEST_INVALID,
    domain.ManifestTooLarge: MANIFEST_TOO_LARGE,
    domain.ManifestReferenceUnknown: MANIFEST_BLOB_UNKNOWN,
    domain.ManifestNotFound: MANIFEST_UNKNOWN,
    domain.ManifestNotAcceptable: MANIFEST_UNKNOWN,
    domain.RegistryNotFound: NAME_UNKNOWN,
    domain.NetworkAccessDenied: DENIED,
    domain.RepositoryNotFound: NAME_UNKNOWN,
    domain.BlobNotFound: BLOB_UNKNOWN,
    domain.BlobInUse: BLOB_IN_USE,
    domain.UploadNotFound: BLOB_UPLOAD_UNKNOWN,
    domain.UploadOutOfOrder: RANGE_INVALID,
    domain.SizeMismatch: SIZE_INVALID,
    domain.InvalidRange: RANGE_INVALID,
    domain.InvalidPagination: PAGINATION_NUMBER_INVALID,
    domain.InvalidJson: BODY_INVALID,
    domain.StorageFull: STORAGE_FULL,
    InvalidScope: TOKEN_REQUEST_INVALID,
    InvalidTokenRequest: TOKEN_REQUEST_INVALID,
}


# Raised by the management plane only: one reaching the registry API is a bug, a logged 500
# (as is any error in neither set; tests/unit/domain/test_error_translations.py keeps them whole).
NOT_RAISED_HERE: frozenset[type[domain.DomainError]] = frozenset(
    (
        domain.RegistryExists,
        domain.InvalidRegistryName,
        domain.AdminUserDisabled,
        domain.DefaultRegistryKept,
        domain.PremiumSkuRequired,
        domain.SkuFeatureUnavailable,
        domain.RuleLimitExceeded,
        domain.IPRuleNotFound,
        domain.InvalidIPRule,
        domain.InvalidAccessName,
        domain.InvalidAccessField,
        domain.ScopeMapNotFound,
        domain.ScopeMapExists,
        domain.SystemScopeMapReadOnly,
        domain.ScopeMapInUse,
        domain.TokenNotFound,
        domain.TokenExists,
        domain.TokenNameTaken,
        domain.PreconditionFailed,
        domain.SubscriptionNotFound,
        domain.ResourceGroupNotFound,
        domain.PrincipalNotFound,
        InvalidNetworkName,
        endpoints.PrivateEndpointError,
        vnets.VirtualNetworkNotFound,
        vnets.SubnetNotFound,
        vnets.InvalidAddressPrefix,
        vnets.VirtualNetworkPrefixesOverlap,
        vnets.SubnetsOverlap,
        vnets.SubnetOutsideVirtualNetwork,
        vnets.SubnetInUse,
        vnets.InvalidSubnetReference,
        vnets.VirtualNetworkRuleNotFound,
        vnets.ConcurrentNetworkChange,
    )
)


def translate(exc: domain.DomainError) -> RegistryError:
    code = domain.lookup(TRANSLATION, exc)
    if code is None:
        log.error("no OCI translation for %s: %s", type(exc).__name__, exc.message, exc_info=exc)
        return RegistryError(UNKNOWN)
    return RegistryError(code, exc.message, exc.detail or None)


def render(error: RegistryError) -> web.Response:
    """The spec's error body; aiohttp leaves the body out of a HEAD answer by itself."""
    body = {
        "errors": [
            {"code": error.error.code, "message": error.message, "detail": error.detail or {}}
        ]
    }
    text = json.dumps(body)
    headers = {"Content-Type": "application/json", **error.headers}
    return web.Response(status=error.error.status, text=text, headers=headers)


def respond(error: domain.DomainError) -> web.Response:
    """A domain error as a complete OCI answer (body, status, API version header): what the
    wiring hands the network gate, which renders its refusals and unknown hosts through it."""
    response = render(translate(error))
    response.headers["Docker-Distribution-API-Version"] = "registry/2.0"
    return response
