"""Start a private dockerd or containerd for a test, and leave nothing of it behind.

Each daemon runs as root in a private mount namespace (`unshare -m`) with everything it owns
in one temporary directory: data, exec root or state, socket, pid file and config. In that
namespace /run is an empty tmpfs and /opt, /etc/docker and (when asked) /etc/hosts are bind
mounts of the test's own, so the paths the daemons use whatever they are told
(/run/docker/plugins, /run/containerd/..., /opt/containerd, /etc/docker/certs.d) stay private
and vanish with the namespace. Networking changes are off (no bridge, iptables, ip_forward or
masquerade). Sockets live under a short /tmp path (a unix socket path is limited to 108 bytes).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from tests.support.tools import require

START_TIMEOUT = 30.0
_PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy"}

# sh -c script: $0 = the daemon's directory, $1 = hosts file or "", then the command.
_NAMESPACE_SCRIPT = (
    'set -e; mount -n -t tmpfs -o mode=755 tmpfs /run; mount -n --bind "$0/opt" /opt; '
    'mkdir -p /etc/docker; mount -n --bind "$0/etc-docker" /etc/docker; '
    'if [ -n "$1" ]; then mount -n --bind "$1" /etc/hosts; fi; shift; exec "$@"'
)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without proxy variables (nothing leaves loopback), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in _PROXY_VARS}
    env.update(extra)
    return env


@dataclass
class Daemon:
    """What dockerd and containerd share: a directory, a namespace, a process, a log."""

    hosts: dict[str, str] = field(default_factory=dict)
    """/etc/hosts entries (name -> address) the daemon resolves. Give them all at the start:
    Go programs cache the hosts file for 5 s, so a name added later may not resolve yet."""
    root: Path = field(init=False)
    process: subprocess.Popen[bytes] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="moorage-d-", dir="/tmp"))
        for sub in ("opt", "etc-docker/certs.d"):
            (self.root / sub).mkdir(parents=True)
        self.write_hosts()

    @property
    def log_path(self) -> Path:
        return self.root / "daemon.log"

    @property
    def socket(self) -> Path:
        raise NotImplementedError

    def command(self) -> list[str]:
        raise NotImplementedError

    def write_hosts(self) -> None:
        lines = [] if "localhost" in self.hosts else ["127.0.0.1 localhost", "::1 localhost"]
        lines += [f"{address} {name}" for name, address in sorted(self.hosts.items())]
        (self.root / "hosts").write_text("\n".join(lines) + "\n")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def start(self) -> None:
        command = self.command()
        name = Path(command[0]).name
        argv = ["unshare", "-m", "--propagation", "private", "sh", "-c", _NAMESPACE_SCRIPT]
        argv += [str(self.root), str(self.root / "hosts"), *command]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, env=clean_env(), start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{name} exited early:\n{self.log()}")
            if self.socket.exists() and self.ready():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{name} did not start within {START_TIMEOUT}s:\n{self.log()}")

    def ready(self) -> bool:
        raise NotImplementedError

    def stop(self) -> None:
        """SIGTERM (the daemon stops its children), KILL the group after 15 s, then remove the
        directory: with the namespace gone, nothing is mounted there any more."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait()
            self.process = None
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


@dataclass
class Dockerd(Daemon):
    """A private dockerd; `docker(...)` runs the docker CLI against it with its own config."""

    insecure_registries: list[str] = field(default_factory=list)
    """host:port or CIDR entries reached over plain HTTP (a CIDR matches the resolved address)."""

    @property
    def socket(self) -> Path:
        return self.root / "docker.sock"

    @property
    def config_dir(self) -> Path:
        """DOCKER_CONFIG: where the docker CLI keeps its logins."""
        return self.root / "cli"

    def command(self) -> list[str]:
        # The key path is only accepted in the config file (without it dockerd writes
        # /etc/docker/key.json); the insecure registries go there as docs/registry.md shows.
        config = {
            "deprecated-key-path": str(self.root / "key.json"),
            "insecure-registries": self.insecure_registries,
        }
        (self.root / "daemon.json").write_text(json.dumps(config))
        argv = [
            require("dockerd"),
            "--config-file", str(self.root / "daemon.json"),
            "--data-root", str(self.root / "data"),
            "--exec-root", str(self.root / "exec"),
            "--pidfile", str(self.root / "docker.pid"),
            "-H", f"unix://{self.socket}",
            "--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false",
            "--bridge=none",
        ]  # fmt: skip
        return argv

    def trust(self, login_server: str, ca: Path) -> None:
        """Trust `ca` for `login_server` (host:port), as /etc/docker/certs.d/<host:port>/ca.crt."""
        directory = self.root / "etc-docker" / "certs.d" / login_server
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ca, directory / "ca.crt")

    def env(self) -> dict[str, str]:
        return clean_env(
            DOCKER_HOST=f"unix://{self.socket}",
            DOCKER_CONFIG=str(self.config_dir),
            DOCKER_BUILDKIT="0",  # the legacy builder: Debian's docker.io has no buildx
        )

    def ready(self) -> bool:
        return self.docker("version", timeout=10).returncode == 0

    def docker(
        self, *args: str, input: bytes | None = None, cwd: Path | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [require("docker"), *args],
            input=input,
            cwd=cwd,
            env=self.env(),
            capture_output=True,
            timeout=timeout,
            check=False,
        )


@dataclass
class Containerd(Daemon):
    """A private containerd (no CRI plugin); `ctr(...)` runs ctr against it."""

    @property
    def socket(self) -> Path:
        return self.root / "containerd.sock"

    def command(self) -> list[str]:
        config = (
            "version = 2\n"
            f'root = "{self.root / "data"}"\n'
            f'state = "{self.root / "state"}"\n'
            'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
            f'[grpc]\n  address = "{self.socket}"\n'
            f'[ttrpc]\n  address = "{self.socket}.ttrpc"\n'
            f'[plugins."io.containerd.internal.v1.opt"]\n  path = "{self.root / "opt"}"\n'
        )
        (self.root / "config.toml").write_text(config)
        return [require("containerd"), "--config", str(self.root / "config.toml")]

    def ready(self) -> bool:
        return self.ctr("version", timeout=10).returncode == 0

    def add_host(self, name: str, address: str = "127.0.0.1") -> None:
        """ctr resolves registry names itself, in a new process each run: a name added now
        resolves at the next run."""
        self.hosts[name] = address
        self.write_hosts()

    def ctr(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
        """ctr pulls and pushes itself (the daemon only stores), so it runs in a namespace
        with the daemon's hosts file too."""
        argv = ["ctr", "--address", str(self.socket), *args]
        wrapped = ["unshare", "-m", "--propagation", "private", "sh", "-c"]
        wrapped += ['mount -n --bind "$0" /etc/hosts; exec "$@"', str(self.root / "hosts")]
        result = subprocess.run(
            [*wrapped, require("ctr"), *argv[1:]],
            env=clean_env(),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        result.args = argv
        return result
