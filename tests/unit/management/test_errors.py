from __future__ import annotations

import json

import pytest

from moorage.domain import errors as domain
from moorage.management import errors
from tests.unit.distribution.test_errors import NOT_DATA_PLANE


@pytest.mark.parametrize(
    "exc", sorted(NOT_DATA_PLANE, key=lambda c: c.__name__), ids=lambda c: c.__name__
)
def test_management_errors_have_their_own_code(exc: type[domain.DomainError]) -> None:
    assert exc in errors.TRANSLATION, f"{exc.__name__} has no resource-manager code"
    rendered = errors.render(errors.translate(exc("what went wrong", name="x")))
    body = json.loads(rendered.text or "")
    assert body["error"]["message"] == "what went wrong"
    assert rendered.status == errors.TRANSLATION[exc].status


@pytest.mark.parametrize("code", list(errors.CODES.values()), ids=lambda c: c.code)
def test_every_code_renders_the_resource_managers_shape(code: errors.ArmCode) -> None:
    rendered = errors.render(errors.ArmError(code, "message", target="field"))
    assert rendered.status == code.status
    assert json.loads(rendered.text or "") == {
        "error": {"code": code.code, "message": "message", "target": "field", "details": []}
    }
