"""Private endpoints (listeners) and registries' connections to them: the store."""

from __future__ import annotations

import re

import pytest

from moorage.auth.principals import PrincipalStore
from moorage.domain.networks import InvalidNetworkName
from moorage.domain.private_endpoints import (
    ConnectionExists,
    ConnectionNotFound,
    ConnectionRequest,
    DeclaredEndpointKept,
    InvalidConnectionField,
    InvalidConnectionState,
    InvalidListener,
    Listener,
    ListenerImmutable,
    ListenerInUse,
    ListenerRequired,
    Origin,
    PrivateEndpointNameTaken,
    PrivateEndpointNotFound,
    check_listener,
)
from moorage.domain.registry import ConnectionStatus, Registry
from moorage.store.database import Database
from moorage.store.management import ResourceGroup, SubscriptionStore
from moorage.store.private_endpoints import PrivateEndpointStore
from moorage.store.registries import RegistryStore

PENDING, APPROVED = ConnectionStatus.PENDING, ConnectionStatus.APPROVED
REJECTED, DISCONNECTED = ConnectionStatus.REJECTED, ConnectionStatus.DISCONNECTED
HERE = Listener("127.0.0.5", 5001)


@pytest.fixture
def store(db: Database) -> PrivateEndpointStore:
    return PrivateEndpointStore(db)


@pytest.fixture
async def group(db: Database) -> ResourceGroup:
    tenant = await PrincipalStore(db).ensure_tenant()
    _, rg = await SubscriptionStore(db).ensure_default(tenant, "local")
    return rg


@pytest.fixture
async def other_group(db: Database, group: ResourceGroup) -> ResourceGroup:
    return await SubscriptionStore(db).put_group(group.subscription_id, "other", "local", None)


@pytest.fixture
async def reg_a(registries: RegistryStore, group: ResourceGroup) -> Registry:
    return await registries.create("registrya", resource_group_id=group.id)


@pytest.fixture
async def reg_b(registries: RegistryStore, group: ResourceGroup) -> Registry:
    return await registries.create("registryb", resource_group_id=group.id)


# -- endpoints ---------------------------------------------------------------------------------


async def test_an_endpoint_is_created_with_its_listener(
    store: PrivateEndpointStore, group: ResourceGroup
) -> None:
    endpoint, created = await store.put(group.id, "pe1", HERE)
    assert created
    assert (endpoint.name, endpoint.listener, endpoint.origin) == ("pe1", HERE, Origin.API)
    assert endpoint.resource_id == (
        f"/subscriptions/{group.subscription_id}/resourceGroups/{group.name}"
        "/providers/Microsoft.Network/privateEndpoints/pe1"
    )
    assert endpoint.location == "local"
    assert await store.get("PE1") == endpoint
    assert [e.name for e in await store.all()] == ["pe1"]
    assert [e.name for e in await store.in_group(group.id)] == ["pe1"]
    again, created = await store.put(group.id, "pe1", None)
    assert not created and again == endpoint


async def test_get_of_an_unknown_endpoint_says_what_to_run(store: PrivateEndpointStore) -> None:
    with pytest.raises(PrivateEndpointNotFound, match=r"'nope'.*private-endpoint list"):
        await store.get("nope")
    assert await store.find("nope") is None


@pytest.mark.parametrize(
    ("address", "port", "canonical"),
    [
        ("127.0.0.5", 5001, "127.0.0.5:5001"),
        ("0:0::1", 443, "[::1]:443"),
        ("[::1]", 1, "[::1]:1"),
        (" 10.0.0.1 ", 65535, "10.0.0.1:65535"),
    ],
)
def test_listeners_are_canonical(address: str, port: int, canonical: str) -> None:
    assert str(check_listener(address, port)) == canonical


@pytest.mark.parametrize(
    ("address", "port", "named"),
    [
        ("registry.local", 5001, "'registry.local'"),
        ("10.0.0.300", 5001, "'10.0.0.300'"),
        ("10.0.0.0/24", 5001, "'10.0.0.0/24'"),
        ("127.0.0.5", 0, "port 0"),
        ("127.0.0.5", 65536, "port 65536"),
    ],
)
def test_bad_listeners_are_named(address: str, port: int, named: str) -> None:
    with pytest.raises(InvalidListener) as caught:
        check_listener(address, port)
    assert named in caught.value.message


async def test_a_new_endpoint_needs_a_listener(
    store: PrivateEndpointStore, group: ResourceGroup
) -> None:
    with pytest.raises(ListenerRequired, match="--private-endpoint pe1=ADDRESS:PORT"):
        await store.put(group.id, "pe1", None)
    assert await store.all() == []


