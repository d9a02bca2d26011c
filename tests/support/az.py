"""The real Azure CLI, installed once into a virtual environment of its own.

It is large (~730 MB) and pins its own Azure SDKs, so it stays out of the project's lock file;
the tests install the version named here into a cache directory the first time they need it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest

AZ_VERSION = "2.91.0"
CACHE = Path(os.environ.get("MOORAGE_TEST_CACHE", Path.home() / ".cache" / "moorage-tests"))


def az_program() -> Path:
    """Path of `az`, installing it on first use; skip (or fail under MOORAGE_REQUIRE_ALL)."""
    venv = CACHE / f"azure-cli-{AZ_VERSION}"
    az = venv / "bin" / "az"
    if az.exists():
        return az
    CACHE.mkdir(parents=True, exist_ok=True)
    # Test processes run in parallel (pytest-xdist): one installs while the others wait.
    with (CACHE / f"azure-cli-{AZ_VERSION}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _install(venv, az)


def _install(venv: Path, az: Path) -> Path:
    if az.exists():
        return az  # another test process installed it while this one waited
    uv = shutil.which("uv")
    problem = None
    if uv is None:
        problem = "uv is not on PATH to install azure-cli"
    else:
        venv.parent.mkdir(parents=True, exist_ok=True)
        made = subprocess.run(
            [uv, "venv", "-q", "--python", "3.11", str(venv)],
            capture_output=True,
            text=True,
            check=False,
        )
        installed = made.returncode == 0 and subprocess.run(
            [
                uv,
                "pip",
                "install",
                "-q",
                "--python",
                str(venv / "bin" / "python"),
                f"azure-cli=={AZ_VERSION}",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
        if not installed or installed.returncode != 0 or not az.exists():
            problem = f"installing azure-cli {AZ_VERSION} failed: " + (
                made.stderr if made.returncode else installed.stderr if installed else ""
            )
            shutil.rmtree(venv, ignore_errors=True)
    if problem is not None:
        if os.environ.get("MOORAGE_REQUIRE_ALL") == "1":
            pytest.fail(f"{problem}; MOORAGE_REQUIRE_ALL=1 forbids skipping")
        pytest.skip(problem)
    return az
