from __future__ import annotations

import json

import pytest

from moorage.management import errors


@pytest.mark.parametrize("code", list(errors.CODES.values()), ids=lambda c: c.code)
def test_every_code_renders_the_resource_managers_shape(code: errors.ArmCode) -> None:
    rendered = errors.render(errors.ArmError(code, "message", target="field"))
    assert rendered.status == code.status
    assert json.loads(rendered.text or "") == {
        "error": {"code": code.code, "message": "message", "target": "field", "details": []}
    }
