"""Contenders run at once, each on its own connection: what SQLite's single writer made safe holds
on PostgreSQL through row locks and constraints (these tests run on both databases; on SQLite
the writer queues them, on PostgreSQL the pool gives each its own connection)."""

from __future__ import annotations

import asyncio

import pytest

from moorage.domain.digest import Digest
from moorage.domain.errors import RegistryExists, RuleLimitExceeded
from moorage.domain.manifest import parse_manifest
from moorage.domain.registry import DefaultAction, Registry, RegistryChanges
from moorage.store.content import ContentStore
from moorage.store.database import Database
from moorage.store.registries import PreconditionFailed, RegistryStore
from tests.unit.store.test_content import blob, image_manifest

CONTENDERS = 8


async def outcomes(*calls: object) -> list[object]:
    return list(await asyncio.gather(*calls, return_exceptions=True))  # type: ignore[call-overload]


async def test_creating_one_registry_at_once_makes_one(registries: RegistryStore) -> None:
    results = await outcomes(*(registries.create("samename1") for _ in range(CONTENDERS)))
    made = [r for r in results if isinstance(r, Registry)]
    refused = [r for r in results if isinstance(r, RegistryExists)]
    assert (len(made), len(refused)) == (1, CONTENDERS - 1), results
    assert [r.name for r in await registries.all()] == ["samename1"]


async def test_if_match_lets_one_of_concurrent_writers_through(
    registries: RegistryStore,
) -> None:
    etag = (await registries.create("etagged1")).etag
    results = await outcomes(
        *(
            registries.update("etagged1", RegistryChanges(tags={"n": str(n)}), if_match=etag)
            for n in range(CONTENDERS)
        )
    )
    won = [r for r in results if isinstance(r, Registry)]
    lost = [r for r in results if isinstance(r, PreconditionFailed)]
    assert (len(won), len(lost)) == (1, CONTENDERS - 1), results
    assert (await registries.get("etagged1")).tags == won[0].tags


@pytest.mark.parametrize("limit", [1, 3])
async def test_concurrent_rule_adds_never_exceed_the_limit_and_lose_none(
    db: Database, limit: int
) -> None:
    store = RegistryStore(db, login_server_suffix="x", location="l", max_ip_rules=limit)
    await store.create("limited1", changes=RegistryChanges(default_action=DefaultAction.DENY))
    values = [f"10.0.0.{n}" for n in range(CONTENDERS)]
    results = await outcomes(*(store.add_ip_rule("limited1", v) for v in values))
    added = [v for v, r in zip(values, results, strict=True) if isinstance(r, Registry)]
    refused = [r for r in results if isinstance(r, RuleLimitExceeded)]
    assert (len(added), len(refused)) == (limit, CONTENDERS - limit), results
    rules = (await store.get("limited1")).network_rule_set.ip_rules
    assert sorted(r.value for r in rules) == sorted(added)


async def test_concurrent_rule_adds_below_the_limit_lose_none(registries: RegistryStore) -> None:
    await registries.create("many1")
    values = [f"192.0.2.{n}" for n in range(CONTENDERS)]
    await asyncio.gather(*(registries.add_ip_rule("many1", v) for v in values))
    rules = (await registries.get("many1")).network_rule_set.ip_rules
    assert sorted(r.value for r in rules) == sorted(values)


async def test_pushing_one_tag_at_once_keeps_one_winner(
    content: ContentStore, registry: Registry
) -> None:
    """Every push of `latest` to a new repository succeeds; the tag names one of them."""
    layers = [blob(n) for n in range(CONTENDERS + 1)]
    for b in layers:
        await content.link_blob(registry.id, "other", *b)
        await content.mount_blob(registry.id, "app", b[0], "other")
    payloads = [image_manifest(layers[0], layers[n + 1]) for n in range(CONTENDERS)]
    payloads += payloads[:2]  # the same manifest twice at once as well
    digests = [str(Digest.of(p)) for p in payloads]
    results = await outcomes(
        *(
            content.put_manifest(registry.id, "app", d, parse_manifest(p, None), p, "latest")
            for d, p in zip(digests, payloads, strict=True)
        )
    )
    assert all(r is None for r in results), results
    assert await content.tags(registry.id, "app", None, None) == ["latest"]
    tagged = await content.manifest(registry.id, "app", "latest")
    assert tagged is not None and tagged.digest in digests
    for d in digests:
        assert await content.manifest(registry.id, "app", d) is not None
