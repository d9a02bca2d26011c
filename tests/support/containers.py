"""Run skopeo and podman against a test server, isolated from the machine's container setup.

Every run gets its own policy, registries.conf, auth file, temp dir and (for podman) storage and
containers.conf under a test directory; proxy variables are dropped so nothing leaves loopback.
As root, c/image keeps its blob-info cache in /var/lib/containers/cache whatever else is set; that
cache steers cross-repository mounts, so each run sees a private one through a private mount
namespace (`unshare -m`), which can also give the tool its own /etc/hosts (Go tools do not resolve
`*.localhost` by themselves).
"""

from __future__ import annotations

import base64
import functools
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.tools import require

SYSTEM_CACHE = "/var/lib/containers/cache"
TIMEOUT = 120
_PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy"}

# sh -c script: $0 = cache dir, $1 = hosts file or "", $2 = "run" for an empty /run (podman
# leaves its network run directory there), then the command.
_NAMESPACE_SCRIPT = (
    f'set -e; mkdir -p {SYSTEM_CACHE}; mount --bind "$0" {SYSTEM_CACHE}; '
    'if [ -n "$1" ]; then mount --bind "$1" /etc/hosts; fi; '
    'if [ "$2" = run ]; then mount -t tmpfs -o mode=755 tmpfs /run; fi; shift 2; exec "$@"'
)


@functools.cache
def _private_mounts_error() -> str | None:
    """None when `unshare -m` with bind mounts works here, else why not."""
    if shutil.which("unshare") is None:
        return "unshare is not installed (util-linux)"
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount --bind /etc/hosts /etc/hosts"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    if probe.returncode != 0:
        return f"unshare -m + mount --bind failed: {probe.stderr.strip()}"
    return None


def require_private_mounts() -> None:
    error = _private_mounts_error()
    if error is not None:
        if os.environ.get("MOORAGE_REQUIRE_ALL") == "1":
            pytest.fail(f"{error}; MOORAGE_REQUIRE_ALL=1 forbids skipping")
        pytest.skip(error)


def describe(result: subprocess.CompletedProcess[bytes]) -> str:
    """A failed run, readable in an assertion message."""
    return (
        f"$ {' '.join(str(a) for a in result.args)}\n-> exit {result.returncode}\n"
        f"--- stdout\n{result.stdout.decode(errors='replace')[-4000:]}\n"
        f"--- stderr\n{result.stderr.decode(errors='replace')[-6000:]}"
    )


def ok(result: subprocess.CompletedProcess[bytes]) -> subprocess.CompletedProcess[bytes]:
    assert result.returncode == 0, describe(result)
    return result


