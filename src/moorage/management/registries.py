"""Handlers of Microsoft.ContainerRegistry/registries: thin translations to the service."""

from __future__ import annotations

from aiohttp import web

from moorage.access.audit import DenialAudit
from moorage.management import models, resources
from moorage.management.router import ManagementRequest, json_response
from moorage.management.service import ManagementService

SERVICE = web.AppKey("management", ManagementService)
AUDIT = web.AppKey("audit", DenialAudit)
PAGE = 100


def _service(req: ManagementRequest) -> ManagementService:
    return req.http.config_dict[SERVICE]


def _where(req: ManagementRequest) -> tuple[str, str, str]:
    p = req.params
    return p["subscriptionId"], p["resourceGroupName"], p["registryName"]


async def get(req: ManagementRequest) -> web.Response:
    registry = await _service(req).get(*_where(req))
    return json_response(resources.registry(registry), etag=registry.etag)


async def put(req: ManagementRequest) -> web.Response:
    body: models.RegistryCreateModel = req.body
    changes = models.changes_from(
        body.properties, sku=body.sku, tags=body.tags or {}, location=body.location
    )
    registry, created = await _service(req).create_or_replace(
        *_where(req),
        changes,
        if_match=req.header("If-Match"),
        if_none_match=req.header("If-None-Match"),
    )
    return json_response(resources.registry(registry), 201 if created else 200, registry.etag)


async def patch(req: ManagementRequest) -> web.Response:
    body: models.RegistryUpdateModel = req.body
    changes = models.changes_from(body.properties, sku=body.sku, tags=body.tags)
    registry = await _service(req).update(*_where(req), changes, if_match=req.header("If-Match"))
    return json_response(resources.registry(registry), etag=registry.etag)


async def delete(req: ManagementRequest) -> web.Response:
    deleted = await _service(req).delete(*_where(req), if_match=req.header("If-Match"))
    return web.Response(status=200 if deleted else 204)


async def list_in_group(req: ManagementRequest) -> web.Response:
    found = await _service(req).list(req.params["subscriptionId"], req.params["resourceGroupName"])
    return _page(req, [resources.registry(r) for r in found])


async def list_in_subscription(req: ManagementRequest) -> web.Response:
    found = await _service(req).list(req.params["subscriptionId"])
    return _page(req, [resources.registry(r) for r in found])


def _page(req: ManagementRequest, items: list[dict[str, object]]) -> web.Response:
    """{"value": [...], "nextLink"}: pages of PAGE, continued with $skipToken=<last name>."""
    after = req.http.query.get("$skipToken") or req.http.query.get("$skiptoken")
    if after:
        items = [i for i in items if str(i["name"]).lower() > after.lower()]
    page: dict[str, object] = {"value": items[:PAGE]}
    if len(items) > PAGE:
        url = req.http.url.update_query({"$skipToken": str(items[PAGE - 1]["name"])})
        page["nextLink"] = str(url)
    return json_response(page)


async def check_name(req: ManagementRequest) -> web.Response:
    body: models.NameCheckModel = req.body
    return json_response(await _service(req).check_name(body.name))


async def list_credentials(req: ManagementRequest) -> web.Response:
    return json_response(await _service(req).list_credentials(*_where(req)))


async def regenerate_credential(req: ManagementRequest) -> web.Response:
    body: models.RegenerateCredentialModel = req.body
    return json_response(await _service(req).regenerate(*_where(req), body.name))


async def add_ip_rule(req: ManagementRequest) -> web.Response:
    """moorage: add one rule atomically, leaving the others untouched (the cloud's CLI
    rewrites the whole set, and two concurrent adds lose one)."""
    body: models.IPRuleModel = req.body
    registry = await _service(req).add_ip_rule(*_where(req), body.value, body.expires_on)
    return json_response(resources.registry(registry), etag=registry.etag)


async def remove_ip_rule(req: ManagementRequest) -> web.Response:
    body: models.IPRuleValueModel = req.body
    registry = await _service(req).remove_ip_rule(*_where(req), body.value)
    return json_response(resources.registry(registry), etag=registry.etag)


async def denied_clients(req: ManagementRequest) -> web.Response:
    """moorage: addresses the registry's network rules turned away, newest first."""
    registry = await _service(req).get(*_where(req))
    audit = req.http.config_dict[AUDIT]
    clients = await audit.denied_clients(registry.id)
    recent = await audit.recent(registry.id, 50)
    return json_response(
        {
            "value": [resources.denied_client(c) for c in clients],
            "recent": [resources.denial(d) for d in recent],
        }
    )
