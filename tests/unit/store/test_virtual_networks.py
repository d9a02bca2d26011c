from __future__ import annotations

import pytest

from moorage.auth.principals import PrincipalStore
from moorage.domain.errors import PremiumSkuRequired
from moorage.domain.networks import InvalidNetworkName
from moorage.domain.registry import Sku
from moorage.domain.virtual_networks import (
    InvalidAddressPrefix,
    InvalidSubnetReference,
    SubnetInUse,
    SubnetNotFound,
    SubnetOutsideVirtualNetwork,
    SubnetsOverlap,
    VirtualNetworkNotFound,
    VirtualNetworkPrefixesOverlap,
    VirtualNetworkRuleLimitExceeded,
    VirtualNetworkRuleNotFound,
    address_prefix,
    check_address_space,
    check_subnets,
)
from moorage.store.database import Database
from moorage.store.management import ResourceGroup, SubscriptionStore
from moorage.store.registries import RegistryStore
from moorage.store.virtual_network_rules import VirtualNetworkRuleStore
from moorage.store.virtual_networks import VirtualNetworkStore


@pytest.fixture
async def group(db: Database) -> ResourceGroup:
    tenant = await PrincipalStore(db).ensure_tenant()
    _, found = await SubscriptionStore(db).ensure_default(tenant, "local")
    return found


@pytest.fixture
def vnets(db: Database) -> VirtualNetworkStore:
    return VirtualNetworkStore(db)


@pytest.fixture
def rules(db: Database) -> VirtualNetworkRuleStore:
    return VirtualNetworkRuleStore(db, max_rules=3)


def sid(group: ResourceGroup, vnet: str, subnet: str) -> str:
    return (
        f"/subscriptions/{group.subscription_id}/resourceGroups/{group.name}"
        f"/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}"
    )


# -- pure checks -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        ("10.0.0.0/16", "10.0.0.0/16"),
        ("10.0.0.5/32", "10.0.0.5/32"),
        ("2001:DB8::/48", "2001:db8::/48"),
        ("::ffff:10.0.0.0/104", "10.0.0.0/8"),
    ],
)
def test_prefixes_are_canonical(value: str, canonical: str) -> None:
    assert address_prefix(value).with_prefixlen == canonical


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("10.0.0.5", "is not a CIDR range"),
        ("10.0.0.5/24", "did you mean '10.0.0.0/24'"),
        ("10.0.0.0/33", "prefix length 33 is out of range"),
        ("ten/8", "'ten/8'"),
    ],
)
def test_bad_prefixes_are_named(value: str, says: str) -> None:
    with pytest.raises(InvalidAddressPrefix) as e:
        address_prefix(value)
    assert f"'{value}'" in e.value.message and says in e.value.message


@pytest.mark.parametrize(
    ("prefixes", "says"),
    [
        (["10.0.0.0/16", "10.0.128.0/17"], "'10.0.0.0/16' and '10.0.128.0/17'"),
        (["10.0.0.0/16", "10.0.0.0/16"], "(given twice)"),
    ],
)
def test_a_networks_prefixes_must_not_overlap(prefixes: list[str], says: str) -> None:
    with pytest.raises(VirtualNetworkPrefixesOverlap) as e:
        check_address_space("v1", prefixes)
    assert says in e.value.message


def test_address_spaces_of_both_families_live_side_by_side() -> None:
    assert check_address_space("v1", ["10.0.0.0/8", "::/0"]) == ("10.0.0.0/8", "::/0")
    with pytest.raises(InvalidAddressPrefix, match="at least one"):
        check_address_space("v1", [])


