"""Files of the data directory that hold secrets: created owner-only, never world-readable."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create `path` (mode 0700) if missing; an existing directory keeps its mode."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    return path


def create_private(path: Path, data: bytes) -> None:
    """Write a new file readable by its owner only; FileExistsError if it is already there.

    O_EXCL: two processes starting at once cannot both create it, and a file put in the way
    (a symlink included) is never written through.
    """
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as file:
            fd = -1
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        if fd != -1:
            os.close(fd)
        with contextlib.suppress(OSError):
            path.unlink()
        raise


def replace_private(path: Path, data: bytes) -> None:
    """Write `path` owner-only, replacing it atomically if it exists."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    create_private(temporary, data)
    try:
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def replace_public(path: Path, data: bytes) -> None:
    """Write a file anyone may read (a certificate), replacing it atomically."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    temporary.write_bytes(data)
    try:
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
