"""A throwaway PostgreSQL 15 cluster (Debian's `postgresql`) on a free loopback port.

initdb and pg_ctl refuse to run as root, so they run as the `postgres` user (runuser) in a
directory that user owns, whose parents it can traverse. Each test gets a database of its own
(`create_database`), so one cluster serves a whole test session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.server import free_port

BIN = Path("/usr/lib/postgresql/15/bin")


def require_postgres() -> Path:
    if not (BIN / "initdb").exists():
        message = "PostgreSQL 15 is not installed (apt-get install postgresql)"
        if os.environ.get("MOORAGE_REQUIRE_ALL") == "1":
            pytest.fail(f"{message}; MOORAGE_REQUIRE_ALL=1 forbids skipping")
        pytest.skip(message)
    return BIN


def _as_postgres(*command: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.getuid() == 0 else list(command)


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")


@dataclass
class Postgres:
    directory: Path
    port: int

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str = "postgres") -> str:
        """A moorage `--database` URL."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> Postgres:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o755)  # mkdtemp makes it 0700; the postgres user must enter
        if os.getuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        _run(
            _as_postgres(
                str(BIN / "initdb"),
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            )
        )
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c max_connections=200"
        )
        _run(
            _as_postgres(
                str(BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.directory / "postgres.log"),
                "-w",
                "-o",
                options,
                "start",
            )
        )
        return self

    def stop(self) -> None:
        subprocess.run(
            _as_postgres(
                str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"
            ),
            check=False,
            capture_output=True,
        )

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = subprocess.run(
            [
                str(BIN / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-At",
                "-c",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout

    def create_database(self, template: str | None = None) -> str:
        """A new database (empty, or a copy of `template`'s); returns its URL."""
        name = "t_" + uuid.uuid4().hex[:16]
        self.psql(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        return self.url(name)


@contextmanager
def running_postgres() -> Iterator[Postgres]:
    """A cluster in a directory of its own under /tmp (not pytest's: its 0700 parents and its
    clean-up of old directories, run by any other pytest session, are no place for a cluster
    owned by another user); removed on the way out."""
    require_postgres()
    directory = Path(tempfile.mkdtemp(prefix="moorage-pg-"))
    server = Postgres(directory, free_port())
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)
