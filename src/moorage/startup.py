"""What stops `moorage serve` before it serves, said in one line: a data directory another
server holds, an address it cannot listen on."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
from pathlib import Path
from typing import IO

LOCK_FILE = "moorage.lock"


class StartupError(Exception):
    """The server cannot start; the message is one line that names what is in the way."""


def lock_data_dir(data_dir: Path, *, shared: bool = False) -> IO[str]:
    """Hold the data directory for this process's lifetime (the lock dies with the process,
    even a killed one). A second server on the same directory is refused, unless every server
    on it says `--shared-data-dir` (replicas on one machine sharing one SQLite database). The
    directory is made (owner-only) when missing."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    handle = os.fdopen(fd, "r+")
    try:
        fcntl.flock(handle, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = handle.read().strip()
        handle.close()
        by = f" (pid {holder})" if holder.isdigit() else ""
        hint = (
            "only servers that all say --shared-data-dir share one"
            if shared
            else "stop it, or give this one another --data-dir"
        )
        raise StartupError(
            f"the data directory {data_dir} is in use by another moorage server{by}: {hint}"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def release_data_dir(handle: IO[str]) -> None:
    with contextlib.suppress(OSError):
        handle.close()


def cannot_listen(what: str, host: str, port: int, error: OSError) -> StartupError:
    """The one line for an address the server could not listen on."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    reasons = {
        errno.EADDRINUSE: "the address is already in use (another server listens there)",
        errno.EACCES: "permission denied (ports below 1024 need privileges)",
        errno.EADDRNOTAVAIL: "that address is not one of this machine's",
    }
    if isinstance(error, socket.gaierror):
        reason = f"{host!r} is not a name this machine resolves ({error.strerror})"
    else:
        reason = reasons.get(error.errno or 0) or error.strerror or str(error)
    return StartupError(f"cannot listen on {where} ({what}): {reason}")


def check_can_listen(what: str, host: str, port: int) -> None:
    """Fail before any start-up work when the address cannot be listened on (the real bind
    later still reports what changes in between)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as e:
        raise cannot_listen(what, host, port, e) from None
    for family, kind, proto, _, address in found:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio binds
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as e:
                raise cannot_listen(what, host, port, e) from None
