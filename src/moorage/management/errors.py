"""Resource-manager errors, declared once: {"error": {"code", "message", "target", "details"}}."""

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
from moorage.domain.errors import (
    InvalidAccessField,
    InvalidAccessName,
    PreconditionFailed,
    PrincipalNotFound,
    ResourceGroupNotFound,
    ScopeMapExists,
    ScopeMapInUse,
    ScopeMapNotFound,
    SubscriptionNotFound,
    SystemScopeMapReadOnly,
    TokenExists,
    TokenNameTaken,
    TokenNotFound,
)
from moorage.domain.networks import InvalidNetworkName

log = logging.getLogger("moorage.management")


@dataclass(frozen=True, slots=True)
class ArmCode:
    code: str
    status: int
    description: str


CODES: dict[str, ArmCode] = {}


def _register(code: str, status: int, description: str) -> ArmCode:
    assert code not in CODES, code
    CODES[code] = ArmCode(code, status, description)
    return CODES[code]


MISSING_API_VERSION = _register(
    "MissingApiVersionParameter", 400, "The api-version query parameter is required."
)
INVALID_API_VERSION = _register(
    "InvalidApiVersionParameter", 400, "The api-version is not one this resource type supports."
)
INVALID_REQUEST_CONTENT = _register(
    "InvalidRequestContent", 400, "The request body is not valid JSON of the expected shape."
)
REQUEST_TOO_LARGE = _register(
    "RequestContentTooLarge", 413, "The request body is over the management API's size limit."
)
INVALID_PARAMETER = _register("InvalidParameter", 400, "A field has a value that is not allowed.")
INVALID_RESOURCE_NAME = _register("InvalidResourceName", 400, "The resource name is not valid.")
ADMIN_USER_DISABLED = _register("AdminUserDisabled", 400, "The registry's admin user is disabled.")
PREMIUM_SKU_REQUIRED = _register(
    "PremiumSkuRequired", 400, "Network rules and disabling public access need Premium."
)
SKU_FEATURE_UNAVAILABLE = _register(
    "SkuFeatureNotSupported", 400, "Anonymous pull needs the Standard or Premium SKU."
)
IP_RULE_LIMIT_EXCEEDED = _register(
    "IpRuleLimitExceeded", 400, "The change would exceed the registry's IP rule limit."
)
IP_RULE_NOT_FOUND = _register("IpRuleNotFound", 404, "No such IP rule on the registry.")
VNET_RULE_LIMIT_EXCEEDED = _register(
    "VirtualNetworkRuleLimitExceeded",
    400,
    "The change would exceed the registry's virtual-network rule limit.",
)
VNET_RULE_NOT_FOUND = _register(
    "VirtualNetworkRuleNotFound", 404, "No such virtual-network rule on the registry."
)
INVALID_RESOURCE_REFERENCE = _register(
    "InvalidResourceReference", 400, "The request names a resource (a subnet) that does not exist."
)
SUBNET_RANGES_OVERLAP = _register(
    "NetcfgSubnetRangesOverlap", 400, "Two subnets of one virtual network overlap."
)
SUBNET_OUTSIDE_VNET = _register(
    "NetcfgSubnetRangeOutsideVnet", 400, "A subnet is not inside its virtual network's space."
)
VNET_SPACES_OVERLAP = _register(
    "VnetAddressSpacesOverlap", 400, "Two address prefixes of one virtual network overlap."
)
SUBNET_IN_USE = _register(
    "InUseSubnetCannotBeDeleted", 409, "Registries' virtual-network rules name the subnet."
)
AUTHENTICATION_FAILED = _register(
    "AuthenticationFailed", 401, "No valid bearer token was presented."
)
AUTHORIZATION_FAILED = _register(
    "AuthorizationFailed", 403, "The caller's roles do not allow this action on this scope."
)
SUBSCRIPTION_NOT_FOUND = _register("SubscriptionNotFound", 404, "No such subscription.")
RESOURCE_GROUP_NOT_FOUND = _register("ResourceGroupNotFound", 404, "No such resource group.")
RESOURCE_NOT_FOUND = _register("ResourceNotFound", 404, "No such resource.")
NOT_FOUND = _register("NotFound", 404, "No such endpoint on the management API.")
METHOD_NOT_ALLOWED = _register("MethodNotAllowed", 405, "The method is not allowed here.")
ALREADY_IN_USE = _register("RegistryNameNotAvailable", 409, "The registry name is taken.")
CONFLICT = _register("Conflict", 409, "The request conflicts with the resource's state.")
PRECONDITION_FAILED = _register(
    "PreconditionFailed", 412, "If-Match does not name the resource's current etag."
)
STORAGE_FULL = _register(
    "InsufficientStorage", 507, "The server's storage is full; free space and retry."
)
INTERNAL_ERROR = _register("InternalServerError", 500, "The server failed; see its log.")


