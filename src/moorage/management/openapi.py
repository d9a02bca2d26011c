"""The OpenAPI document of the management API, made from its route table and body models."""

from __future__ import annotations

import re
from typing import Any, Final

from moorage.domain.networks import NETWORK_NAME_PATTERN
from moorage.domain.registry import REGISTRY_NAME_PATTERN
from moorage.domain.repository_access import SCOPE_MAP_NAME_PATTERN, TOKEN_NAME_PATTERN
from moorage.management.apiversions import NEWEST_STABLE
from moorage.management.router import PUBLIC, Route

# Path parameters whose values the server checks against a rule: the document states the same
# rule (the domain's own pattern), so it allows no name the server refuses.
PARAMETER_PATTERNS: Final = {
    "registryName": REGISTRY_NAME_PATTERN,
    "scopeMapName": SCOPE_MAP_NAME_PATTERN,
    "tokenName": TOKEN_NAME_PATTERN,
    "virtualNetworkName": NETWORK_NAME_PATTERN,
    "subnetName": NETWORK_NAME_PATTERN,
    "privateEndpointName": NETWORK_NAME_PATTERN,
}


def _parameter_schema(name: str) -> dict[str, str]:
    pattern = PARAMETER_PATTERNS.get(name)
    return {"type": "string", "pattern": pattern} if pattern else {"type": "string"}


def openapi_document(routes: tuple[Route, ...]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    for route in routes:
        params = [
            {"name": name, "in": "path", "required": True, "schema": _parameter_schema(name)}
            for name in re.findall(r"\{(\w+)\}", route.path)
        ]
        if route.versions is not None:
            params.append(
                {
                    "name": "api-version",
                    "in": "query",
                    "required": True,
                    "schema": route.versions.schema(),
                    "description": route.versions.describe(),
                }
            )
        operation: dict[str, Any] = {
            "summary": route.summary,
            "operationId": f"{route.handler.__module__.rsplit('.', 1)[-1]}_"
            f"{route.handler.__name__.strip('_')}_{route.method.lower()}",
            "parameters": params,
            "responses": {
                "200": {"description": "OK"},
                "default": {"description": 'An error: {"error": {code, message, target}}'},
            },
        }
        if route.permission is not PUBLIC:
            operation["security"] = [{"bearer": []}]
            operation["x-moorage-permission"] = str(
                getattr(route.permission, "value", route.permission)
            )
        if route.body is not None:
            name = route.body.__name__.removesuffix("Model")
            schema = route.body.model_json_schema(
                by_alias=True, ref_template="#/components/schemas/{model}"
            )
            schemas.update(schema.pop("$defs", {}))
            schemas[name] = schema
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                },
            }
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "moorage management API",
            "version": NEWEST_STABLE,
            "description": "Microsoft.ContainerRegistry/registries in the resource manager's "
            "shape, served by moorage.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