@pytest.mark.parametrize(
    ("subnets", "error", "says"),
    [
        ([("a", "10.1.0.0/24")], SubnetOutsideVirtualNetwork, "'10.1.0.0/24' is not inside"),
        ([("a", "10.0.0.0/24"), ("b", "10.0.0.128/25")], SubnetsOverlap, "overlaps subnet 'a'"),
        ([("a", "10.0.0.0/24"), ("A", "10.0.1.0/24")], InvalidNetworkName, "given twice"),
        ([("bad name", "10.0.0.0/24")], InvalidNetworkName, "'bad name'"),
        ([("a", "10.0.0.1/24")], InvalidAddressPrefix, "subnet 'a' address prefix"),
    ],
)
def test_subnets_are_checked(
    subnets: list[tuple[str, str]], error: type[Exception], says: str
) -> None:
    with pytest.raises(error) as e:
        check_subnets("v1", ["10.0.0.0/16"], subnets)
    assert says in str(e.value)


# -- virtual networks and subnets --------------------------------------------------------------


async def test_lifecycle(vnets: VirtualNetworkStore, group: ResourceGroup) -> None:
    written = await vnets.put(group, "Vnet1", ["10.0.0.0/16"], [("web", "10.0.1.0/24")])
    assert written.created and written.touched == ()
    network = written.value
    assert (network.name, network.location, network.address_prefixes) == (
        "Vnet1",
        "local",
        ("10.0.0.0/16",),
    )
    assert [(s.name, s.address_prefix) for s in network.subnets] == [("web", "10.0.1.0/24")]
    assert network.subnets[0].id == sid(group, "Vnet1", "web")
    assert (await vnets.get(group, "VNET1")).name == "Vnet1"

    added = await vnets.put_subnet(group, "vnet1", "db", "10.0.2.0/24")
    assert added.created and added.value.virtual_network == "Vnet1"
    assert [s.name for s in (await vnets.get(group, "vnet1")).subnets] == ["db", "web"]
    # A PUT of the network without subnets keeps them; with subnets, replaces them.
    kept = await vnets.put(group, "vnet1", ["10.0.0.0/16", "10.1.0.0/16"])
    assert not kept.created and len(kept.value.subnets) == 2
    replaced = await vnets.put(group, "vnet1", ["10.0.0.0/16"], [("web", "10.0.3.0/24")])
    assert [(s.name, s.address_prefix) for s in replaced.value.subnets] == [("web", "10.0.3.0/24")]
    assert [v.name for v in await vnets.in_group(group)] == ["Vnet1"]
    assert [v.name for v in await vnets.in_subscription(group.subscription_id.upper())] == ["Vnet1"]
    assert await vnets.delete_subnet(group, "vnet1", "web")
    assert not await vnets.delete_subnet(group, "vnet1", "web")
    assert await vnets.delete(group, "vnet1")
    assert not await vnets.delete(group, "vnet1")
    with pytest.raises(VirtualNetworkNotFound, match="'vnet1'"):
        await vnets.get(group, "vnet1")


async def test_subnets_must_fit_the_network(
    vnets: VirtualNetworkStore, group: ResourceGroup
) -> None:
    await vnets.put(group, "v1", ["10.0.0.0/16"], [("a", "10.0.1.0/24")])
    with pytest.raises(SubnetsOverlap, match=r"'b' address prefix '10\.0\.1\.128/25' overlaps"):
        await vnets.put_subnet(group, "v1", "b", "10.0.1.128/25")
    with pytest.raises(SubnetOutsideVirtualNetwork, match=r"\(10.0.0.0/16\)"):
        await vnets.put_subnet(group, "v1", "b", "192.168.0.0/24")
    # Shrinking the address space away from a subnet is refused, naming it.
    with pytest.raises(SubnetOutsideVirtualNetwork, match="subnet 'a'"):
        await vnets.put(group, "v1", ["10.1.0.0/16"])
    # A subnet's own prefix can change (it does not overlap itself).
    changed = await vnets.put_subnet(group, "v1", "A", "10.0.1.0/25")
    assert not changed.created and changed.value.address_prefix == "10.0.1.0/25"
    with pytest.raises(VirtualNetworkNotFound):
        await vnets.put_subnet(group, "nosuch", "a", "10.0.0.0/24")
    with pytest.raises(SubnetNotFound, match="'zz'"):
        await vnets.get_subnet(group, "v1", "zz")
    # Networks in one group may overlap each other (as in the cloud, unless peered).
    assert (await vnets.put(group, "v2", ["10.0.0.0/16"], [("a", "10.0.1.0/24")])).created


