"""What the network gate tells people: the plain message of a refusal, on the public endpoint
and on a private one, and which rule let a request in (for `acr check-health`). Pure."""

from __future__ import annotations

from moorage.domain.network import (
    ALLOW_BY_DEFAULT,
    ALLOW_BY_IP_RULE,
    ALLOW_BY_VNET_RULE,
    AccessFacts,
    Allow,
    Decision,
    Deny,
    DenyReason,
    Listener,
    Policy,
)


def cloud_words(client: str) -> str:
    """The cloud registry's own first sentence of a refusal: scripts and searches written for
    the cloud match it, so every refusal starts with it."""
    return f"client with IP '{client}' is not allowed access."


def denial_message(decision: Deny, *, client: str, registry: str, login_server: str) -> str:
    """The plain message a 403 DENIED carries: the cloud's words, then which registry refused
    whom, why, and what to run to fix it."""
    reason = decision.reason
    head = f"{cloud_words(client)} Registry '{registry}' ({login_server}) refused it: {reason}"
    if reason is DenyReason.PUBLIC_ACCESS_DISABLED:
        return (
            f"{head}. To enable it: moorage acr update --name {registry} "
            "--public-network-enabled true (or use a private endpoint)"
        )
    if reason is DenyReason.NOT_IN_ALLOWED_RANGES:
        return (
            f"{head}. To allow it: moorage acr network-rule add --name {registry} "
            f"--ip-address {client}"
        )
    if reason is DenyReason.PRIVATE_ENDPOINT_NOT_APPROVED:
        return (
            f"{head}. To allow it: approve the registry's connection on this private endpoint: "
            f"moorage acr private-endpoint-connection approve --registry-name {registry} "
            "--name <connection>"
        )
    return f"{head}."


def private_denial_message(
    *, client: str, registry: str, endpoint: str, connection: str | None, state: str | None
) -> str:
    """The 403 on a private endpoint: the registry's connection there, and its state."""
    head = (
        f"{cloud_words(client)} Registry '{registry}' refused it through private endpoint "
        f"'{endpoint}'"
    )
    if connection is None or state is None:
        return (
            f"{head}: the registry has no connection on this private endpoint. Ask for one: "
            f"moorage network private-endpoint create --name {endpoint} --connection-name "
            f"<name> --private-connection-resource-id <id of {registry}> --group-id registry"
        )
    if state == "Pending":
        return (
            f"{head}: its connection '{connection}' is Pending; approve it with: moorage acr "
            f"private-endpoint-connection approve --registry-name {registry} --name {connection}"
        )
    return f"{head}: its connection '{connection}' is {state}, not Approved"


def explain(facts: AccessFacts, policy: Policy, decision: Decision) -> str:
    """Which rule let a request in, in words (for `acr check-health`); slow path only."""
    if decision is ALLOW_BY_IP_RULE:
        return f"IP rule {policy.matcher.matching_rule(facts.client)}"
    if decision is ALLOW_BY_VNET_RULE:
        return f"virtual-network rule (subnet {policy.vnet_matcher.matching_rule(facts.client)})"
    if decision is ALLOW_BY_DEFAULT:
        return "default action Allow"
    if isinstance(decision, Allow) and facts.listener == Listener.PRIVATE:
        return f"approved connection on private endpoint {facts.private_endpoint}"
    if isinstance(decision, Allow):
        return decision.reason
    return f"refused: {decision.reason.value}"
