"""Announcements of committed writes that caches elsewhere must see at once.

A store write that changes what a cache holds names the change when it opens its transaction
(`Database.write(CredentialsChanged(registry_id))`); the database announces it to every
subscriber once the transaction has committed. Caches subscribe instead of being invalidated by
hand from each management call site. With replicas on one PostgreSQL database, the same
announcement is the one to carry over LISTEN/NOTIFY.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("moorage.store")


@dataclass(frozen=True, slots=True)
class CredentialsChanged:
    """What proves an identity on a registry changed: an admin password, a token, a token's
    password or scope map; `registry_id` None for every registry (a service principal, its
    secret or its roles)."""

    registry_id: int | None


Change = CredentialsChanged
Listener = Callable[[Change], None]


class Changes:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def announce(self, change: Change) -> None:
        for listener in self._listeners:
            try:
                listener(change)
            except Exception:  # one broken cache must not hide the change from the others
                log.exception("a listener failed on %s", change)