# -- registries' rules ---------------------------------------------------------------------------


async def test_rules_add_remove_replace_and_touch(
    vnets: VirtualNetworkStore,
    rules: VirtualNetworkRuleStore,
    registries: RegistryStore,
    group: ResourceGroup,
) -> None:
    registry = await registries.create("vnetreg1", resource_group_id=group.id)
    await vnets.put(group, "v1", ["10.0.0.0/16"], [("a", "10.0.1.0/24"), ("b", "10.0.2.0/24")])
    a, b = sid(group, "v1", "a"), sid(group, "v1", "b")

    assert await rules.add_rule(registry.id, a.upper().replace("SUBSCRIPTIONS", "subscriptions"))
    after = await registries.get("vnetreg1")
    assert after.etag != registry.etag
    assert [
        (r.subnet_id, r.address_prefix) for r in after.network_rule_set.virtual_network_rules
    ] == [(a, "10.0.1.0/24")]
    assert not await rules.add_rule(registry.id, a)  # already there: nothing changes
    assert (await registries.get("vnetreg1")).etag == after.etag

    assert await rules.replace_rules(registry.id, [b, a, b])
    listed = (await registries.get("vnetreg1")).network_rule_set.virtual_network_rules
    assert [r.subnet_id for r in listed] == [b, a]  # as named, each once
    assert not await rules.replace_rules(registry.id, [a, b])  # the same subnets: no change

    await rules.remove_rule(registry.id, b)
    with pytest.raises(VirtualNetworkRuleNotFound, match="no virtual-network rule for subnet"):
        await rules.remove_rule(registry.id, b)
    with pytest.raises(VirtualNetworkRuleNotFound):
        await rules.remove_rule(registry.id, sid(group, "v1", "nosuch"))
    with pytest.raises(InvalidNetworkName, match="is not a subnet id"):
        await rules.remove_rule(registry.id, "/subscriptions/x/nonsense")
    assert (await vnets.get_subnet(group, "v1", "a")).registries == ("vnetreg1",)


async def test_a_subnets_new_prefix_reaches_its_registries(
    vnets: VirtualNetworkStore,
    rules: VirtualNetworkRuleStore,
    registries: RegistryStore,
    group: ResourceGroup,
) -> None:
    registry = await registries.create("vnetreg2", resource_group_id=group.id)
    await vnets.put(group, "v1", ["10.0.0.0/16"], [("a", "10.0.1.0/24")])
    await rules.add_rule(registry.id, sid(group, "v1", "a"))
    before = await registries.get("vnetreg2")
    unchanged = await vnets.put_subnet(group, "v1", "a", "10.0.1.0/24")
    assert unchanged.touched == () and (await registries.get("vnetreg2")).etag == before.etag
    written = await vnets.put_subnet(group, "v1", "a", "10.0.4.0/24")
    assert written.touched == ("vnetreg2",)
    after = await registries.get("vnetreg2")
    assert after.etag != before.etag
    assert after.network_rule_set.virtual_network_rules[0].address_prefix == "10.0.4.0/24"
    # The same through a PUT of the whole network.
    again = await vnets.put(group, "v1", ["10.0.0.0/16"], [("a", "10.0.5.0/24")])
    assert again.touched == ("vnetreg2",)
    assert (await registries.get("vnetreg2")).etag != after.etag


