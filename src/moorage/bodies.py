"""Read a request body with a bound, before anything parses it (every edge that reads JSON).

aiohttp's own `request.read()` raises its HTTPRequestEntityTooLarge past the application's
client_max_size, which each plane would render differently (the management API rendered it as
a 500); here the caller learns "too large" and answers in its own plane's words.
"""

from __future__ import annotations

from aiohttp import web


async def read_bounded(request: web.Request, limit: int) -> bytes | None:
    """The body, or None when it is longer than `limit` bytes (the rest is not read)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    payload = await request.content.read(limit + 1)
    while len(payload) <= limit and not request.content.at_eof():
        more = await request.content.read(limit + 1 - len(payload))
        if not more:
            break
        payload += more
    return None if len(payload) > limit else payload
