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


def require_root(why: str) -> None:
    """Skip unless running as root (mounts, namespaces), or fail when MOORAGE_REQUIRE_ALL=1."""
    if os.geteuid() == 0:
        return
    message = f"needs root: {why}"
    if os.environ.get("MOORAGE_REQUIRE_ALL") == "1":
        pytest.fail(f"{message}; MOORAGE_REQUIRE_ALL=1 forbids skipping")
    pytest.skip(message)
