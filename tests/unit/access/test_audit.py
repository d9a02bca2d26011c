"""The refusal record stays bounded however many refusals arrive, and keeps counts."""

from __future__ import annotations

from ipaddress import IPv4Address, ip_address

from moorage.access.audit import DenialAudit
from moorage.access.client import ClientAddress
from moorage.store.audit import AuditStore
from moorage.store.database import Database
from moorage.store.registries import RegistryStore


def client(n: int) -> ClientAddress:
    address = ip_address(f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}")
    assert isinstance(address, IPv4Address)
    return ClientAddress(address, address)


async def test_a_flood_of_refusals_stays_within_bounds(db: Database) -> None:
    registry = await RegistryStore(db, login_server_suffix="x", location="l").create("flood1")
    audit = DenialAudit(
        AuditStore(db, max_details=50, max_addresses=100),
        max_pending_details=200,
        max_pending_addresses=150,
    )
    for round_ in range(4):
        for n in range(300):  # 300 distinct addresses a round, more than any bound
            audit.record(registry.id, client(n + round_ * 1000), "GET", "/v2/", "reason")
        await audit.flush()
    recent = await audit.recent(registry.id, 10_000)
    counted = await audit.denied_clients(registry.id, 10_000)
    assert len(recent) <= 50
    assert len(counted) <= 100
    assert audit.dropped_addresses > 0  # what memory could not hold was counted as dropped


async def test_counts_per_address_survive_pruned_details(db: Database) -> None:
    registry = await RegistryStore(db, login_server_suffix="x", location="l").create("count1")
    audit = DenialAudit(AuditStore(db, max_details=5, max_addresses=100))
    for _ in range(40):
        audit.record(registry.id, client(7), "GET", "/v2/_catalog", "not in the allowed ranges")
        audit.record(registry.id, client(8), "HEAD", "/v2/", "public network access is disabled")
    await audit.flush()
    audit.record(registry.id, client(7), "GET", "/v2/", "not in the allowed ranges")
    counted = {c.client: c for c in await audit.denied_clients(registry.id, 10)}
    assert counted["10.0.0.7"].count == 41  # the unflushed refusal is counted too
    assert counted["10.0.0.8"].count == 40
    assert counted["10.0.0.8"].last_reason == "public network access is disabled"
    assert len(await audit.recent(registry.id, 100)) == 5
