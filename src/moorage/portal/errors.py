"""What the portal answers for a domain error, decided once: the page shows the error's message
with the status declared here (the form comes back, filled in, so the user can correct it).

An error in neither TRANSLATION nor NOT_RAISED_HERE, or one that should never reach the portal,
is a bug: it is logged and answered with a 500, never shown as a silent 400.
"""

from __future__ import annotations

import logging

from aiohttp import web

from moorage.domain import errors as domain
from moorage.domain import private_endpoints as endpoints
from moorage.domain import virtual_networks as vnets
from moorage.domain.access import InvalidScope, InvalidTokenRequest
from moorage.domain.networks import InvalidNetworkName

log = logging.getLogger("moorage.portal")

FORM = 400  # the user's to fix: the page again, with the message
STALE = 409  # the resource changed since the page was loaded
FULL = 507  # no space left to write what the form asked for

TRANSLATION: dict[type[domain.DomainError], int] = {
    # Registries, their SKU and network settings.
    domain.RegistryNotFound: FORM,
    domain.RegistryExists: FORM,
    domain.InvalidRegistryName: FORM,
    domain.AdminUserDisabled: FORM,
    domain.DefaultRegistryKept: FORM,
    domain.PremiumSkuRequired: FORM,
    domain.SkuFeatureUnavailable: FORM,
    domain.RuleLimitExceeded: FORM,
    domain.IPRuleNotFound: FORM,
    domain.InvalidIPRule: FORM,
    domain.PreconditionFailed: STALE,
    domain.StorageFull: FULL,
    domain.SubscriptionNotFound: FORM,
    domain.ResourceGroupNotFound: FORM,
    domain.PrincipalNotFound: FORM,
    # Repositories, tags and manifests (the registry pages delete them).
    domain.InvalidDigest: FORM,
    domain.UnsupportedDigest: FORM,
    domain.InvalidName: FORM,
    domain.InvalidTag: FORM,
    domain.RepositoryNotFound: FORM,
    domain.ManifestNotFound: FORM,
    domain.BlobNotFound: FORM,
    domain.BlobInUse: FORM,
    # Scope maps and repository-scoped tokens.
    InvalidScope: FORM,
    domain.InvalidAccessName: FORM,
    domain.InvalidAccessField: FORM,
    domain.ScopeMapNotFound: FORM,
    domain.ScopeMapExists: FORM,
    domain.SystemScopeMapReadOnly: FORM,
    domain.ScopeMapInUse: FORM,
    domain.TokenNotFound: FORM,
    domain.TokenExists: FORM,
    domain.TokenNameTaken: FORM,
    # Virtual networks and private endpoints.
    InvalidNetworkName: FORM,
    endpoints.PrivateEndpointError: FORM,
    vnets.VirtualNetworkNotFound: FORM,
    vnets.SubnetNotFound: FORM,
    vnets.InvalidAddressPrefix: FORM,
    vnets.VirtualNetworkPrefixesOverlap: FORM,
    vnets.SubnetsOverlap: FORM,
    vnets.SubnetOutsideVirtualNetwork: FORM,
    vnets.SubnetInUse: FORM,
    vnets.InvalidSubnetReference: FORM,
    vnets.VirtualNetworkRuleNotFound: FORM,
    vnets.ConcurrentNetworkChange: FORM,
}

# Raised only while a client pushes or asks for a token: the portal does neither.
NOT_RAISED_HERE: frozenset[type[domain.DomainError]] = domain.REGISTRY_API_ONLY | {
    domain.InvalidJson,
    InvalidTokenRequest,
}


class FormError(Exception):
    """A form field with a value the page does not offer (the portal's own error, not the
    domain's: no other plane has forms)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def status(exc: domain.DomainError | FormError) -> int:
    """The status of the page that shows `exc.message`; a 500 (logged) for an error the portal
    has no translation for."""
    if isinstance(exc, FormError):
        return FORM
    found = domain.lookup(TRANSLATION, exc)
    if found is None:
        log.error("no portal translation for %s: %s", type(exc).__name__, exc.message, exc_info=exc)
        raise web.HTTPInternalServerError(text="The server failed; see its log.\n")
    return found


def message(exc: domain.DomainError | FormError) -> str:
    """The message to show (flash) for `exc`; a 500 (logged) when it has no translation."""
    status(exc)
    return exc.message
