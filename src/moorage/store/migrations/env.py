"""Alembic environment: runs on the connection moorage hands it (see store/database.py)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from moorage.store.schema import metadata

config = context.config
connection: Connection | None = config.attributes.get("connection")

if connection is None:
    # `alembic revision --autogenerate` from a developer's shell: -x url=sqlite:///path
    url = context.get_x_argument(as_dictionary=True).get("url", "sqlite:///migrations.db")
    with create_engine(url).connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