@pytest.mark.parametrize("name", ["-pe", "pe-", "p e", "a" * 81, "pé", ""])
async def test_endpoint_names_are_checked(
    store: PrivateEndpointStore, group: ResourceGroup, name: str
) -> None:
    with pytest.raises(InvalidNetworkName) as caught:
        await store.put(group.id, name, HERE)
    assert f"private endpoint name {name!r}" in caught.value.message


async def test_two_endpoints_cannot_share_a_listener(
    store: PrivateEndpointStore, group: ResourceGroup
) -> None:
    await store.put(group.id, "pe1", HERE)
    with pytest.raises(ListenerInUse) as caught:
        await store.put(group.id, "pe2", Listener("127.0.0.5", 5001))
    assert "'pe2'" in caught.value.message and "'pe1'" in caught.value.message
    assert "127.0.0.5:5001" in caught.value.message
    other, _ = await store.put(group.id, "pe2", Listener("127.0.0.5", 5002))
    assert other.listener.port == 5002


async def test_endpoint_names_are_unique_in_the_service(
    store: PrivateEndpointStore, group: ResourceGroup, other_group: ResourceGroup
) -> None:
    await store.put(group.id, "pe1", HERE)
    with pytest.raises(PrivateEndpointNameTaken, match="'pe1' is in use in resource group"):
        await store.put(other_group.id, "PE1", Listener("127.0.0.6", 5001))


async def test_an_endpoints_listener_cannot_change(
    store: PrivateEndpointStore, group: ResourceGroup
) -> None:
    await store.put(group.id, "pe1", HERE)
    with pytest.raises(
        ListenerImmutable, match=re.escape("listens on 127.0.0.5:5001, not 127.0.0.5:6000")
    ):
        await store.put(group.id, "pe1", Listener("127.0.0.5", 6000))
    same, created = await store.put(group.id, "pe1", HERE)
    assert not created and same.listener == HERE


async def test_serve_declares_endpoints(store: PrivateEndpointStore, group: ResourceGroup) -> None:
    declared = await store.ensure_declared("edge", "127.0.0.7", 5001, group.id)
    assert declared.origin is Origin.SERVE and declared.listener == Listener("127.0.0.7", 5001)
    moved = await store.ensure_declared("edge", "127.0.0.7", 5002, group.id)
    assert moved.id == declared.id and moved.listener.port == 5002
    # Through the API, the declared listener is taken as it is and cannot be changed.
    same, created = await store.put(group.id, "edge", None)
    assert not created and same.listener == moved.listener
    with pytest.raises(
        ListenerImmutable, match=re.escape("--private-endpoint edge=127.0.0.7:5002")
    ):
        await store.put(group.id, "edge", HERE)


async def test_serve_cannot_take_another_endpoints_listener(
    store: PrivateEndpointStore, group: ResourceGroup
) -> None:
    await store.put(group.id, "api1", HERE)
    with pytest.raises(ListenerInUse, match=r"'edge' cannot listen on 127.0.0.5:5001.*'api1'"):
        await store.ensure_declared("edge", "127.0.0.5", 5001, group.id)


async def test_an_api_endpoint_declared_by_serve_becomes_serves(
    store: PrivateEndpointStore, group: ResourceGroup
) -> None:
    await store.put(group.id, "pe1", HERE)
    declared = await store.ensure_declared("pe1", "127.0.0.5", 5001, group.id)
    assert declared.origin is Origin.SERVE


async def test_declared_endpoints_are_deleted_only_once_released(
    store: PrivateEndpointStore, group: ResourceGroup
) -> None:
    await store.ensure_declared("edge", "127.0.0.7", 5001, group.id)
    await store.ensure_declared("kept", "127.0.0.8", 5001, group.id)
    with pytest.raises(DeclaredEndpointKept, match="stop declaring it"):
        await store.delete("edge")
    assert await store.release_undeclared(["KEPT"]) == ["edge"]
    assert (await store.get("edge")).origin is Origin.API
    assert (await store.get("kept")).origin is Origin.SERVE
    assert await store.delete("edge") is not None
    assert await store.delete("edge") is None
    assert await store.delete("kept", allow_declared=True) is not None


# -- connections -------------------------------------------------------------------------------


async def test_connections_are_pending_by_default(
    store: PrivateEndpointStore, group: ResourceGroup, reg_a: Registry
) -> None:
    await store.put(group.id, "pe1", HERE)
    made = await store.connect(reg_a.id, "pe1", "conn1", description="please")
    assert made.status is PENDING and made.description == "please"
    assert made.private_endpoint == "pe1"
    assert made.private_endpoint_id == (await store.get("pe1")).resource_id
    assert await store.connections(reg_a.id) == [made]
    assert await store.connection(reg_a.id, "CONN1") == made


