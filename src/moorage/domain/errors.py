"""Domain exceptions. Wire formats translate them in one table at their boundary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

T = TypeVar("T")


class DomainError(Exception):
    """Base of every domain exception; `detail` is safe to show to a client."""

    def __init__(self, message: str, **detail: object) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class InvalidDigest(DomainError):
    pass


class UnsupportedDigest(DomainError):
    pass


class InvalidName(DomainError):
    pass


class InvalidTag(DomainError):
    pass


class InvalidManifest(DomainError):
    pass


class ManifestTooLarge(DomainError):
    pass


class ManifestReferenceUnknown(DomainError):
    """A manifest names a blob or child manifest the repository does not hold."""


class RegistryNotFound(DomainError):
    pass


class NetworkAccessDenied(DomainError):
    """The network gate refused the client: its message says who, why and what grants access."""


class RegistryExists(DomainError):
    pass


class InvalidRegistryName(DomainError):
    pass


class RepositoryNotFound(DomainError):
    pass


class BlobNotFound(DomainError):
    pass


class ManifestNotFound(DomainError):
    pass


class ManifestNotAcceptable(DomainError):
    """The stored manifest's media type is not among those the client accepts."""


class UploadNotFound(DomainError):
    pass


class UploadOutOfOrder(DomainError):
    """A chunk does not start where the upload ends (HTTP 416)."""

    def __init__(self, message: str, *, size: int) -> None:
        super().__init__(message, size=size)
        self.size = size


class DigestMismatch(DomainError):
    pass


class SizeMismatch(DomainError):
    pass


class InvalidRange(DomainError):
    pass


class InvalidPagination(DomainError):
    pass


class BlobInUse(DomainError):
    """A blob still referenced by a manifest of the repository cannot be unlinked from it."""


class AdminUserDisabled(DomainError):
    """The registry's admin user is off, so it has no passwords to show."""


class DefaultRegistryKept(DomainError):
    """The registry served on the bare host cannot be deleted."""


class PremiumSkuRequired(DomainError):
    """Network rules and disabling public access are Premium features."""


class SkuFeatureUnavailable(DomainError):
    """A feature the registry's SKU does not have (anonymous pull on Basic)."""


class RuleLimitExceeded(DomainError):
    """A change would leave a registry with more IP rules than the limit."""


class IPRuleNotFound(DomainError):
    """A rule to remove is not in the registry's rule set."""


class InvalidIPRule(DomainError):
    """An IP rule value that is not an IPv4/IPv6 address or CIDR range; the message says why."""


# -- the management plane: resources, scope maps and tokens, principals ------------------


class InvalidAccessName(DomainError):
    """A scope map or token name that the cloud's rules do not allow."""


class InvalidAccessField(DomainError):
    """Another field of a scope map or token with a value that is not allowed."""


class ScopeMapNotFound(DomainError):
    pass


class ScopeMapExists(DomainError):
    """Create-only (If-None-Match: *) met a scope map of that name."""


class SystemScopeMapReadOnly(DomainError):
    """The system scope maps cannot be created, changed or deleted."""


class ScopeMapInUse(DomainError):
    """A scope map that tokens use cannot be deleted."""


class TokenNotFound(DomainError):
    pass


class TokenExists(DomainError):
    """Create-only (If-None-Match: *) met a token of that name."""


class TokenNameTaken(DomainError):
    """A token cannot be named as its registry: that is the admin user's login name."""


class PreconditionFailed(DomainError):
    """If-Match named an etag the resource no longer has."""


class SubscriptionNotFound(DomainError):
    pass


class ResourceGroupNotFound(DomainError):
    pass


class PrincipalNotFound(DomainError):
    pass


def lookup(table: Mapping[type[DomainError], T], exc: DomainError) -> T | None:
    """The entry for an exception's class, or for its nearest ancestor that has one."""
    for cls in type(exc).__mro__:
        entry = table.get(cls)
        if entry is not None:
            return entry
    return None


class InvalidJson(DomainError):
    """A JSON document from outside that is malformed, too large, too deep or ambiguous."""


class StorageFull(DomainError):
    """The blob store or the metadata store has no space left (ENOSPC, SQLITE_FULL)."""


# Raised only while a client speaks the registry API (network refusals, pushes, uploads, ranges
# and pages of its listings): the management API and the portal list these as not raised there.
REGISTRY_API_ONLY: frozenset[type[DomainError]] = frozenset(
    (
        NetworkAccessDenied,
        InvalidManifest,
        ManifestTooLarge,
        ManifestReferenceUnknown,
        ManifestNotAcceptable,
        UploadNotFound,
        UploadOutOfOrder,
        DigestMismatch,
        SizeMismatch,
        InvalidRange,
        InvalidPagination,
    )
)
