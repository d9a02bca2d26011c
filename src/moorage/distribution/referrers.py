"""/v2/<name>/referrers/<digest>: manifests whose subject is that digest, as an image index."""

from __future__ import annotations

import json

from aiohttp import web

from moorage.distribution import context as ctx
from moorage.domain.manifest import OCI_INDEX


async def list_referrers(request: web.Request) -> web.Response:
    registry, name, digest = ctx.registry(request), ctx.repository(request), ctx.digest(request)
    artifact_type = request.query.get("artifactType") or None
    found = await ctx.content(request).content.referrers(
        registry.id, name, str(digest), artifact_type
    )
    descriptors = []
    for r in found:
        d: dict[str, object] = {"mediaType": r.media_type, "digest": r.digest, "size": r.size}
        if r.artifact_type:
            d["artifactType"] = r.artifact_type
        if r.annotations:
            d["annotations"] = r.annotations
        descriptors.append(d)
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}
    headers = {"Content-Type": OCI_INDEX}
    if artifact_type is not None:
        headers["OCI-Filters-Applied"] = "artifactType"
    return web.Response(body=json.dumps(index).encode(), headers=headers)
