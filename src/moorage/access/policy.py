"""Compiled policies per registry, rebuilt only when the registry changes or a rule expires.

The registry record comes from the resolver (changes made in this process are seen at once,
others within its cache time); its etag changes on every write, so a policy compiled for one
etag is never used for another.
"""

from __future__ import annotations

import logging
import time

from moorage.domain.errors import DomainError
from moorage.domain.network import Policy
from moorage.domain.registry import (
    ConnectionStatus,
    DefaultAction,
    PublicNetworkAccess,
    Registry,
)

log = logging.getLogger("moorage.access")


class PolicyCache:
    def __init__(self) -> None:
        self._policies: dict[int, Policy] = {}

    def policy(self, registry: Registry, now: float | None = None) -> Policy:
        cached = self._policies.get(registry.id)
        if cached is not None and cached.version == registry.etag:
            if cached.expires_at is None:
                return cached  # nothing in it can expire: no need to read the clock
            now = time.time() if now is None else now
            if now < cached.expires_at:
                return cached
        now = time.time() if now is None else now
        live = [
            r
            for r in registry.network_rule_set.ip_rules
            if r.expires_at is None or r.expires_at.timestamp() > now
        ]
        expiries = [r.expires_at.timestamp() for r in live if r.expires_at is not None]
        try:
            policy = Policy.compile(
                registry.name,
                registry.public_network_access is PublicNetworkAccess.ENABLED,
                registry.network_rule_set.default_action,
                [r.value for r in live],
                approved_private_endpoints={
                    c.private_endpoint
                    for c in registry.private_endpoint_connections
                    if c.private_endpoint is not None and c.status is ConnectionStatus.APPROVED
                },
                subnet_prefixes=[
                    r.address_prefix for r in registry.network_rule_set.virtual_network_rules
                ],
                endpoint_states={
                    c.private_endpoint: c.status.value
                    for c in registry.private_endpoint_connections
                    if c.private_endpoint is not None
                },
                version=registry.etag,
                expires_at=min(expiries) if expiries else None,
            )
        except DomainError:
            # A stored rule that cannot be read (never written by moorage: rules are checked
            # at the edge) must not open the registry: fail closed, refuse everyone.
            log.exception("registry %s has an unreadable IP rule; refusing all", registry.name)
            policy = Policy.compile(
                registry.name, False, DefaultAction.DENY, [], version=registry.etag
            )
        self._policies[registry.id] = policy
        return policy
