"""`--database` URLs: checked and shown without a password (light: the CLI checks settings
without loading the store)."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


def shown_database_url(url: str) -> str:
    """The URL as an error or a log may show it: the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("@")[-1]


def database_url_problem(url: str) -> str | None:
    """What is wrong with a `--database` URL, or None."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "is not a URL (postgresql://user:password@host:port/database)"
    if parsed.drivername not in ("postgresql", "postgres", "postgresql+asyncpg"):
        return "is not a postgresql:// URL"
    if not parsed.host:
        return "names no host"
    if not parsed.database:
        return "names no database"
    return None
