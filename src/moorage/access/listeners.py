"""The service's listeners: the public one, and one per private endpoint, all in one process and
one application. Which listener a request came in on is read from its socket (the local
address and port it was accepted on), never from anything the client sends: a Host header
cannot move a request from one listener to another's rules.
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
from typing import Final

from aiohttp import web

log = logging.getLogger("moorage.access")


def _socket_key(address: str, port: int) -> tuple[str, int]:
    """One spelling per socket address: IPv4-mapped IPv6 as IPv4, IPv6 compressed."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip), port


class Listeners:
    """Private endpoint listeners, started on the server's runner next to the public site."""

    def __init__(self) -> None:
        self._by_socket: dict[tuple[str, int], str] = {}
        self._retired: dict[tuple[str, int], str] = {}
        """Sockets of deleted endpoints: a connection still open there is judged as that
        endpoint's (which admits no registry any more), never as the public listener's."""
        self._sites: dict[str, web.TCPSite] = {}
        self._runner: web.AppRunner | None = None
        self._ssl: ssl.SSLContext | None = None

    def attach(self, runner: web.AppRunner, ssl_context: ssl.SSLContext | None) -> None:
        """The runner (and TLS context) private listeners are started on."""
        self._runner = runner
        self._ssl = ssl_context

    @property
    def names(self) -> list[str]:
        return sorted(self._sites)

    def endpoint_for(self, request: web.BaseRequest) -> str | None:
        """The private endpoint a request came in on (or came in on, before it was deleted);
        None for the public listener."""
        if not self._by_socket and not self._retired:
            return None
        transport = request.transport
        sockname = transport.get_extra_info("sockname") if transport is not None else None
        if not isinstance(sockname, tuple) or len(sockname) < 2:
            return None
        try:
            key = _socket_key(str(sockname[0]), int(sockname[1]))
        except ValueError:
            return None
        return self._by_socket.get(key) or self._retired.get(key)

    async def start(self, name: str, address: str, port: int) -> None:
        """Listen for private endpoint `name` on address:port (restarting it if it moved)."""
        if self._runner is None:
            raise RuntimeError("the server has not started its listeners yet")
        key = _socket_key(address, port)
        owner = self._by_socket.get(key)
        if owner is not None and owner.lower() != name.lower():
            raise OSError(f"{address}:{port} is already private endpoint {owner}'s listener")
        if name in self._sites:
            await self.stop(name)
        site = web.TCPSite(self._runner, address, port, ssl_context=self._ssl)
        await site.start()
        self._sites[name] = site
        self._by_socket[key] = name
        self._retired.pop(key, None)
        log.info("private endpoint %s listening on %s", name, site.name)

    async def stop(self, name: str) -> None:
        """Stop listening for `name`, and close the idle connections already open to it; one
        serving a request finishes it, and its next request is refused."""
        site = self._sites.pop(name, None)
        sockets = {k for k, v in self._by_socket.items() if v == name}
        self._by_socket = {k: v for k, v in self._by_socket.items() if v != name}
        if site is None:
            return
        await site.stop()
        self._retired.update(dict.fromkeys(sockets, name))
        server = self._runner.server if self._runner is not None else None
        closed = 0
        for connection in server.connections if server is not None else []:
            transport = connection.transport
            sockname = transport.get_extra_info("sockname") if transport is not None else None
            if isinstance(sockname, tuple) and _socket_key(*sockname[:2]) in sockets:
                # An idle connection closes now. A busy one answers its request (aiohttp's
                # close() would stop reading the body it is receiving), and a next request on
                # it meets the retired socket: judged as the deleted endpoint's, refused.
                if getattr(connection, "_request_in_progress", True):
                    continue
                connection.force_close()
                closed += 1
        log.info("private endpoint %s stopped listening (%d idle connections closed)", name, closed)


LISTENERS: Final = web.AppKey("listeners", Listeners)
