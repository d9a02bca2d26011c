"""Network access control of a registry: IP rule values, the compiled matcher, and the decision.

The gate asks one question per request, `decide(facts, policy)`, with a `Policy` compiled once per
change of the registry's network settings. `decide` is a pure function that allocates nothing but
what it must, answers in O(log n) in the number of IP rules, and never raises: anything unexpected
is a denial (fail closed).

The model is the seed's: on the public endpoint, public network access Disabled refuses everyone
("disabling the public endpoint overrides all firewall configurations"); otherwise default action
Allow admits everyone, and default action Deny admits only clients inside an IP rule. IP rules never
apply to private endpoints, where a client is admitted iff the registry has an Approved connection
on that endpoint.

IP rule values, client addresses and the compiled matcher are in `moorage.domain.ip_rules`
(named here too: this is the gate's, the store's and the CLI's one surface for network access).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Address, IPv6Address

# Re-exported: the gate, the store and the CLI read network access from this one module.
from moorage.domain.ip_rules import Matcher as Matcher
from moorage.domain.ip_rules import parse_client_address as parse_client_address
from moorage.domain.ip_rules import parse_ip_rule as parse_ip_rule
from moorage.domain.registry import DefaultAction

# -- the decision ----------------------------------------------------------------------------------


class Listener(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


@dataclass(frozen=True, slots=True)
class AccessFacts:
    """What the gate knows of one request: the resolved client address and where it came in."""

    client: IPv4Address | IPv6Address
    listener: Listener = Listener.PUBLIC
    private_endpoint: str | None = None
    """The private endpoint's name, on a private listener."""


class DenyReason(StrEnum):
    PUBLIC_ACCESS_DISABLED = "public network access is disabled"
    NOT_IN_ALLOWED_RANGES = "the client address is not in the registry's allowed IP ranges"
    PRIVATE_ENDPOINT_NOT_APPROVED = (
        "the registry has no approved connection on this private endpoint"
    )


@dataclass(frozen=True, slots=True)
class Allow:
    reason: str


@dataclass(frozen=True, slots=True)
class Deny:
    reason: DenyReason


Decision = Allow | Deny

ALLOW_BY_DEFAULT = Allow("default action Allow")
ALLOW_BY_IP_RULE = Allow("matched an IP rule")
ALLOW_BY_VNET_RULE = Allow("matched a virtual-network rule")
ALLOW_TRUSTED_SERVICE = Allow("a trusted service (the registry lets trusted services bypass)")
DENY_PUBLIC_ACCESS_DISABLED = Deny(DenyReason.PUBLIC_ACCESS_DISABLED)
DENY_NOT_IN_ALLOWED_RANGES = Deny(DenyReason.NOT_IN_ALLOWED_RANGES)
DENY_PRIVATE_ENDPOINT_NOT_APPROVED = Deny(DenyReason.PRIVATE_ENDPOINT_NOT_APPROVED)


@dataclass(frozen=True, slots=True)
class Policy:
    """A registry's network settings compiled for the gate; build it with `Policy.compile`."""

    registry: str
    public_network_access: bool
    """PublicNetworkAccess.ENABLED -> True."""
    default_action: DefaultAction
    matcher: Matcher
    approved_private_endpoints: frozenset[str] = frozenset()
    """Names of the private endpoints on which the registry's connection is Approved."""
    vnet_matcher: Matcher = field(default_factory=lambda: Matcher.compile(()))
    """The address prefixes of the subnets its virtual-network rules name."""
    endpoint_states: Mapping[str, str] = field(default_factory=dict)
    """Connection status by private endpoint name (for refusals that name the state)."""
    version: str = ""
    """The registry's etag when compiled."""
    expires_at: float | None = None
    """Unix time when the earliest rule expires: the policy must be recompiled then."""
    _endpoint_allows: Mapping[str, Allow] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # decide() tests `is True` and `is DefaultAction.ALLOW`: a wrong type here would fail
        # closed there, silently; refuse it loudly at compile time instead.
        if type(self.public_network_access) is not bool:
            raise TypeError(
                "public_network_access must be a bool (PublicNetworkAccess.ENABLED -> True), "
                f"not {self.public_network_access!r}"
            )
        object.__setattr__(self, "default_action", DefaultAction(self.default_action))
        if isinstance(self.approved_private_endpoints, str):
            raise TypeError("approved_private_endpoints must be a set of names, not a string")
        endpoints = frozenset(self.approved_private_endpoints)
        object.__setattr__(self, "approved_private_endpoints", endpoints)
        object.__setattr__(
            self,
            "_endpoint_allows",
            {name: Allow(f"approved private endpoint {name}") for name in endpoints},
        )

    @classmethod
    def compile(
        cls,
        registry: str,
        public_network_access: bool,
        default_action: DefaultAction,
        rules: Iterable[str],
        *,
        approved_private_endpoints: Iterable[str] = frozenset(),
        subnet_prefixes: Iterable[str] = (),
        endpoint_states: Mapping[str, str] | None = None,
        version: str = "",
        expires_at: float | None = None,
    ) -> Policy:
        """Raises InvalidIPRule if a rule cannot be read (see Matcher.compile)."""
        if isinstance(approved_private_endpoints, str):
            raise TypeError("approved_private_endpoints must be a set of names, not a string")
        return cls(
            registry,
            public_network_access,
            default_action,
            Matcher.compile(rules),
            frozenset(approved_private_endpoints),
            Matcher.compile(subnet_prefixes),
            dict(endpoint_states or {}),
            version,
            expires_at,
        )

    def is_expired(self, now: float) -> bool:
        """True from `expires_at` on: a rule has expired and the policy must be recompiled."""
        return self.expires_at is not None and now >= self.expires_at


_ALLOW_ACTION = DefaultAction.ALLOW
_PUBLIC = Listener.PUBLIC
_PRIVATE = Listener.PRIVATE


def decide(facts: AccessFacts, policy: Policy) -> Decision:
    """Allow or deny one request. Never raises: whatever goes wrong is a Deny (fail closed)."""
    try:
        listener = facts.listener
        if listener == _PUBLIC:
            if policy.public_network_access is not True:
                return DENY_PUBLIC_ACCESS_DISABLED
            if policy.default_action is _ALLOW_ACTION:
                return ALLOW_BY_DEFAULT
            if policy.matcher.matches(facts.client):
                return ALLOW_BY_IP_RULE
            if policy.vnet_matcher.matches(facts.client):
                return ALLOW_BY_VNET_RULE
            return DENY_NOT_IN_ALLOWED_RANGES
        if listener == _PRIVATE:
            endpoint = facts.private_endpoint
            if endpoint is not None:
                allow = policy._endpoint_allows.get(endpoint)
                if allow is not None:
                    return allow
            return DENY_PRIVATE_ENDPOINT_NOT_APPROVED
    except Exception:
        # Fail closed: an error in the decision is a denial (none is known; this is the net).
        return DENY_NOT_IN_ALLOWED_RANGES
    # An unknown listener kind: refuse, as for an error.
    return DENY_NOT_IN_ALLOWED_RANGES