async def test_an_endpoint_lists_its_registries(
    store: PrivateEndpointStore, group: ResourceGroup, reg_a: Registry, reg_b: Registry
) -> None:
    endpoint, _ = await store.put(
        group.id,
        "pe1",
        HERE,
        [ConnectionRequest(reg_a.id, "a", APPROVED), ConnectionRequest(reg_b.id, "b")],
    )
    assert [(c.name, c.registry, c.status) for c in endpoint.connections] == [
        ("a", "registrya", APPROVED),
        ("b", "registryb", PENDING),
    ]
    first = endpoint.connections[0]
    assert first.registry_id == reg_a.resource_id
    assert first.login_server == reg_a.login_server


async def test_creating_an_endpoint_with_a_bad_connection_creates_nothing(
    store: PrivateEndpointStore, group: ResourceGroup, reg_a: Registry
) -> None:
    with pytest.raises(InvalidNetworkName, match="private endpoint connection name 'bad name'"):
        await store.put(group.id, "pe1", HERE, [ConnectionRequest(reg_a.id, "bad name")])
    with pytest.raises(ConnectionExists):
        await store.put(
            group.id,
            "pe1",
            HERE,
            [ConnectionRequest(reg_a.id, "a"), ConnectionRequest(reg_a.id, "a2")],
        )
    assert await store.all() == []
    assert await store.connections(reg_a.id) == []


async def test_a_registry_has_one_connection_per_endpoint_and_unique_names(
    store: PrivateEndpointStore, group: ResourceGroup, reg_a: Registry, reg_b: Registry
) -> None:
    await store.put(group.id, "pe1", HERE)
    await store.put(group.id, "pe2", Listener("127.0.0.5", 5002))
    await store.connect(reg_a.id, "pe1", "conn1")
    with pytest.raises(ConnectionExists, match="already connected to the private endpoint 'pe1'"):
        await store.connect(reg_a.id, "pe1", "conn2")
    with pytest.raises(ConnectionExists, match="already has a private endpoint connection named"):
        await store.connect(reg_a.id, "pe2", "CONN1")
    # The same name in another registry, and a repeated request, are fine.
    await store.connect(reg_b.id, "pe1", "conn1")
    assert (await store.connect(reg_a.id, "pe1", "conn1", status=APPROVED)).name == "conn1"
    assert (await store.connection(reg_a.id, "conn1")).status is PENDING  # unchanged


async def test_a_connection_of_one_registry_is_not_found_through_another(
    store: PrivateEndpointStore, group: ResourceGroup, reg_a: Registry, reg_b: Registry
) -> None:
    await store.put(group.id, "pe1", HERE)
    await store.connect(reg_a.id, "pe1", "conn1")
    with pytest.raises(ConnectionNotFound, match="'conn1' of registry 'registryb'"):
        await store.connection(reg_b.id, "conn1")
    with pytest.raises(ConnectionNotFound):
        await store.set_status(reg_b.id, "conn1", APPROVED)
    assert not await store.disconnect(reg_b.id, "conn1")
    assert (await store.connection(reg_a.id, "conn1")).status is PENDING


async def test_a_new_connection_is_pending_or_approved(
    store: PrivateEndpointStore, group: ResourceGroup, reg_a: Registry
) -> None:
    await store.put(group.id, "pe1", HERE)
    with pytest.raises(InvalidConnectionState, match="Pending or Approved, not Rejected"):
        await store.connect(reg_a.id, "pe1", "conn1", status=REJECTED)
    with pytest.raises(PrivateEndpointNotFound):
        await store.connect(reg_a.id, "nope", "conn1")


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ([APPROVED], True),
        ([REJECTED], True),
        ([APPROVED, REJECTED], True),
        ([PENDING], True),
        ([APPROVED, APPROVED], True),
        ([APPROVED, PENDING], False),
        ([REJECTED, APPROVED], False),
        ([REJECTED, PENDING], False),
        ([DISCONNECTED], False),
    ],
    ids=lambda v: "-".join(s.value for s in v) if isinstance(v, list) else str(v),
)
async def test_status_moves(
    store: PrivateEndpointStore,
    group: ResourceGroup,
    reg_a: Registry,
    path: list[ConnectionStatus],
    allowed: bool,
) -> None:
    await store.put(group.id, "pe1", HERE, [ConnectionRequest(reg_a.id, "conn1")])
    *before, last = path
    for status in before:
        await store.set_status(reg_a.id, "conn1", status)
    current = (await store.connection(reg_a.id, "conn1")).status
    if allowed:
        moved = await store.set_status(reg_a.id, "conn1", last, "why", "None")
        assert (moved.status, moved.description) == (last, "why")
    else:
        with pytest.raises(InvalidConnectionState) as caught:
            await store.set_status(reg_a.id, "conn1", last)
        assert f"from {current.value} to {last.value}" in caught.value.message
        assert (await store.connection(reg_a.id, "conn1")).status is current


