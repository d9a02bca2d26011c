"""The first credential: on first start, a service principal "moorage-owner" holding Owner on
the subscription, its secret written once to data_dir/owner-credential.json (owner-only) in
the shape `az ad sp create-for-rbac` prints."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from moorage.auth.files import create_private, replace_private
from moorage.auth.principals import PrincipalStore

log = logging.getLogger("moorage.auth")
OWNER_FILE = "owner-credential.json"
OWNER_NAME = "moorage-owner"


async def ensure_owner_credential(
    principals: PrincipalStore, data_dir: Path, *, tenant_id: str, subscription_id: str
) -> Path:
    path = data_dir / OWNER_FILE
    existing = _read_app_id(path)
    if existing is not None and await principals.get(existing) is not None:
        return path
    principal, secret = await principals.create(OWNER_NAME)
    try:
        await principals.assign(principal.app_id, "Owner", f"/subscriptions/{subscription_id}")
        document = {
            "appId": principal.app_id,
            "password": secret,
            "tenant": tenant_id,
            "subscription": subscription_id,
            "displayName": principal.display_name,
        }
        data = (json.dumps(document, indent=2) + "\n").encode()
        if path.exists():
            # The file names a principal that is gone (deleted, or a new database).
            replace_private(path, data)
        else:
            create_private(path, data)
    except Exception:
        await principals.delete(principal.app_id)
        raise
    log.info("owner credential of %s written to %s", principal.app_id, path)
    return path


def _read_app_id(path: Path) -> str | None:
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        log.warning("%s is unreadable; a new owner credential replaces it", path)
        return None
    app_id = document.get("appId") if isinstance(document, dict) else None
    return app_id if isinstance(app_id, str) else None
