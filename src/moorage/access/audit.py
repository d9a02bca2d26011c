"""A bounded record of refused requests: who was turned away, how often, and why.

`record()` is called on the refusal path and only touches memory (O(1)); a background task
writes batches to the store. Everything is bounded so a flood of refused requests cannot
exhaust memory or disk: the pending buffer, the details kept per registry, and the number of
addresses counted per registry. Counts per address are kept even when details are dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from moorage.access.client import ClientAddress
from moorage.store.audit import AuditStore, Denial, DeniedClient
from moorage.store.types import utcnow

log = logging.getLogger("moorage.access")


@dataclass
class _Pending:
    count: int = 0
    first_at: datetime = field(default_factory=utcnow)
    last_at: datetime = field(default_factory=utcnow)
    last_reason: str = ""


class DenialAudit:
    def __init__(
        self,
        store: AuditStore,
        *,
        max_pending_details: int = 10_000,
        max_pending_addresses: int = 10_000,
        flush_seconds: float = 1.0,
    ) -> None:
        self.store = store
        self.flush_seconds = flush_seconds
        self._details: deque[Denial] = deque(maxlen=max_pending_details)
        self._counts: dict[tuple[int, str], _Pending] = {}
        self._max_addresses = max_pending_addresses
        self.dropped_addresses = 0

    def record(
        self, registry_id: int, client: ClientAddress, method: str, path: str, reason: str
    ) -> None:
        now = utcnow()
        address = str(client.address)
        self._details.append(
            Denial(
                registry_id,
                now,
                address,
                str(client.peer),
                ",".join(client.forwarded)[:512] or None,
                method,
                path[:512],
                reason,
            )
        )
        key = (registry_id, address)
        pending = self._counts.get(key)
        if pending is None:
            if len(self._counts) >= self._max_addresses:
                self.dropped_addresses += 1  # flushed within a second; rarely reached
                return
            pending = self._counts[key] = _Pending(first_at=now)
        pending.count += 1
        pending.last_at = now
        pending.last_reason = reason

    async def flush(self) -> None:
        details = list(self._details)
        self._details.clear()
        counts, self._counts = self._counts, {}
        if not details and not counts:
            return
        await self.store.write(
            details,
            [
                DeniedClient(registry_id, address, p.count, p.first_at, p.last_at, p.last_reason)
                for (registry_id, address), p in counts.items()
            ],
        )

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.flush_seconds)
            try:
                await self.flush()
            except Exception:
                log.exception("writing the audit of refused requests failed")

    async def denied_clients(self, registry_id: int, limit: int = 100) -> list[DeniedClient]:
        await self.flush()  # what was refused a moment ago is listed too
        return await self.store.denied_clients(registry_id, limit)

    async def recent(self, registry_id: int, limit: int = 100) -> list[Denial]:
        await self.flush()
        return await self.store.recent(registry_id, limit)