class ArmError(Exception):
    def __init__(
        self,
        code: ArmCode,
        message: str,
        *,
        target: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.target = target
        self.headers = headers or {}


TRANSLATION: dict[type[domain.DomainError], ArmCode] = {
    domain.RegistryNotFound: RESOURCE_NOT_FOUND,
    domain.RegistryExists: ALREADY_IN_USE,
    domain.InvalidRegistryName: INVALID_RESOURCE_NAME,
    SubscriptionNotFound: SUBSCRIPTION_NOT_FOUND,
    ResourceGroupNotFound: RESOURCE_GROUP_NOT_FOUND,
    PreconditionFailed: PRECONDITION_FAILED,
    domain.AdminUserDisabled: ADMIN_USER_DISABLED,
    domain.DefaultRegistryKept: CONFLICT,
    PrincipalNotFound: RESOURCE_NOT_FOUND,
    domain.PremiumSkuRequired: PREMIUM_SKU_REQUIRED,
    domain.SkuFeatureUnavailable: SKU_FEATURE_UNAVAILABLE,
    domain.RuleLimitExceeded: IP_RULE_LIMIT_EXCEEDED,
    domain.IPRuleNotFound: IP_RULE_NOT_FOUND,
    domain.InvalidIPRule: INVALID_PARAMETER,
    domain.InvalidJson: INVALID_REQUEST_CONTENT,
    domain.StorageFull: STORAGE_FULL,
    # Scope maps and repository-scoped tokens.
    InvalidScope: INVALID_PARAMETER,
    InvalidAccessName: INVALID_RESOURCE_NAME,
    InvalidAccessField: INVALID_PARAMETER,
    ScopeMapNotFound: RESOURCE_NOT_FOUND,
    TokenNotFound: RESOURCE_NOT_FOUND,
    ScopeMapExists: CONFLICT,
    TokenExists: CONFLICT,
    ScopeMapInUse: CONFLICT,
    SystemScopeMapReadOnly: CONFLICT,
    TokenNameTaken: CONFLICT,
    # Virtual networks, subnets and registries' virtual-network rules.
    vnets.VirtualNetworkNotFound: RESOURCE_NOT_FOUND,
    vnets.SubnetNotFound: RESOURCE_NOT_FOUND,
    vnets.InvalidAddressPrefix: INVALID_PARAMETER,
    vnets.VirtualNetworkPrefixesOverlap: VNET_SPACES_OVERLAP,
    vnets.SubnetsOverlap: SUBNET_RANGES_OVERLAP,
    vnets.SubnetOutsideVirtualNetwork: SUBNET_OUTSIDE_VNET,
    vnets.SubnetInUse: SUBNET_IN_USE,
    vnets.InvalidSubnetReference: INVALID_RESOURCE_REFERENCE,
    vnets.VirtualNetworkRuleNotFound: VNET_RULE_NOT_FOUND,
    vnets.VirtualNetworkRuleLimitExceeded: VNET_RULE_LIMIT_EXCEEDED,
    vnets.ConcurrentNetworkChange: CONFLICT,
    # Private endpoints and registries' connections to them.
    InvalidNetworkName: INVALID_RESOURCE_NAME,
    endpoints.PrivateEndpointNotFound: RESOURCE_NOT_FOUND,
    endpoints.ConnectionNotFound: RESOURCE_NOT_FOUND,
    endpoints.InvalidListener: INVALID_PARAMETER,
    endpoints.ListenerRequired: INVALID_PARAMETER,
    endpoints.InvalidConnectionField: INVALID_PARAMETER,
    endpoints.PrivateEndpointNameTaken: CONFLICT,
    endpoints.ListenerInUse: CONFLICT,
    endpoints.ListenerImmutable: CONFLICT,
    endpoints.ListenerUnavailable: CONFLICT,
    endpoints.DeclaredEndpointKept: CONFLICT,
    endpoints.ConnectionExists: CONFLICT,
    endpoints.InvalidConnectionState: CONFLICT,
}


# Raised by the registry API (/v2, /oauth2, /acr/v1) only: one reaching the management API is
# a bug, a logged 500 (as is any error in neither set; tests/unit/domain/
# test_error_translations.py keeps them whole).
NOT_RAISED_HERE: frozenset[type[domain.DomainError]] = domain.REGISTRY_API_ONLY | {
    domain.InvalidDigest,
    domain.UnsupportedDigest,
    domain.InvalidName,
    domain.InvalidTag,
    domain.RepositoryNotFound,
    domain.BlobNotFound,
    domain.ManifestNotFound,
    domain.BlobInUse,
    InvalidTokenRequest,
}


def translate(exc: domain.DomainError) -> ArmError:
    code = domain.lookup(TRANSLATION, exc)
    if code is None:
        log.error("no ARM translation for %s: %s", type(exc).__name__, exc.message, exc_info=exc)
        return ArmError(INTERNAL_ERROR, "Internal server error.")
    target = next(iter(exc.detail), None) if exc.detail else None
    return ArmError(code, exc.message, target=target)


def render(error: ArmError) -> web.Response:
    body: dict[str, Any] = {
        "error": {
            "code": error.code.code,
            "message": error.message,
            "target": error.target,
            "details": [],
        }
    }
    return web.Response(
        status=error.code.status,
        text=json.dumps(body),
        headers={"Content-Type": "application/json; charset=utf-8", **error.headers},
    )
