"""Service principals and their roles: what `moorage ad sp create-for-rbac` calls.

The cloud splits this between its directory (Graph) and the resource manager; moorage keeps
both here, under the subscription: /subscriptions/{id}/providers/Moorage.Identity/...
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from moorage.auth.identity import IDENTITY
from moorage.auth.principals import ServicePrincipal
from moorage.auth.roles import Permission, allows, check_role
from moorage.management import errors, models
from moorage.management.registries import SERVICE
from moorage.management.router import ManagementRequest, json_response


async def _shape(req: ManagementRequest, sp: ServicePrincipal) -> dict[str, Any]:
    identity = req.http.config_dict[IDENTITY]
    roles = await identity.principals.assignments(sp.app_id)
    return {
        "appId": sp.app_id,
        "displayName": sp.display_name,
        "trusted": sp.trusted,
        "roles": [{"role": a.role, "scope": a.scope} for a in roles],
    }


async def create(req: ManagementRequest) -> web.Response:
    body: models.ServicePrincipalCreateModel = req.body
    assert req.principal is not None
    try:
        role = check_role(body.role)
    except ValueError as e:
        raise errors.ArmError(errors.INVALID_PARAMETER, str(e), target="role") from None
    subscription = await req.http.config_dict[SERVICE].subscriptions.get(
        req.params["subscriptionId"]
    )
    scopes = body.scopes or [f"/subscriptions/{subscription.id}"]
    for scope in scopes:
        if not scope.lower().startswith(f"/subscriptions/{subscription.id}".lower()):
            raise errors.ArmError(
                errors.INVALID_PARAMETER,
                f"scope {scope!r} is not inside subscription {subscription.id}.",
                target="scopes",
            )
        if not allows(req.principal.roles, Permission.MANAGE_ACCESS, scope):
            raise errors.ArmError(
                errors.AUTHORIZATION_FAILED,
                f"The client '{req.principal.app_id}' may not grant roles over scope '{scope}'.",
            )
    identity = req.http.config_dict[IDENTITY]
    sp, secret = await identity.principals.create(body.display_name, trusted=body.trusted)
    for scope in scopes:
        await identity.principals.assign(sp.app_id, role, scope)
    return json_response(
        {
            "appId": sp.app_id,
            "displayName": sp.display_name,
            "password": secret,
            "tenant": identity.tenant_id,
        },
        status=201,
    )


async def list_all(req: ManagementRequest) -> web.Response:
    identity = req.http.config_dict[IDENTITY]
    return json_response(
        {"value": [await _shape(req, sp) for sp in await identity.principals.all()]}
    )


async def delete(req: ManagementRequest) -> web.Response:
    identity = req.http.config_dict[IDENTITY]
    deleted = await identity.principals.delete(req.params["appId"])
    return web.Response(status=200 if deleted else 204)


async def reset(req: ManagementRequest) -> web.Response:
    identity = req.http.config_dict[IDENTITY]
    secret = await identity.principals.reset_secret(req.params["appId"])
    return json_response(
        {"appId": req.params["appId"], "password": secret, "tenant": identity.tenant_id}
    )
