"""What data-plane authentication costs a real `moorage serve` on 127.0.0.1.

    uv run python bench/auth_bench.py [--seconds 10] [--connections 8] [--repeat 3]
                                      [--logins 5] [--before REV]

Prints requests/s of manifest GET and GET /v2/ with a Bearer token and with Basic credentials on
every request, their ratio to the figures recorded before authentication (and, with --before, to
the same figures measured now on that commit's build, which has no authentication), requests/s
of GET /oauth2/token with Basic, the latency of a cold Basic login (argon2), and how the login
throttle answers a stream of wrong passwords from one address. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from registry_auth import OWNER_FILE, Auth, Basic, owner
from registry_bench import (
    HOST,
    OCI_MANIFEST,
    REPO,
    Body,
    MiB,
    Rate,
    Target,
    moorage_target,
    push,
    put_manifest,
    run_tool,
    session,
    signed_rate,
)

ROOT = Path(__file__).resolve().parents[1]

# req/s before data-plane authentication, this machine, wrk -t1 -c8: manifest GET by tag from
# commit e8dcada (registry_bench.py), GET /v2/ the 21-22k of gate_http_bench.py in e2d847d and
# 8a08962 (gate on, default Allow). The machine is shared: --before measures the same now.
PREVIOUS = {"manifest GET by tag": 17_000.0, "GET /v2/": 21_500.0}
PRINCIPALS_API = "2024-11-01"
MANAGEMENT_SCOPE = "https://management.azure.com/.default"


# -- requests over one keep-alive connection -------------------------------------------------


def timed_get(
    conn: http.client.HTTPConnection, path: str, headers: dict[str, str]
) -> tuple[int, float]:
    """(status, seconds) of one GET, the body read."""
    start = time.perf_counter()
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    r.read()
    return r.status, time.perf_counter() - start


def call(
    target: Target, method: str, path: str, headers: dict[str, str], body: bytes
) -> dict[str, str]:
    conn = http.client.HTTPConnection(HOST, target.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        answer = r.read()
        if r.status not in (200, 201):
            raise RuntimeError(f"{method} {path}: {r.status} {answer[:300]!r}")
        found: dict[str, str] = json.loads(answer)
        return found
    finally:
        conn.close()


def new_principals(target: Target, count: int) -> list[Basic]:
    """`count` service principals with AcrPull on the subscription, never used yet."""
    assert target.data_dir is not None
    data = json.loads((target.data_dir / OWNER_FILE).read_text())
    form = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": data["appId"],
            "client_secret": data["password"],
            "scope": MANAGEMENT_SCOPE,
        }
    ).encode()
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    token = call(target, "POST", f"/{data['tenant']}/oauth2/v2.0/token", form_type, form)
    headers = {
        "Authorization": f"Bearer {token['access_token']}",
        "Content-Type": "application/json",
    }
    path = (
        f"/subscriptions/{data['subscription']}/providers/Moorage.Identity/servicePrincipals"
        f"?api-version={PRINCIPALS_API}"
    )
    made: list[Basic] = []
    for n in range(count):
        body = json.dumps({"displayName": f"bench-login-{n}", "role": "AcrPull"}).encode()
        sp = call(target, "POST", path, headers, body)
        made.append(Basic(sp["appId"], sp["password"]))
    return made


# -- request rates ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    label: str
    url: str
    headers: dict[str, str]
    auth: Auth  # a Bearer token kept valid, or Auth(None) when the headers say it all


def rates(cases: list[Case], args: argparse.Namespace) -> dict[str, list[Rate]]:
    """Every case `--repeat` times, round-robin, so a change in the machine's load spreads over
    all of them; each URL is warmed up for 2 s first."""
    for case in cases:
        signed_rate(case.auth, case.url, case.headers, args.connections, 2)
    found: dict[str, list[Rate]] = {case.label: [] for case in cases}
    for _ in range(args.repeat):
        for case in cases:
            rate = signed_rate(case.auth, case.url, case.headers, args.connections, args.seconds)
            found[case.label].append(rate)
    return found


def rate_line(label: str, runs: list[Rate], args: argparse.Namespace) -> float:
    values = [r.per_second for r in runs]
    median = statistics.median(values)
    note = (
        f"{runs[0].tool}, {args.connections} connections, {args.seconds} s, median of "
        f"{len(runs)}: {min(values):,.0f}-{max(values):,.0f}"
    )
    errors = sum(r.errors for r in runs)
    if errors:
        note += f", {errors} ERRORS"
    print(f"{label + ':':<52} {median:>8,.0f} req/s ({note})", flush=True)
    return median


# -- cold logins -----------------------------------------------------------------------------


def cold_logins(target: Target, count: int) -> None:
    """The first Basic request of each new principal (argon2 runs), then its second one (the
    login remembered), over an open connection; and argon2 alone, in this process."""
    from moorage.auth.secrets import hash_secret, verify_secret

    principals = new_principals(target, count)
    cold: list[float] = []
    warm: list[float] = []
    conn = http.client.HTTPConnection(HOST, target.port, timeout=60)
    try:
        conn.connect()
        for p in principals:
            for times in (cold, warm):
                status, seconds = timed_get(conn, "/v2/", {"Authorization": p.header})
                if status != 200:
                    raise RuntimeError(f"GET /v2/ as {p.username}: {status}")
                times.append(seconds * 1000)
    finally:
        conn.close()
    alone: list[float] = []
    hashed = hash_secret("bench secret")
    for _ in range(count):
        start = time.perf_counter()
        assert verify_secret(hashed, "bench secret")
        alone.append((time.perf_counter() - start) * 1000)
    print(
        f"cold Basic login (GET /v2/, a new service principal): median "
        f"{statistics.median(cold):.1f} ms of {count} ({min(cold):.1f}-{max(cold):.1f}); "
        f"its next request {statistics.median(warm):.2f} ms; argon2 verify alone "
        f"{statistics.median(alone):.1f} ms",
        flush=True,
    )


# -- the login throttle ----------------------------------------------------------------------

WRONG_PASSWORDS_LUA = """
local prefix = "@PREFIX@"
local groups = {@GROUPS@}
local n = @START@
c401, c429, other = 0, 0, 0
request = function()
  n = n + 1
  local a, b, c = n % 1000, math.floor(n / 1000) % 1000, math.floor(n / 1000000) % 1000
  local value = "Basic " .. prefix .. groups[c + 1] .. groups[b + 1] .. groups[a + 1]
  return wrk.format(nil, nil, {["Authorization"] = value})
