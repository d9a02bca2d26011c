"""External programs the tests drive. Missing -> skip, or fail when MOORAGE_REQUIRE_ALL=1."""

from __future__ import annotations

import os
import shutil

import pytest


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} is not installed (apt-get install {tool})"
        if os.environ.get("MOORAGE_REQUIRE_ALL") == "1":
            pytest.fail(f"{message}; MOORAGE_REQUIRE_ALL=1 forbids skipping")
        pytest.skip(message)
    return path
