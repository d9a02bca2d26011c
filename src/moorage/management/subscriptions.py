"""Microsoft.Resources: subscriptions, resource groups and the resources listing `az` uses."""

from __future__ import annotations

import re

from aiohttp import web

from moorage.auth.roles import Permission, allows
from moorage.management import errors, models, resources
from moorage.management.registries import SERVICE
from moorage.management.router import ManagementRequest, json_response

_TYPE_FILTER = re.compile(r"^\s*resourceType\s+eq\s+'([^']*)'\s*$", re.IGNORECASE)


async def list_subscriptions(req: ManagementRequest) -> web.Response:
    assert req.principal is not None
    found = await req.http.config_dict[SERVICE].subscriptions.all()
    visible = [
        s for s in found if allows(req.principal.roles, Permission.READ, f"/subscriptions/{s.id}")
    ]
    return json_response(
        {
            "value": [resources.subscription(s) for s in visible],
            "count": {"type": "Total", "value": len(visible)},
        }
    )


async def get_subscription(req: ManagementRequest) -> web.Response:
    found = await req.http.config_dict[SERVICE].subscriptions.get(req.params["subscriptionId"])
    return json_response(resources.subscription(found))


async def list_groups(req: ManagementRequest) -> web.Response:
    store = req.http.config_dict[SERVICE].subscriptions
    await store.get(req.params["subscriptionId"])
    groups = await store.groups(req.params["subscriptionId"])
    return json_response({"value": [resources.resource_group(g) for g in groups]})


async def get_group(req: ManagementRequest) -> web.Response:
    store = req.http.config_dict[SERVICE].subscriptions
    group = await store.group(req.params["subscriptionId"], req.params["resourceGroupName"])
    return json_response(resources.resource_group(group))


async def put_group(req: ManagementRequest) -> web.Response:
    body: models.ResourceGroupModel = req.body
    store = req.http.config_dict[SERVICE].subscriptions
    subscription = await store.get(req.params["subscriptionId"])
    name = req.params["resourceGroupName"]
    existed = bool(
        [g for g in await store.groups(subscription.id) if g.name.lower() == name.lower()]
    )
    group = await store.put_group(subscription.id, name, body.location, body.tags)
    return json_response(resources.resource_group(group), 200 if existed else 201)


async def list_resources(req: ManagementRequest) -> web.Response:
    """`/subscriptions/{id}/resources`, with the `resourceType eq '...'` filter `az` sends."""
    assert req.principal is not None
    wanted: str | None = None
    raw = req.http.query.get("$filter")
    if raw:
        match = _TYPE_FILTER.match(raw)
        if match is None:
            raise errors.ArmError(
                errors.INVALID_PARAMETER,
                f"$filter {raw!r} is not supported; use resourceType eq '<type>'.",
                target="$filter",
            )
        wanted = match[1].lower()
    registries = await req.http.config_dict[SERVICE].list(req.params["subscriptionId"])
    value = [
        resources.generic_resource(r)
        for r in registries
        if (wanted is None or wanted == resources.REGISTRY_TYPE.lower())
        and allows(req.principal.roles, Permission.READ, r.resource_id)
    ]
    return json_response({"value": value})
