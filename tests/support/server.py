"""Start the real `moorage serve` process on a free loopback port and talk to it over TCP."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    data_dir: Path
    port: int
    host: str = "127.0.0.1"
    extra_args: list[str] = field(default_factory=list)
    trust: Path | None = None
    """The CA that signs the server's certificate, when it is not moorage's own."""
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    """Variables added to the server's environment (e.g. AWS credentials)."""

    @property
    def address(self) -> str:
        """host:port as container tools want it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def tls(self) -> bool:
        return "--tls" in self.extra_args

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.address}"

    @property
    def ca(self) -> Path:
        """The local CA that signs the server's certificate under --tls."""
        return self.data_dir / "tls" / "ca.pem"

    def ca_bundle(self, path: Path) -> Path:
        """A bundle of the system's CAs plus moorage's, for clients such as requests."""
        system = Path("/etc/ssl/certs/ca-certificates.crt")
        base = system.read_bytes() if system.exists() else b""
        path.write_bytes(base + b"\n" + self.ca.read_bytes())
        return path

    @property
    def owner(self) -> dict[str, str]:
        """The owner credential the server wrote on first start."""
        data: dict[str, str] = json.loads((self.data_dir / "owner-credential.json").read_text())
        return data

    def _ready(self) -> bool:
        context = None
        if self.tls:
            ca = self.trust or self.ca
            if not ca.exists():
                return False
            context = ssl.create_default_context(cafile=str(ca))
        try:
            with urllib.request.urlopen(f"{self.url}/v2/", timeout=1, context=context) as r:
                return bool(r.status == 200)
        except urllib.error.HTTPError as e:
            return e.code == 401  # it answers, and asks who is calling

    def start(self, timeout: float = 30.0) -> Server:
        self.log_path = self.data_dir.parent / f"server-{self.port}.log"
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        with self.log_path.open("ab") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "moorage",
                    "serve",
                    "--host",
                    self.host,
                    "--port",
                    str(self.port),
                    "--data-dir",
                    str(self.data_dir),
                    *self.extra_args,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moorage exited early:\n{self.log()}")
            try:
                # Our own process must say it serves: a free port can be taken by another
                # test run's server between choosing it and binding it.
                if "moorage is serving on" in self.log() and self._ready():
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"moorage did not answer within {timeout}s:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        code = self.process.returncode
        self.process = None
        return code

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""


@contextmanager
def running_server(data_dir: Path, *extra_args: str, timeout: float = 30.0) -> Iterator[Server]:
    server = Server(data_dir, free_port(), extra_args=list(extra_args)).start(timeout)
    try:
        yield server
    finally:
        server.stop()
