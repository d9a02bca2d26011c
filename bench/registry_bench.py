"""Throughput and request-rate figures of a real `moorage serve` process on 127.0.0.1.

    uv run python bench/registry_bench.py [--size-mib 1024] [--concurrency 8] [--seconds 10]
                                          [--compare-distribution]

Prints one line per figure; see bench/README.md for what each one means. Everything lives in one
temporary directory that is removed, and every server started here is stopped, even on Ctrl-C.

moorage is used as a client uses it: a Bearer token from its token service (with the owner
credential the server writes on first start), fetched again before it expires; see
registry_auth.py. CNCF Distribution runs without authentication, as before.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import aiohttp
from registry_auth import Auth

MiB = 1 << 20
GB = 1e9
BLOCK = 16 * MiB  # the random buffer repeated through every body
PIECE = MiB  # what the body generator hands to the HTTP client at once
HOST = "127.0.0.1"
REPO = "bench/blobs"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"

_BASE = random.Random(20260101).randbytes(BLOCK)
_BASE_PIECES = [_BASE[i : i + PIECE] for i in range(0, BLOCK, PIECE)]


# -- deterministic bodies --------------------------------------------------------------------


@dataclass(frozen=True)
class Body:
    """`size` bytes: the random block repeated, each repetition stamped with (seed, index)."""

    seed: int
    size: int

    def pieces(self) -> Iterator[bytes]:
        sent, index = 0, 0
        while sent < self.size:
            stamp = struct.pack(">QQ", self.seed, index)
            for n, piece in enumerate(_BASE_PIECES):
                if n == 0:
                    piece = stamp + piece[len(stamp) :]  # one 1 MiB copy per 16 MiB
                if sent + len(piece) > self.size:
                    piece = piece[: self.size - sent]
                yield piece
                sent += len(piece)
                if sent >= self.size:
                    return
            index += 1

    async def stream(self) -> AsyncIterator[bytes]:
        for piece in self.pieces():
            yield piece

    def digest(self) -> str:
        h = hashlib.sha256()
        for piece in self.pieces():
            h.update(piece)
        return "sha256:" + h.hexdigest()


def digests(bodies: list[Body]) -> list[str]:
    """sha256 of every body, streamed, on all cores (hashlib releases the GIL)."""
    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        return list(pool.map(Body.digest, bodies))


# -- the servers -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Target:
    """A registry process under test."""

    name: str
    argv: list[str]
    workdir: Path
    port: int
    push_mode: str  # "post" (POST ?digest= with the body) or "post+put"
    data_dir: Path | None = None  # where a moorage server keeps its owner credential
    env: dict[str, str] = field(default_factory=dict)  # added to the server's environment
    process: subprocess.Popen[bytes] | None = None
    auth: Auth = field(default_factory=lambda: Auth(None))
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.workdir / f"{self.name}.log"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        with self.log.open("ab") as log:
            # Own session: a Ctrl-C in the terminal reaches only this script, which stops us.
            self.process = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/v2/", timeout=1) as r:
                    if r.status == 200:
                        break
            except urllib.error.HTTPError as e:
                if e.code == 401:  # it answers, and asks who is calling
                    break
                time.sleep(0.05)
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"{self.name} did not answer GET /v2/ within {timeout}s")
        self.auth = Auth.sign_in(self.url, self.data_dir, f"repository:{REPO}:pull,push")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def _proc(self, name: str) -> str | None:
        if self.process is None:
            return None
        try:
            return Path(f"/proc/{self.process.pid}/{name}").read_text()
        except OSError:
            return None

    def peak_rss_mib(self) -> float | None:
        match = re.search(r"^VmHWM:\s+(\d+) kB", self._proc("status") or "", re.M)
        return int(match[1]) / 1024 if match else None

    def cpu_seconds(self) -> float:
        stat = self._proc("stat")
        if stat is None:
            return 0.0
        fields = stat.rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def moorage_target(
    workdir: Path, name: str = "moorage", env: dict[str, str] | None = None
) -> Target:
    """`python -m moorage serve`; `env` can point PYTHONPATH at another build's src/."""
    port = free_port()
    data = workdir / f"{name}-data"
    argv = [
        sys.executable,
        "-m",
        "moorage",
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--data-dir",
        str(data),
    ]
    return Target(name, argv, workdir, port, "post", data_dir=data, env=env or {})