@dataclass
class Tools:
    """skopeo and podman with their own configuration under `root`; `close()` when done."""

    root: Path
    hosts: dict[str, str] = field(default_factory=dict)
    """Extra /etc/hosts entries (name -> address) the tools see."""
    _runroot: Path | None = None

    def __post_init__(self) -> None:
        require_private_mounts()
        self.root.mkdir(parents=True, exist_ok=True)
        for sub in ("home/.config/containers", "tmp", "xdg", "cache"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        policy = {"default": [{"type": "insecureAcceptAnything"}]}
        (self.root / "policy.json").write_text(json.dumps(policy))
        (self.root / "auth.json").write_text('{"auths": {}}')  # podman wants it to exist
        # c/image reads $HOME/.config/containers/policy.json before /etc/containers/policy.json.
        (self.root / "home/.config/containers/policy.json").write_text(json.dumps(policy))
        (self.root / "registries.conf").write_text(
            'unqualified-search-registries = []\nshort-name-mode = "disabled"\n'
        )
        (self.root / "containers.conf").write_text(
            "[engine]\n"
            'cgroup_manager = "cgroupfs"\n'
            'events_logger = "file"\n'
            f'events_logfile_path = "{self.root / "events.log"}"\n'
            f'tmp_dir = "{self.root / "tmp" / "libpod"}"\n'
            f'image_copy_tmp_dir = "{self.root / "tmp"}"\n'
            "[network]\n"
            f'network_config_dir = "{self.root / "networks"}"\n'
        )

    @property
    def runroot(self) -> Path:
        """podman refuses a runroot over 50 characters, so this one is a short path in /tmp."""
        if self._runroot is None:
            self._runroot = Path(tempfile.mkdtemp(prefix="moorage-run-", dir="/tmp"))
            (self.root / "storage.conf").write_text(
                "[storage]\n"
                'driver = "vfs"\n'
                f'runroot = "{self._runroot}"\n'
                f'graphroot = "{self.root / "storage"}"\n'
            )
        return self._runroot

    def close(self) -> None:
        if self._runroot is not None:
            shutil.rmtree(self._runroot, ignore_errors=True)
            self._runroot = None

    def __enter__(self) -> Tools:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k.lower() not in _PROXY_VARS}
        env.update(
            HOME=str(self.root / "home"),
            TMPDIR=str(self.root / "tmp"),
            XDG_RUNTIME_DIR=str(self.root / "xdg"),
            REGISTRY_AUTH_FILE=str(self.root / "auth.json"),
            CONTAINERS_REGISTRIES_CONF=str(self.root / "registries.conf"),
            CONTAINERS_CONF=str(self.root / "containers.conf"),
        )
        if (self.root / "storage.conf").exists():  # written once podman needs it
            env["CONTAINERS_STORAGE_CONF"] = str(self.root / "storage.conf")
        return env

    def sign_in(self, host: str, username: str, password: str) -> None:
        """Store credentials for `host` in the tools' auth file, as `podman login` would."""
        path = self.root / "auth.json"
        document = json.loads(path.read_text())
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        document.setdefault("auths", {})[host] = {"auth": token}
        path.write_text(json.dumps(document))

    def fresh_cache(self, name: str) -> Path:
        """Another blob-info cache: a run with it knows nothing of earlier pulls and pushes."""
        path = self.root / f"cache-{name}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def run(
        self,
        argv: list[str],
        *,
        cache: Path | None = None,
        private_run: bool = False,
        timeout: float = TIMEOUT,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        hosts = ""
        if self.hosts:
            hosts_file = self.root / "hosts"
            lines = ["127.0.0.1 localhost", "::1 localhost"]
            lines += [f"{address} {name}" for name, address in sorted(self.hosts.items())]
            hosts_file.write_text("\n".join(lines) + "\n")
            hosts = str(hosts_file)
        wrapped = [
            "unshare",
            "-m",
            "sh",
            "-c",
            _NAMESPACE_SCRIPT,
            str(cache or self.root / "cache"),
            hosts,
            "run" if private_run else "",
            *argv,
        ]
        result = subprocess.run(
            wrapped,
            capture_output=True,
            env={**self.env(), **(env or {})},
            check=False,
            timeout=timeout,
            cwd=cwd,
        )
        result.args = argv  # what the tool was asked, without the wrapper
        return result

    def skopeo(self, *args: str, cache: Path | None = None) -> subprocess.CompletedProcess[bytes]:
        require("skopeo")
        argv = ["skopeo", "--policy", str(self.root / "policy.json"), *args]
        return self.run(argv, cache=cache)

    def podman(self, *args: str, cache: Path | None = None) -> subprocess.CompletedProcess[bytes]:
        require("podman")
        argv = [
            "podman",
            "--root",
            str(self.root / "storage"),
            "--runroot",
            str(self.runroot),
            "--storage-driver",
            "vfs",
            "--tmpdir",
            str(self.root / "tmp" / "libpod"),
            "--cgroup-manager",
            "cgroupfs",
            "--events-backend",
            "file",
            *args,
        ]
        return self.run(argv, cache=cache, private_run=True)


@contextmanager
def isolated_tools(root: Path, *programs: str) -> Iterator[Tools]:
    """Tools under `root`, once each of `programs` is installed (else skip, or fail when
    MOORAGE_REQUIRE_ALL=1); closed on the way out."""
    for program in programs:
        require(program)
    with Tools(root) as tools:
        yield tools


def read_layout(path: Path) -> tuple[str, dict[str, bytes]]:
    """(digest named by index.json, {digest: bytes} of every blob) of an OCI layout."""
    index = json.loads((path / "index.json").read_text())
    manifests = index["manifests"]
    assert len(manifests) == 1, f"expected one manifest in {path}/index.json: {index}"
    blobs = {f"sha256:{p.name}": p.read_bytes() for p in (path / "blobs" / "sha256").iterdir()}
    return str(manifests[0]["digest"]), blobs
