"""GET /v2/ requests per second with the network gate on and off, and with 0, 100 and
10,000 IP rules (the client's own address matching last), so the gate's cost shows as a ratio.

"Off" runs the same application with the gate replaced by plain registry resolution: a
bench-only build, never a server option. Needs `wrk` (apt-get install wrk).

Every request carries a Bearer token for its registry (the owner credential's, from the token
service, as a client gets it; registry_auth.py), so both variants also pay the token check
and only the gate differs between them.

    uv run python bench/gate_http_bench.py [--seconds 10] [--connections 8]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from registry_auth import Auth  # noqa: E402
from registry_bench import signed_rate  # noqa: E402
from tests.support.management import Management  # noqa: E402
from tests.support.server import Server, free_port  # noqa: E402


def wrk(url: str, host: str, auth: Auth, seconds: int, connections: int) -> float:
    """wrk -t1 with a Bearer token kept valid (registry_bench.signed_rate)."""
    rate = signed_rate(auth, url, {"Host": host}, connections, seconds)
    if rate.errors:
        raise SystemExit(f"wrk saw {rate.errors} refused requests or socket errors for {host}")
    return rate.per_second


def wait(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError as e:
            if e.code == 401:  # it answers, and asks who is calling
                return
            time.sleep(0.1)
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"no answer from {url}")


def serve(data_dir: Path, *flags: str) -> tuple[subprocess.Popen[bytes], int]:
    """The bench runner (bench/no_gate_server.py), with or without the gate: the same
    process setup either way, so only the gate differs."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "bench" / "no_gate_server.py"),
            str(data_dir),
            str(port),
            *flags,
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait(f"http://127.0.0.1:{port}/v2/")
    return process, port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="moorage-gate-bench-"))
    data = tmp / "data"
    setup = Server(data, free_port(), extra_args=["--max-ip-rules", "20000"]).start()
    names = {0: "gaterules0", 100: "rules100", 10_000: "rules10000"}
    try:
        mgmt = Management(setup)
        for count, name in names.items():
            mgmt.create(name)
            rules = [
                {"value": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"}
                for n in range(count - 1)
            ]
            if count:
                rules.append({"value": "127.0.0.1"})  # the client, matching last
                mgmt.update(name, networkRuleSet={"defaultAction": "Deny", "ipRules": rules})
        mgmt.close()
    finally:
        setup.stop()
    results: dict[str, float] = {}
    try:
        for label, flags in (("off", ()), ("on", ("--with-gate",))):
            process, port = serve(data, *flags)
            try:
                for count, name in names.items():
                    if label == "off" and count:
                        continue  # without the gate, rules change nothing
                    base, host = f"http://127.0.0.1:{port}", f"{name}.localhost:{port}"
                    auth = Auth.sign_in(base, data, f"repository:{name}:pull", host)
                    url = f"{base}/v2/"
                    wrk(url, host, auth, 2, args.connections)  # warm up: load and compile once
                    results[f"{label}_{count}"] = wrk(
                        url, host, auth, args.seconds, args.connections
                    )
            finally:
                process.terminate()
                process.wait()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    off = results["off_0"]
    print(
        f"GET /v2/ requests/s with a Bearer token, wrk -t1 -c{args.connections} "
        f"-d{args.seconds}s, one process"
    )
    print(f"  gate off (registry resolution only):      {off:>9,.0f}")
    for count in names:
        rps = results[f"on_{count}"]
        what = "default Allow" if count == 0 else f"Deny, {count:,} rules, client matches"
        print(f"  gate on, {what:<32} {rps:>9,.0f}  ({(off - rps) / off:+.1%} cost)")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