def distribution_target(workdir: Path, binary: str) -> Target:
    port = free_port()
    config = workdir / "distribution.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {workdir / 'distribution-data'}\n"
        "  delete:\n    enabled: true\n"
        "  maintenance:\n    uploadpurging:\n      enabled: false\n"
        f"http:\n  addr: {HOST}:{port}\n"
    )
    # Distribution 2.8 ignores a body on POST ?digest=, so it gets POST then PUT ?digest=.
    return Target("distribution", [binary, "serve", str(config)], workdir, port, "post+put")


# -- HTTP clients ----------------------------------------------------------------------------


def session(concurrency: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency * 2),
        timeout=aiohttp.ClientTimeout(total=None, sock_read=300),
        auto_decompress=False,
    )


async def push(http: aiohttp.ClientSession, target: Target, body: Body, digest: str) -> None:
    auth = target.auth.headers()
    headers = {
        "Content-Length": str(body.size),
        "Content-Type": "application/octet-stream",
        **auth,
    }
    uploads = f"{target.url}/v2/{REPO}/blobs/uploads/"
    if target.push_mode == "post":
        url = f"{uploads}?digest={digest}"
        method = "POST"
    else:
        async with http.post(uploads, headers={"Content-Length": "0", **auth}) as r:
            if r.status != 202:
                raise RuntimeError(f"{target.name}: POST {uploads}: {r.status} {await r.text()}")
            location = r.headers["Location"]
        url = location if location.startswith("http") else target.url + location
        url += ("&" if "?" in url else "?") + f"digest={digest}"
        method = "PUT"
    async with http.request(method, url, data=body.stream(), headers=headers) as r:
        if r.status != 201:
            raise RuntimeError(f"{target.name}: {method} blob: {r.status} {await r.text()}")


async def pull(http: aiohttp.ClientSession, target: Target, digest: str) -> int:
    """GET a blob, discarding the bytes; returns how many arrived."""
    received = 0
    url = f"{target.url}/v2/{REPO}/blobs/{digest}"
    async with http.get(url, headers=target.auth.headers()) as r:
        if r.status != 200:
            raise RuntimeError(f"{target.name}: GET blob: {r.status}")
        async for chunk in r.content.iter_any():
            received += len(chunk)
    return received


async def put_manifest(target: Target, layer: Body, layer_digest: str) -> str:
    """Push a config blob and a manifest (tag `latest`) whose one layer is `layer`."""
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        }
    ).encode()
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [{"mediaType": OCI_LAYER, "digest": layer_digest, "size": layer.size}],
        }
    ).encode()
    auth = target.auth.headers()
    async with session(1) as http:
        if target.push_mode == "post":
            url = f"{target.url}/v2/{REPO}/blobs/uploads/?digest={config_digest}"
            async with http.post(url, data=config, headers=auth) as r:
                assert r.status == 201, (r.status, await r.text())
        else:
            async with http.post(f"{target.url}/v2/{REPO}/blobs/uploads/", headers=auth) as r:
                location = r.headers["Location"]
            url = location if location.startswith("http") else target.url + location
            url += ("&" if "?" in url else "?") + f"digest={config_digest}"
            async with http.put(url, data=config, headers=auth) as r:
                assert r.status == 201, (r.status, await r.text())
        url = f"{target.url}/v2/{REPO}/manifests/latest"
        headers = {"Content-Type": OCI_MANIFEST, **auth}
        async with http.put(url, data=manifest, headers=headers) as r:
            assert r.status == 201, (r.status, await r.text())
            return r.headers["Docker-Content-Digest"]


