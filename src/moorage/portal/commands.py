"""The client commands the Overview offers to copy, as they must be typed to work."""

from __future__ import annotations

import ipaddress

from aiohttp import web


def commands(
    server: str, repository: str, tag: str, *, tls: bool, address: str | None
) -> list[tuple[str, str, str]]:
    """(element id, what it does, command) of the client commands the Overview offers. A login
    server under `.localhost` comes with the hosts-file line that podman, skopeo and docker need
    (Go-based tools ask DNS for it, which does not know it); `address` is the server's address
    the browser reached, which the hosts file then names."""
    image = f"{server}/{repository}:{tag}"
    podman = "" if tls else " --tls-verify=false"
    local = repository.rsplit("/", 1)[-1]
    hosts = hosts_line(server, address)
    return [
        *(
            [("cmd-hosts", "First, let podman and skopeo find the login server", hosts)]
            if hosts
            else []
        ),
        ("cmd-login", "Sign in", f"podman login{podman} {server}"),
        ("cmd-push", "Push (name the image so first: podman tag)", f"podman push{podman} {image}"),
        ("cmd-pull", "Pull", f"podman pull{podman} {image}"),
        (
            "cmd-copy",
            "Copy to a local OCI layout",
            f"skopeo copy{'' if tls else ' --src-tls-verify=false'} docker://{image} "
            f"oci:{local}:{tag}",
        ),
    ]


def hosts_line(login_server: str, address: str | None) -> str | None:
    """The command that adds the login server's host name to /etc/hosts, when it is under
    `.localhost` and the server's address is known."""
    host = login_server.rsplit(":", 1)[0] if not login_server.endswith("]") else login_server
    if not host.lower().rstrip(".").endswith(".localhost") or not address:
        return None
    return f'echo "{address} {host}" | sudo tee -a /etc/hosts'


def local_address(request: web.Request) -> str | None:
    """The server's address this request came in on (never a wildcard)."""
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    if not isinstance(sockname, tuple) or not sockname:
        return None
    try:
        ip = ipaddress.ip_address(str(sockname[0]).split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip)