async def test_a_subnet_in_use_is_kept(
    vnets: VirtualNetworkStore,
    rules: VirtualNetworkRuleStore,
    registries: RegistryStore,
    group: ResourceGroup,
) -> None:
    registry = await registries.create("vnetreg3", resource_group_id=group.id)
    await vnets.put(group, "v1", ["10.0.0.0/16"], [("a", "10.0.1.0/24"), ("b", "10.0.2.0/24")])
    await rules.add_rule(registry.id, sid(group, "v1", "a"))
    for attempt in (
        vnets.delete_subnet(group, "v1", "a"),
        vnets.delete(group, "v1"),
        vnets.put(group, "v1", ["10.0.0.0/16"], [("b", "10.0.2.0/24")]),
    ):
        with pytest.raises(SubnetInUse) as e:
            await attempt
        assert "subnet 'a' by registry 'vnetreg3'" in e.value.message
        assert "moorage acr network-rule remove --name vnetreg3" in e.value.message
    assert await vnets.delete_subnet(group, "v1", "b")  # one nobody uses goes
    await rules.remove_rule(registry.id, sid(group, "v1", "a"))
    assert await vnets.delete(group, "v1")


async def test_a_missing_subnet_is_named(
    vnets: VirtualNetworkStore,
    rules: VirtualNetworkRuleStore,
    registries: RegistryStore,
    group: ResourceGroup,
) -> None:
    registry = await registries.create("vnetreg4", resource_group_id=group.id)
    missing = sid(group, "v9", "a")
    for attempt in (
        rules.add_rule(registry.id, missing),
        rules.replace_rules(registry.id, [missing]),
        rules.check_rules("vnetreg4", Sku.PREMIUM, [missing], 0, changing_sku=False),
    ):
        with pytest.raises(InvalidSubnetReference) as e:
            await attempt
        assert f"'{missing}' could not be found" in e.value.message


async def test_premium_and_the_limit(
    vnets: VirtualNetworkStore,
    rules: VirtualNetworkRuleStore,
    registries: RegistryStore,
    group: ResourceGroup,
) -> None:
    basic = await registries.create("vnetbasic1", Sku.BASIC, resource_group_id=group.id)
    premium = await registries.create("vnetprem1", resource_group_id=group.id)
    names = [f"s{i}" for i in range(4)]
    await vnets.put(
        group, "v1", ["10.0.0.0/16"], [(n, f"10.0.{i}.0/24") for i, n in enumerate(names)]
    )
    ids = [sid(group, "v1", n) for n in names]
    with pytest.raises(PremiumSkuRequired, match="--sku Premium"):
        await rules.add_rule(basic.id, ids[0])
    with pytest.raises(PremiumSkuRequired):
        await rules.replace_rules(basic.id, ids[:1])
    assert not await rules.replace_rules(basic.id, [])  # none is allowed on any SKU
    with pytest.raises(PremiumSkuRequired, match="remove them before moving it to Standard"):
        await rules.check_rules("vnetprem1", Sku.STANDARD, None, 1, changing_sku=True)
    await rules.check_rules("vnetprem1", Sku.STANDARD, None, 0, changing_sku=True)

    with pytest.raises(VirtualNetworkRuleLimitExceeded, match="the limit is 3"):
        await rules.replace_rules(premium.id, ids)
    await rules.replace_rules(premium.id, ids[:3])
    with pytest.raises(VirtualNetworkRuleLimitExceeded):
        await rules.add_rule(premium.id, ids[3])
    assert len((await registries.get("vnetprem1")).network_rule_set.virtual_network_rules) == 3


async def test_deleting_a_registry_drops_its_rules(
    vnets: VirtualNetworkStore,
    rules: VirtualNetworkRuleStore,
    registries: RegistryStore,
    group: ResourceGroup,
) -> None:
    registry = await registries.create("vnetreg5", resource_group_id=group.id)
    await vnets.put(group, "v1", ["10.0.0.0/16"], [("a", "10.0.1.0/24")])
    await rules.add_rule(registry.id, sid(group, "v1", "a"))
    await registries.delete("vnetreg5")
    assert (await vnets.get_subnet(group, "v1", "a")).registries == ()
    assert await vnets.delete(group, "v1")
