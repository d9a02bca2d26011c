"""`moorage serve` as a user runs it: start, print where to push, stop cleanly, refuse bad input."""

from __future__ import annotations

import signal
import socket
import ssl
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.registry_http import owner_auth
from tests.support.server import Server, free_port


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stops_cleanly_on_signal(tmp_path: Path, sig: signal.Signals) -> None:
    server = Server(tmp_path / "data", free_port()).start()
    assert server.stop(sig) == 0
    log = server.log()
    assert "Traceback" not in log, log
    assert "push to the default registry:  127.0.0.1:" in log, log


def test_data_dir_is_private_and_holds_the_database(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", free_port()).start()
    server.stop()
    mode = stat.S_IMODE((tmp_path / "data").stat().st_mode)
    assert mode == 0o700, oct(mode)
    assert (tmp_path / "data" / "moorage.db").is_file()


def test_default_registry_answers_on_the_bare_host_and_its_login_server(server: Server) -> None:
    for host in (server.address, f"default.localhost:{server.port}", f"localhost:{server.port}"):
        response = httpx.get(f"{server.url}/v2/", headers={"Host": host}, auth=owner_auth(server))
        assert response.status_code == 200, (host, response.text)
        assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "70000"], "--port: 70000 is not a TCP port"),
        (["--default-registry", "bad-name"], "--default-registry: invalid registry name"),
        (["--max-manifest-bytes", "10"], "--max-manifest-bytes: 10 is too small"),
        (["--login-server-suffix", "a/b"], "--login-server-suffix: 'a/b'"),
        (
            ["--forwarded-header", "X-Client-IP"],
            "--forwarded-header (MOORAGE_FORWARDED_HEADER): 'X-Client-IP' is not one of "
            "X-Forwarded-For, Forwarded, X-Real-IP",
        ),
    ],
)
def test_bad_settings_stop_before_start(tmp_path: Path, args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "moorage", "serve", "--data-dir", str(tmp_path / "d"), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert not (tmp_path / "d").exists()


def test_tls_with_a_local_ca(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", free_port(), extra_args=["--tls"]).start()
    try:
        assert f"trust this CA for TLS:         {server.ca}" in server.log()
        for host in ("127.0.0.1", "localhost"):
            r = httpx.get(
                f"https://{host}:{server.port}/v2/",
                verify=ssl_context(server.ca),
                auth=owner_auth(server),
            )
            assert r.status_code == 200, r.text
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{server.url}/v2/", verify=ssl.create_default_context(cafile=None))
        key_mode = stat.S_IMODE((server.data_dir / "tls" / "ca-key.pem").stat().st_mode)
        assert key_mode == 0o600
    finally:
        server.stop()


def test_tls_with_the_users_certificate(tmp_path: Path) -> None:
    from moorage.auth.tls import ensure_local_tls

    theirs = ensure_local_tls(tmp_path / "their-pki", ["localhost"], ["127.0.0.1"])
    assert theirs.ca is not None
    server = Server(
        tmp_path / "data",
        free_port(),
        trust=theirs.ca,
        extra_args=["--tls", "--tls-cert", str(theirs.cert), "--tls-key", str(theirs.key)],
    ).start()
    try:
        r = httpx.get(f"{server.url}/v2/", verify=ssl_context(theirs.ca), auth=owner_auth(server))
        assert r.status_code == 200, r.text
        assert not (server.data_dir / "tls").exists()  # moorage made no CA of its own
    finally:
        server.stop()


def ssl_context(ca: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca))


def serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "moorage", "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def said(result: subprocess.CompletedProcess[str]) -> list[str]:
    """What a refused start printed: one line, no traceback, a non-zero exit."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert "moorage is serving" not in result.stdout
    return result.stderr.strip().splitlines()


@pytest.mark.parametrize("where", ["public", "private endpoint"])
def test_a_taken_port_is_named_in_one_line(tmp_path: Path, where: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        if where == "public":
            args, what = ["--port", str(port)], "the public listener"
        else:
            args = ["--port", str(free_port()), "--private-endpoint", f"pe1=127.0.0.1:{port}"]
            what = "private endpoint pe1"
        result = serve("--data-dir", str(tmp_path / "data"), *args)
    assert said(result) == [
        f"Error: cannot listen on 127.0.0.1:{port} ({what}): the address is already in use "
        "(another server listens there)"
    ]


def test_a_data_directory_in_use_is_named_in_one_line(tmp_path: Path) -> None:
    first = Server(tmp_path / "data", free_port()).start()
    try:
        result = serve("--data-dir", str(first.data_dir), "--port", str(free_port()))
        pid = first.process.pid if first.process else None
        assert said(result) == [
            f"Error: the data directory {first.data_dir} is in use by another moorage server "
            f"(pid {pid}): stop it, or give this one another --data-dir"
        ]
        # Sharing is for replicas that all say so: the first did not.
        shared = serve(
            "--data-dir", str(first.data_dir), "--port", str(free_port()), "--shared-data-dir"
        )
        assert "only servers that all say --shared-data-dir share one" in said(shared)[0]
    finally:
        first.kill()  # a killed server's hold on the directory dies with it
    second = Server(tmp_path / "data", free_port()).start()
    second.stop()