end
response = function(status, headers, body)
  if status == 401 then c401 = c401 + 1
  elseif status == 429 then c429 = c429 + 1
  else other = other + 1 end
end
local threads = {}
setup = function(thread) table.insert(threads, thread) end
done = function(summary, latency, requests)
  local t = threads[1]
  io.write(string.format("STATUSES %d %d %d\\n", t:get("c401"), t:get("c429"), t:get("other")))
end
"""


def wrong_password_script(username: str, start: int) -> str:
    """A wrk script whose every request sends `username` with a password never sent before.
    Base64 of a text whose parts are each 3 bytes long is the parts' base64 joined, so the
    script joins precomputed base64 of "000".."999" after a prefix padded to 3 bytes."""
    prefix = f"{username}:wrong-"
    prefix += "x" * (-len(prefix) % 3)
    groups = ",".join(f'"{base64.b64encode(f"{n:03d}".encode()).decode()}"' for n in range(1000))
    return (
        WRONG_PASSWORDS_LUA.replace("@PREFIX@", base64.b64encode(prefix.encode()).decode())
        .replace("@GROUPS@", groups)
        .replace("@START@", str(start))
    )


def throttle(target: Target, workdir: Path, args: argparse.Namespace) -> None:
    """Wrong passwords from 127.0.0.1 to GET /oauth2/token: one at a time until the first
    429, then 200 more one at a time (their latency), then wrk with a fresh wrong password per
    request (the rate and what the answers were; wrk's latency percentiles are left out: they
    are not per request, and the 429 latency is the one-at-a-time figure)."""
    assert target.auth.source is not None and target.data_dir is not None
    token_url = urllib.parse.urlsplit(target.auth.source.url)
    path = f"{token_url.path}?{token_url.query}"
    username = owner(target.data_dir).username
    statuses: list[tuple[int, float]] = []
    conn = http.client.HTTPConnection(HOST, target.port, timeout=60)
    try:
        attempt = 0
        while not any(s == 429 for s, _ in statuses) and attempt < 50:
            attempt += 1
            wrong = Basic(username, f"wrong-{attempt}")
            statuses.append(timed_get(conn, path, {"Authorization": wrong.header}))
        if statuses[-1][0] != 429:
            raise RuntimeError(f"{attempt} wrong passwords and no 429: {statuses[-5:]}")
        first_429 = len(statuses)
        for _ in range(200):
            attempt += 1
            wrong = Basic(username, f"wrong-{attempt}")
            statuses.append(timed_get(conn, path, {"Authorization": wrong.header}))
    finally:
        conn.close()
    checked = [ms * 1000 for s, ms in statuses[: first_429 - 1]]
    after = statuses[first_429:]
    refused = [ms * 1000 for s, ms in after if s == 429]
    print(
        f"wrong passwords one at a time: 401 for the first {first_429 - 1} (median "
        f"{statistics.median(checked):.0f} ms each: argon2 runs), then 429 (in "
        f"{statuses[first_429 - 1][1] * 1000:.2f} ms); of the next {len(after)}: "
        f"{len(refused)} answered 429 (median {statistics.median(refused):.2f} ms, p99 "
        f"{statistics.quantiles(refused, n=100)[98]:.2f} ms), "
        f"{sum(1 for s, _ in after if s == 401)} answered 401",
        flush=True,
    )
    script = workdir / "wrong-passwords.lua"
    script.write_text(wrong_password_script(username, start=1_000_000))
    argv = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", "--timeout", "30s"]
    out = run_tool([*argv, "-s", str(script), target.auth.source.url], args.seconds + 60)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    counts = re.search(r"STATUSES (\d+) (\d+) (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if rps is None or counts is None:
        raise RuntimeError(f"wrk printed no rate:\n{out}")
    errors = f", socket errors: {socket_errors[1]}" if socket_errors else ""
    print(
        f"wrong passwords, a new one per request, wrk -t1 -c{args.connections} "
        f"{args.seconds} s: {float(rps[1]):,.0f} req/s; {counts[2]} answered 429, {counts[1]} "
        f"401, {counts[3]} other{errors}",
        flush=True,
    )


# -- set-up ----------------------------------------------------------------------------------


def with_manifest(target: Target) -> None:
    """A 1 MiB layer, a config and the manifest `latest` in REPO."""
    layer = Body(seed=7, size=MiB)
    digest = layer.digest()

    async def setup() -> None:
        async with session(1) as http:
            await push(http, target, layer, digest)
        await put_manifest(target, layer, digest)

    asyncio.run(setup())


def build_of(rev: str, workdir: Path) -> Path:
    """src/ of commit `rev`, unpacked from git (the working tree is not touched)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src"], capture_output=True, check=True
    ).stdout
    into = workdir / f"build-{rev.replace('/', '_')}"
    archive_path = workdir / "build.tar"
    archive_path.write_bytes(archive)
    with tarfile.open(archive_path) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def describe_tree() -> str:
    head = run_tool(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], 10).strip()
    dirty = run_tool(["git", "-C", str(ROOT), "status", "--porcelain", "src"], 10).strip()
    return head + (" with uncommitted changes in src/" if dirty else "")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--seconds", type=int, default=10, help="per request-rate run (default 10)")
    p.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    p.add_argument("--repeat", type=int, default=3, help="runs per rate; median (default 3)")
    p.add_argument("--logins", type=int, default=5, help="cold logins timed (default 5)")
    p.add_argument(
        "--before",
        metavar="REV",
        default=None,
        help="also measure the build of REV (e.g. 9bd4b65^, before authentication) now",
    )
    p.add_argument("--tmp-dir", default=None, help="where the temporary data directory goes")
    return p.parse_args(argv)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk")
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    workdir = Path(tempfile.mkdtemp(prefix="moorage-auth-bench-", dir=args.tmp_dir))
    targets: list[Target] = []
    try:
        load = " ".join(f"{v:.1f}" for v in os.getloadavg())
        print(
            f"{os.cpu_count()} cores, load average {load}; moorage {describe_tree()}; "
            f"wrk -t1 -c{args.connections}, {args.seconds} s per run, median of {args.repeat}",
            flush=True,
        )
        now = moorage_target(workdir)
        targets.append(now)
        now.start()
        with_manifest(now)
        assert now.data_dir is not None and now.auth.source is not None
        basic = {"Authorization": owner(now.data_dir).header}
        accept = {"Accept": OCI_MANIFEST}
        manifest = f"{now.url}/v2/{REPO}/manifests/latest"
        none = Auth(None)
        cases = [
            Case("manifest GET by tag, Bearer", manifest, accept, now.auth),
            Case("manifest GET by tag, Basic on every request", manifest, accept | basic, none),
            Case("GET /v2/, Bearer", f"{now.url}/v2/", {}, now.auth),
            Case("GET /v2/, Basic on every request", f"{now.url}/v2/", basic, none),
            Case("GET /oauth2/token, Basic (login remembered)", now.auth.source.url, basic, none),
        ]
        before: Target | None = None
        if args.before:
            src = build_of(args.before, workdir)
            before = moorage_target(workdir, "before", env={"PYTHONPATH": str(src)})
            targets.append(before)
            before.start()
            with_manifest(before)
            what = f"{args.before} ({before.auth.label})"
            b_manifest = f"{before.url}/v2/{REPO}/manifests/latest"
            cases += [
                Case(f"manifest GET by tag, build of {what}", b_manifest, accept, before.auth),
                Case(f"GET /v2/, build of {what}", f"{before.url}/v2/", {}, before.auth),
            ]
        found = rates(cases, args)
        median = {case.label: rate_line(case.label, found[case.label], args) for case in cases}
        if before is not None:
            before.stop()
        print()
        for kind, previous in PREVIOUS.items():
            same_run = next((m for lbl, m in median.items() if lbl.startswith(f"{kind}, build")), 0)
            for label in (f"{kind}, Bearer", f"{kind}, Basic on every request"):
                line = f"{label} / previous {previous:,.0f}: {median[label] / previous:.2f}"
                if same_run:
                    line += f"; / build of {args.before} now: {median[label] / same_run:.2f}"
                print(line, flush=True)
        print()
        cold_logins(now, args.logins)
        throttle(now, workdir, args)  # last: 127.0.0.1 stays throttled for a while
        load = " ".join(f"{v:.1f}" for v in os.getloadavg())
        print(f"load average at the end {load}")
        return 0
    except KeyboardInterrupt:
        print("interrupted; cleaning up", file=sys.stderr)
        return 130
    except Exception:
        for target in targets:
            if target.log.exists():
                tail = target.log.read_text(errors="replace")[-3000:]
                print(f"--- end of {target.name} log ---\n{tail}", file=sys.stderr)
        raise
    finally:
        for target in targets:
            target.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
