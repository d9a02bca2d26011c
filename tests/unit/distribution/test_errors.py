from __future__ import annotations

import json
import re

import pytest

from moorage.distribution import errors

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