# -- request-rate tools ----------------------------------------------------------------------


@dataclass
class Rate:
    per_second: float
    errors: int
    tool: str


def run_tool(argv: list[str], timeout: float) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({done.returncode}): {done.stderr}{done.stdout}")
    return done.stdout


def wrk_rate(url: str, headers: dict[str, str], concurrency: int, seconds: int) -> Rate:
    argv = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s"]
    for k, v in headers.items():
        argv += ["-H", f"{k}: {v}"]
    out = run_tool([*argv, url], seconds + 30)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    errors = int(bad[1]) if bad else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors[1]))
    if rps is None:
        raise RuntimeError(f"wrk printed no rate:\n{out}")
    return Rate(float(rps[1]), errors, "wrk -t1")


def ab_rate(url: str, headers: dict[str, str], concurrency: int, seconds: int, head: bool) -> Rate:
    argv = ["ab", "-q", "-k", "-n", "100000000", "-c", str(concurrency), "-t", str(seconds)]
    if head:
        argv.append("-i")
    for k, v in headers.items():
        argv += ["-H", f"{k}: {v}"]
    out = run_tool([*argv, url], seconds + 30)
    rps = re.search(r"Requests per second:\s+([\d.]+)", out)
    failed = re.search(r"Failed requests:\s+(\d+)", out)
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
    if rps is None:
        raise RuntimeError(f"ab printed no rate:\n{out}")
    errors = (int(failed[1]) if failed else 0) + (int(non2xx[1]) if non2xx else 0)
    return Rate(float(rps[1]), errors, "ab -k" + (" -i" if head else ""))


async def aiohttp_rate(
    url: str, headers: dict[str, str], concurrency: int, seconds: int, head: bool
) -> Rate:
    count, errors = 0, 0
    deadline = time.monotonic() + seconds
    method = "HEAD" if head else "GET"

    async def worker(http: aiohttp.ClientSession) -> None:
        nonlocal count, errors
        while time.monotonic() < deadline:
            async with http.request(method, url, headers=headers) as r:
                await r.read()
                count += 1
                errors += r.status >= 400

    start = time.monotonic()
    async with session(concurrency) as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
    return Rate(count / (time.monotonic() - start), errors, f"aiohttp client x{concurrency}")


def request_rate(
    url: str, headers: dict[str, str], concurrency: int, seconds: int, head: bool = False
) -> Rate:
    if not head and shutil.which("wrk"):
        return wrk_rate(url, headers, concurrency, seconds)
    if shutil.which("ab"):
        return ab_rate(url, headers, concurrency, seconds, head)
    return asyncio.run(aiohttp_rate(url, headers, concurrency, seconds, head))


def signed_rate(
    auth: Auth,
    url: str,
    headers: dict[str, str],
    concurrency: int,
    seconds: int,
    head: bool = False,
) -> Rate:
    """`request_rate` with a Bearer token that stays valid: a run longer than one token lives
    is cut into pieces, each with a token fetched before it (the tools send a fixed header);
    the rate is the time-weighted mean of the pieces."""
    piece = max(1, int(min(seconds, auth.longest_run())))
    weighted, errors, tool, left = 0.0, 0, "", seconds
    while left > 0:
        run = min(left, piece)
        rate = request_rate(url, {**headers, **auth.headers(run)}, concurrency, run, head)
        weighted += rate.per_second * run
        errors += rate.errors
        tool, left = rate.tool, left - run
    return Rate(weighted / seconds, errors, tool)


# -- the figures -----------------------------------------------------------------------------


@dataclass
class Figure:
    label: str
    value: float
    unit: str
    note: str = ""

    def line(self, target: str) -> str:
        shown = f"{self.value:.2f}" if self.unit == "GB/s" else f"{self.value:,.0f}"
        note = f" ({self.note})" if self.note else ""
        return f"{target:<12} {self.label}: {shown} {self.unit}{note}"


