"""The OAuth 2.0 wire contract of the token endpoints, in Microsoft Entra ID's shape: which
request is valid, and the errors (declared once here, rendered once by `error_body`)."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from urllib.parse import unquote_plus, urlsplit

DEFAULT_SUFFIX = "/.default"
MAX_RESOURCE = 512


class Failure(Enum):
    """One kind of error: OAuth `error` value, Entra AADSTS code, HTTP status."""

    TENANT_NOT_FOUND = ("invalid_request", 90002, 400)
    MISSING_PARAMETER = ("invalid_request", 900144, 400)
    MALFORMED_REQUEST = ("invalid_request", 9002313, 400)
    UNSUPPORTED_GRANT = ("unsupported_grant_type", 70003, 400)
    UNSUPPORTED_FLOW = ("unsupported_response_type", 700054, 400)
    MISSING_SECRET = ("invalid_client", 7000218, 401)
    UNKNOWN_CLIENT = ("unauthorized_client", 700016, 400)
    WRONG_SECRET = ("invalid_client", 7000215, 401)
    INVALID_SCOPE = ("invalid_scope", 1002012, 400)
    UNKNOWN_RESOURCE = ("invalid_resource", 500011, 400)
    THROTTLED = ("temporarily_unavailable", 50053, 429)

    def __init__(self, error: str, code: int, status: int) -> None:
        self.error = error
        self.code = code
        self.status = status


class OAuthError(Exception):
    def __init__(self, failure: Failure, description: str, *, retry_after: int = 0) -> None:
        super().__init__(f"AADSTS{failure.code}: {description}")
        self.failure = failure
        self.description = f"AADSTS{failure.code}: {description}"
        self.retry_after = retry_after


def error_body(error: OAuthError, *, trace_id: str, correlation_id: str) -> dict[str, object]:
    timestamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return {
        "error": error.failure.error,
        "error_description": (
            f"{error.description} Trace ID: {trace_id} Correlation ID: {correlation_id} "
            f"Timestamp: {timestamp}"
        ),
        "error_codes": [error.failure.code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
    }


def correlation_id(header: str | None) -> str:
    """The client's `client-request-id` when it is a GUID (MSAL sends one), else a new one."""
    if header:
        try:
            return str(uuid.UUID(header))
        except ValueError:
            pass
    return str(uuid.uuid4())


def missing(name: str) -> OAuthError:
    return OAuthError(
        Failure.MISSING_PARAMETER,
        f"The request body must contain the following parameter: '{name}'.",
    )


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    client_id: str
    client_secret: str
    audience: str
    basic: bool  # the client authenticated with HTTP Basic


def parse_token_request(
    form: Mapping[str, str], authorization: str | None, *, version: int
) -> ClientCredentials:
    """Validate a token request (v2: `scope`; v1: `resource`; either accepts the other)."""
    grant_type = form.get("grant_type", "").strip()
    if not grant_type:
        raise missing("grant_type")
    if grant_type != "client_credentials":
        raise OAuthError(
            Failure.UNSUPPORTED_GRANT,
            f"The app requested an unsupported grant type '{grant_type[:64]}'. moorage issues "
            "tokens to service principals only: use grant_type 'client_credentials'.",
        )
    client_id, client_secret, basic = _client(form, authorization)
    audience = _audience(form, version)
    return ClientCredentials(client_id, client_secret, audience, basic)


def _client(form: Mapping[str, str], authorization: str | None) -> tuple[str, str, bool]:
    form_id = form.get("client_id", "").strip()
    form_secret = form.get("client_secret", "")
    if authorization and authorization.split(" ", 1)[0].lower() == "basic":
        basic_id, basic_secret = _basic(authorization)
        if form_id and form_id.lower() != basic_id.lower():
            raise OAuthError(
                Failure.MALFORMED_REQUEST,
                f"client_id '{form_id[:64]}' in the body differs from '{basic_id[:64]}' in the "
                "Authorization header.",
            )
        if form_secret:
            raise OAuthError(
                Failure.MALFORMED_REQUEST,
                "The client sent a secret both in the body (client_secret) and in the "
                "Authorization header; send one.",
            )
        return basic_id, basic_secret, True
    if not form_id:
        raise missing("client_id")
    if form.get("client_assertion"):
        raise OAuthError(
            Failure.MISSING_SECRET,
            "moorage does not accept client assertions (certificate credentials); the request "
            "body must contain the following parameter: 'client_secret'.",
        )
    if not form_secret:
        raise OAuthError(
            Failure.MISSING_SECRET,
            "The request body must contain the following parameter: 'client_assertion' or "
            "'client_secret'.",
        )
    return form_id, form_secret, False


def _basic(authorization: str) -> tuple[str, str]:
    """RFC 6749 2.3.1: base64 of form-urlencoded client_id ":" form-urlencoded secret."""
    try:
        decoded = base64.b64decode(authorization.split(" ", 1)[1].strip(), validate=True)
        client_id, secret = decoded.decode().split(":", 1)
    except (IndexError, ValueError, binascii.Error, UnicodeError):
        raise OAuthError(
            Failure.MALFORMED_REQUEST,
            "The Authorization header is not valid Basic credentials (base64 of "
            "'client_id:client_secret').",
        ) from None
    client_id, secret = unquote_plus(client_id).strip(), unquote_plus(secret)
    if not client_id:
        raise missing("client_id")
    if not secret:
        raise OAuthError(
            Failure.MISSING_SECRET, "The Authorization header carries an empty client secret."
        )
    return client_id, secret


def _audience(form: Mapping[str, str], version: int) -> str:
    scope = form.get("scope", "").strip()
    resource = form.get("resource", "").strip()
    if scope and (version == 2 or not resource):
        for item in scope.split():
            if item.endswith(DEFAULT_SUFFIX):
                return _check_resource(item.removesuffix(DEFAULT_SUFFIX))
        raise OAuthError(
            Failure.INVALID_SCOPE,
            f"The provided value for scope {scope[:200]} is not valid. Client credential flows "
            "must have a scope value with /.default suffixed to the resource identifier "
            "(application ID URI), e.g. 'https://management.azure.com/.default'.",
        )
    if resource:
        return _check_resource(resource.removesuffix(DEFAULT_SUFFIX))
    raise missing("scope" if version == 2 else "resource")


def _check_resource(resource: str) -> str:
    parts = urlsplit(resource)
    if len(resource) > MAX_RESOURCE or parts.scheme not in ("https", "http") or not parts.netloc:
        raise OAuthError(
            Failure.UNKNOWN_RESOURCE,
            f"The resource principal named {resource[:200]} was not found. moorage issues "
            "tokens for http(s) URL resources, e.g. https://management.azure.com/.",
        )
    return resource
