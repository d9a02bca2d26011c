"""Debian's nginx as a real reverse proxy in tests, kept in a directory of its own.

    with running_nginx(tmp_path / "nginx", PROXY_SERVER, upstream=server.address) as nginx:
        httpx.get(f"http://127.0.0.1:{nginx.port}/v2/")

The template is the inside of nginx's `http {}` block: one or more `server {}` blocks. `@port@`
is the port nginx listens on (a free loopback port chosen here), `@dir@` its directory, and
every other `@name@` a value given as a keyword argument. (nginx's own syntax uses `$` and
braces, so neither str.format nor string.Template fits.) Everything nginx writes (pid, logs,
temporary files) stays in the directory; it runs in the foreground (`daemon off;`) as a child
of the test, and is stopped when the block ends.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.server import free_port
from tests.support.tools import require

CONFIG = """\
worker_processes 1;
pid @dir@/nginx.pid;
error_log @dir@/error.log info;
events { worker_connections 256; }
http {
    access_log @dir@/access.log;
    client_body_temp_path @dir@/client_body;
    proxy_temp_path @dir@/proxy;
    fastcgi_temp_path @dir@/fastcgi;
    uwsgi_temp_path @dir@/uwsgi;
    scgi_temp_path @dir@/scgi;
@http@
}
"""

REGISTRY_LOCATION = """\
        client_max_body_size 0;
        proxy_request_buffering off;
        proxy_buffering off;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        proxy_read_timeout 600s;
        proxy_send_timeout 600s;
"""
"""What every registry location needs (facts.md): unbuffered streaming both ways, the
client's Host (it names the registry), HTTP/1.1 keep-alive to moorage."""


@dataclass(frozen=True)
class Nginx:
    directory: Path
    port: int
    host: str = "127.0.0.1"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def log(self) -> str:
        path = self.directory / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


def render(template: str, **values: object) -> str:
    """The template with every `@name@` replaced; a name without a value is an error."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"nginx template: no value for @{name}@")
        return str(values[name])

    return re.sub(r"@([a-z_]+)@", value, template)


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def running_nginx(
    directory: Path,
    http: str,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    **values: object,
) -> Iterator[Nginx]:
    """Write nginx.conf from the `http` template into `directory`, start nginx, yield it once
    it accepts connections on `@port@` (`port`, or a free one), and stop it afterwards."""
    binary = require("nginx")
    directory.mkdir(parents=True, exist_ok=True)
    # As root, nginx's workers run as `nobody`: they must reach the directory to write its
    # temporary files (pytest's directories are 0700).
    for parent in (directory, *directory.parents):
        mode = os.stat(parent).st_mode
        if mode & 0o111 != 0o111:
            os.chmod(parent, mode | 0o111)  # noqa: S103 - search (x) on directories only
    port = port or free_port(host)
    config = directory / "nginx.conf"
    body = render(http, port=port, dir=directory, **values)
    config.write_text(render(CONFIG, dir=directory, http=body))
    log = (directory / "stderr.log").open("ab")
    process = subprocess.Popen(
        [binary, "-p", str(directory), "-c", str(config), "-g", "daemon off;"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a Ctrl-C of the test run reaches it only through us
    )
    nginx = Nginx(directory, port, host)
    try:
        deadline = time.monotonic() + 10
        while not _answers(host, port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"nginx did not start (exit {process.poll()}):\n"
                    f"{(directory / 'stderr.log').read_text(errors='replace')}\n{nginx.log()}"
                )
            time.sleep(0.02)
        yield nginx
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # fast shutdown: master and workers
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()