def report(target: Target, figure: Figure, figures: list[Figure]) -> None:
    figures.append(figure)
    print(figure.line(target.name), flush=True)


def throughput(
    target: Target,
    label: str,
    nbytes: int,
    runs: list[Callable[[], object]],
    figures: list[Figure],
) -> None:
    """Time each run (each moves `nbytes`); report the median rate, the best and server CPU."""
    rates, cpus = [], []
    for run in runs:
        cpu = target.cpu_seconds()
        start = time.perf_counter()
        run()
        rates.append(nbytes / (time.perf_counter() - start) / GB)
        cpus.append(target.cpu_seconds() - cpu)
    note = (
        f"median of {len(runs)}, best {max(rates):.2f}, "
        f"server cpu {statistics.median(cpus):.2f} s/run"
    )
    report(target, Figure(label, statistics.median(rates), "GB/s", note), figures)


def plan(args: argparse.Namespace) -> tuple[list[Body], list[list[Body]]]:
    """Distinct bodies for every push run: one big blob per run, `concurrency` small ones."""
    size = args.size_mib * MiB
    each = size if args.concurrent_full else size // args.concurrency
    singles = [Body(seed=1 + run, size=size) for run in range(args.repeat)]
    groups = [
        [Body(seed=1000 * (run + 1) + i, size=each) for i in range(args.concurrency)]
        for run in range(args.repeat)
    ]
    return singles, groups


def bench_target(target: Target, args: argparse.Namespace) -> list[Figure]:
    figures: list[Figure] = []
    n, mib = args.concurrency, args.size_mib
    singles, groups = plan(args)
    every = [*singles, *(b for group in groups for b in group)]
    digest_of = dict(zip(every, digests(every), strict=True))
    big, big_digest = singles[0], digest_of[singles[0]]

    async def push_all(bodies: list[Body]) -> None:
        async with session(len(bodies)) as http:
            await asyncio.gather(*(push(http, target, b, digest_of[b]) for b in bodies))

    async def pull_all(streams: int) -> None:
        async with session(streams) as http:
            got = await asyncio.gather(*(pull(http, target, big_digest) for _ in range(streams)))
        if sum(got) != streams * big.size:
            raise RuntimeError(
                f"{target.name}: pulled {sum(got)} bytes, expected {streams * big.size}"
            )

    def run_push(bodies: list[Body]) -> None:
        asyncio.run(push_all(bodies))

    each = groups[0][0].size
    throughput(
        target,
        f"push 1 stream {mib} MiB",
        big.size,
        [functools.partial(run_push, [b]) for b in singles],
        figures,
    )
    throughput(
        target,
        f"push {n} streams {n}x{each // MiB} MiB",
        n * each,
        [functools.partial(run_push, g) for g in groups],
        figures,
    )
    throughput(
        target,
        f"pull 1 stream {mib} MiB",
        big.size,
        [lambda: asyncio.run(pull_all(1))] * args.repeat,
        figures,
    )
    throughput(
        target,
        f"pull {n} streams {n}x{mib} MiB (same blob)",
        n * big.size,
        [lambda: asyncio.run(pull_all(n))] * args.repeat,
        figures,
    )

    manifest_digest = asyncio.run(put_manifest(target, big, big_digest))
    accept = {"Accept": OCI_MANIFEST}
    secs, c = args.seconds, args.connections
    base = f"{target.url}/v2/{REPO}"
    for label, url, headers, head in [
        ("manifest GET by tag", f"{base}/manifests/latest", accept, False),
        ("manifest GET by digest", f"{base}/manifests/{manifest_digest}", accept, False),
        ("GET /v2/", f"{target.url}/v2/", {}, False),
        ("blob HEAD", f"{base}/blobs/{big_digest}", {}, True),
    ]:
        rate = signed_rate(target.auth, url, headers, c, secs, head)
        note = f"{rate.tool}, {c} connections, {secs} s, {target.auth.label}"
        if rate.errors:
            note += f", {rate.errors} ERRORS"
        report(target, Figure(label, rate.per_second, "req/s", note), figures)
    return figures