async def test_a_rejected_connection_says_how_to_start_again(
    store: PrivateEndpointStore, group: ResourceGroup, reg_a: Registry
) -> None:
    await store.put(group.id, "pe1", HERE, [ConnectionRequest(reg_a.id, "conn1", APPROVED)])
    await store.set_status(reg_a.id, "conn1", REJECTED, "not this one")
    with pytest.raises(InvalidConnectionState) as caught:
        await store.set_status(reg_a.id, "conn1", APPROVED)
    assert "from Rejected to Approved" in caught.value.message
    assert "private-endpoint-connection delete -r registrya -n conn1" in caught.value.message
    assert await store.disconnect(reg_a.id, "conn1")
    again = await store.connect(reg_a.id, "pe1", "conn1")
    assert again.status is PENDING


async def test_descriptions_are_bounded(
    store: PrivateEndpointStore, group: ResourceGroup, reg_a: Registry
) -> None:
    await store.put(group.id, "pe1", HERE, [ConnectionRequest(reg_a.id, "conn1")])
    with pytest.raises(InvalidConnectionField, match="257 characters long; at most 256"):
        await store.set_status(reg_a.id, "conn1", APPROVED, "x" * 257)


async def test_deleting_an_endpoint_leaves_its_connections_disconnected(
    store: PrivateEndpointStore,
    registries: RegistryStore,
    group: ResourceGroup,
    reg_a: Registry,
) -> None:
    await store.put(group.id, "pe1", HERE, [ConnectionRequest(reg_a.id, "conn1", APPROVED)])
    before = await registries.get("registrya")
    deleted = await store.delete("pe1")
    assert deleted is not None and [c.registry for c in deleted.connections] == ["registrya"]
    after = await registries.get("registrya")
    assert after.etag != before.etag
    (connection,) = after.private_endpoint_connections
    assert (connection.status, connection.private_endpoint) == (DISCONNECTED, None)
    assert await store.connections(reg_a.id) == [connection]
    with pytest.raises(InvalidConnectionState, match="its private endpoint was deleted"):
        await store.set_status(reg_a.id, "conn1", APPROVED)
    # The name stays taken until the connection is deleted; then the listener is free again.
    await store.put(group.id, "pe1", HERE)
    with pytest.raises(ConnectionExists, match="to a deleted one"):
        await store.connect(reg_a.id, "pe1", "conn1")
    assert await store.disconnect(reg_a.id, "conn1")
    assert (await store.connect(reg_a.id, "pe1", "conn1")).status is PENDING


async def test_every_connection_change_gives_the_registry_a_new_etag(
    store: PrivateEndpointStore, registries: RegistryStore, group: ResourceGroup, reg_a: Registry
) -> None:
    await store.put(group.id, "pe1", HERE)
    etags = [reg_a.etag]

    async def changed() -> bool:
        etag = (await registries.get("registrya")).etag
        fresh = etag not in etags
        etags.append(etag)
        return fresh

    await store.connect(reg_a.id, "pe1", "conn1")
    assert await changed()
    await store.set_status(reg_a.id, "conn1", APPROVED)
    assert await changed()
    await store.disconnect(reg_a.id, "conn1")
    assert await changed()
    await store.put(group.id, "pe1", None, [ConnectionRequest(reg_a.id, "conn1")])
    assert await changed()
    await store.put(group.id, "pe1", None, [ConnectionRequest(reg_a.id, "conn1")])
    assert not await changed()  # nothing new: a repeated PUT changes nothing


async def test_deleting_a_registry_deletes_its_connections(
    store: PrivateEndpointStore, registries: RegistryStore, group: ResourceGroup, reg_a: Registry
) -> None:
    await store.put(group.id, "pe1", HERE, [ConnectionRequest(reg_a.id, "conn1")])
    assert await registries.delete("registrya")
    assert (await store.get("pe1")).connections == ()


async def test_an_endpoint_just_created_can_be_undone_with_its_connections(
    store: PrivateEndpointStore, group: ResourceGroup, reg_a: Registry
) -> None:
    """What the API does when the new endpoint's listener cannot start: nothing is kept."""
    await store.put(group.id, "pe1", HERE, [ConnectionRequest(reg_a.id, "conn1", APPROVED)])
    undone = await store.delete("pe1", with_connections=True)
    assert undone is not None and [c.name for c in undone.connections] == ["conn1"]
    assert await store.all() == []
    assert await store.connections(reg_a.id) == []
    again, created = await store.put(
        group.id, "pe1", HERE, [ConnectionRequest(reg_a.id, "conn1", APPROVED)]
    )
    assert created and [c.status for c in again.connections] == [APPROVED]
