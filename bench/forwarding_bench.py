"""Cost of resolving the client address, as the Forwarding middleware pays it on every request.

    uv run python bench/forwarding_bench.py

Each figure is microseconds per `ClientResolver.resolve(request)`, the best of 5 timeit runs
(each at least 0.2 s, timeit.autorange). The requests are aiohttp's mocked requests with a
transport that reports the peer; the trusted proxy is 10.0.0.0/8. Cases: an untrusted peer seen
before (the common case without a proxy: a dict hit, headers never read), and a trusted proxy
sending each header with 1 and with 8 hops (the walk parses hops from the right until the first
untrusted one, so the 8-hop chains put 7 trusted hops on the right to make it read them all).
"""

from __future__ import annotations

import platform
import sys
import timeit
from typing import Any

from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict

from moorage.access.client import ClientResolver
from moorage.domain.forwarding import ForwardedHeader

REPEAT = 5


class _Transport:
    def __init__(self, peer: str) -> None:
        self.peer = peer

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return (self.peer, 40000) if name == "peername" else default


def request(peer: str, headers: dict[str, str]) -> Any:
    return make_mocked_request(
        "GET", "/v2/", headers=CIMultiDict(headers), transport=_Transport(peer)
    )


def best_us(resolver: ClientResolver, req: Any) -> float:
    timer = timeit.Timer(lambda: resolver.resolve(req))
    number, _ = timer.autorange()
    return min(timer.repeat(REPEAT, number)) / number * 1e6


def chain(header: ForwardedHeader, hops: int) -> dict[str, str]:
    addresses = ["203.0.113.7", *(f"10.0.0.{i}" for i in range(1, hops))]
    if header is ForwardedHeader.FORWARDED:
        return {"Forwarded": ", ".join(f"for={a};proto=https" for a in addresses)}
    if header is ForwardedHeader.X_REAL_IP:
        return {"X-Real-IP": addresses[0], "X-Forwarded-Proto": "https"}
    return {"X-Forwarded-For": ", ".join(addresses), "X-Forwarded-Proto": "https"}


def main() -> None:
    print(f"# python {sys.version.split()[0]} on {platform.machine()}, best of {REPEAT}")
    resolver = ClientResolver(["10.0.0.0/8"])
    untrusted = request("192.0.2.1", chain(ForwardedHeader.X_FORWARDED_FOR, 8))
    print(f"untrusted peer, seen before:           {best_us(resolver, untrusted):6.2f} us")
    for header in ForwardedHeader:
        resolver = ClientResolver(["10.0.0.0/8"], header)
        for hops in (1, 8) if header is not ForwardedHeader.X_REAL_IP else (1,):
            figure = best_us(resolver, request("10.0.0.99", chain(header, hops)))
            hops_text = f"{hops} hop{'s' if hops > 1 else ' '}"
            print(f"trusted proxy, {header.value:<15} {hops_text}: {figure:6.2f} us")


if __name__ == "__main__":
    main()