def filesystem_of(path: Path) -> str:
    """`type mountpoint` of the filesystem holding path, from /proc/mounts."""
    best = ("?", "")
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return "?"
    resolved = str(path.resolve())
    for line in mounts:
        _, point, kind, *_ = line.split()
        inside = resolved == point or resolved.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best[1]):
            best = (kind, point)
    return f"{best[0]} {best[1]}"


def measure(target: Target, args: argparse.Namespace) -> list[Figure]:
    target.start()
    try:
        figures = bench_target(target, args)
        rss = target.peak_rss_mib()
        if rss is not None:
            report(target, Figure("server peak RSS", rss, "MiB", "VmHWM"), figures)
        return figures
    finally:
        target.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--size-mib", type=int, default=1024, help="blob size (default 1024)")
    p.add_argument("--concurrency", type=int, default=8, help="parallel streams (default 8)")
    p.add_argument("--seconds", type=int, default=10, help="per request-rate figure (default 10)")
    p.add_argument(
        "--connections",
        type=int,
        default=None,
        help="connections for request rates (default: --concurrency)",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each throughput figure; the median is printed (default 3)",
    )
    p.add_argument(
        "--concurrent-full",
        action="store_true",
        help="push --concurrency blobs of --size-mib each instead of size/concurrency",
    )
    p.add_argument(
        "--compare-distribution",
        action="store_true",
        help="also measure CNCF Distribution (docker-registry) and print ratios",
    )
    p.add_argument("--distribution-binary", default="/usr/bin/docker-registry")
    p.add_argument("--tmp-dir", default=None, help="where the temporary data directory goes")
    args = p.parse_args(argv)
    if args.connections is None:
        args.connections = args.concurrency
    return args


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.compare_distribution and not Path(args.distribution_binary).exists():
        print(f"{args.distribution_binary} is missing (apt-get install docker-registry)")
        return 2
    signal.signal(signal.SIGTERM, _interrupt)  # clean up on kill as on Ctrl-C
    singles, groups = plan(args)
    per_target = sum(b.size for b in singles) + sum(b.size for g in groups for b in g)
    need = per_target * (2 if args.compare_distribution else 1)
    workdir = Path(tempfile.mkdtemp(prefix="moorage-bench-", dir=args.tmp_dir))
    targets: list[Target] = []
    results: dict[str, list[Figure]] = {}
    try:
        free = shutil.disk_usage(workdir).free
        if free < need * 1.1:
            print(f"{workdir} has {free / GB:.1f} GB free; this run writes {need / GB:.1f} GB")
            return 2
        print(
            f"{os.cpu_count()} cores, python {sys.version.split()[0]}, "
            f"aiohttp {aiohttp.__version__}; data in {workdir} "
            f"({filesystem_of(workdir)}); {args.repeat} runs per throughput figure",
            flush=True,
        )
        targets.append(moorage_target(workdir))
        if args.compare_distribution:
            targets.append(distribution_target(workdir, args.distribution_binary))
        for target in targets:
            results[target.name] = measure(target, args)
    except KeyboardInterrupt:
        print("interrupted; cleaning up", file=sys.stderr)
        return 130
    except Exception:
        for target in targets:  # the logs go with the temp dir: show their ends first
            if target.log.exists():
                tail = target.log.read_text(errors="replace")[-3000:]
                print(f"--- end of {target.name} log ---\n{tail}", file=sys.stderr)
        raise
    finally:
        for target in targets:
            target.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    if len(results) == 2:
        print()
        for ours, theirs in zip(results["moorage"], results["distribution"], strict=True):
            if ours.unit == "MiB":
                ratio = f"{ours.value:.0f} vs {theirs.value:.0f} MiB"
            else:
                ratio = f"{ours.value / theirs.value:.2f}x" if theirs.value else "n/a"
            print(f"moorage/distribution {ours.label}: {ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
