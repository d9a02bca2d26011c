from __future__ import annotations

import json
import re

import pytest

from moorage.distribution import errors
from moorage.domain import errors as domain

SPEC_CODES = {
    "BLOB_UNKNOWN",
    "BLOB_UPLOAD_INVALID",
    "BLOB_UPLOAD_UNKNOWN",
    "DIGEST_INVALID",
    "MANIFEST_BLOB_UNKNOWN",
    "MANIFEST_INVALID",
    "MANIFEST_UNKNOWN",
    "NAME_INVALID",
    "NAME_UNKNOWN",
    "SIZE_INVALID",
    "UNAUTHORIZED",
    "DENIED",
    "UNSUPPORTED",
    "TOOMANYREQUESTS",
}


def test_every_spec_code_is_declared() -> None:
    assert {c.code for c in errors.CODES.values()} >= SPEC_CODES


@pytest.mark.parametrize("code", list(errors.CODES.values()), ids=lambda c: f"{c.code}/{c.status}")
def test_every_code_renders_the_spec_body(code: errors.ErrorCode) -> None:
    assert re.fullmatch(r"[A-Z_]+", code.code)
    assert 400 <= code.status < 600
    response = errors.render(errors.RegistryError(code, detail={"k": "v"}))
    assert response.status == code.status
    assert response.text is not None
    body = json.loads(response.text)
    assert body == {"errors": [{"code": code.code, "message": code.message, "detail": {"k": "v"}}]}


def _leaves(cls: type[domain.DomainError]) -> list[type[domain.DomainError]]:
    subs = cls.__subclasses__()
    return [cls] if not subs else [leaf for s in subs for leaf in _leaves(s)]


# Raised only by registry administration, which the management API renders in its own shape.
NOT_DATA_PLANE = {
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
}


@pytest.mark.parametrize(
    "exc",
    [
        e
        for e in _leaves(domain.DomainError)
        if e.__module__ == domain.__name__ and e not in NOT_DATA_PLANE
    ],
    ids=lambda c: c.__name__,
)
def test_every_domain_error_has_a_wire_code(exc: type[domain.DomainError]) -> None:
    if exc is domain.UploadOutOfOrder:
        instance: domain.DomainError = exc("out of order", size=3)
    else:
        instance = exc("something is wrong", field="x")
    wire = errors.translate(instance)
    assert wire.error is not errors.UNKNOWN, f"{exc.__name__} has no entry in TRANSLATION"
    assert wire.message == instance.message
