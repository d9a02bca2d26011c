"""data-plane authentication: hashed admin passwords, scope maps, repository-scoped tokens

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def _registry_id() -> sa.Column[int]:
    return sa.Column(
        "registry_id",
        sa.Integer(),
        sa.ForeignKey("registries.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


def upgrade() -> None:
    # Existing rows get their hash on first use (the cipher key is not available here).
    op.add_column("registry_credentials", sa.Column("value_hash", sa.Text(), nullable=True))
    op.create_table(
        "scope_maps",
        sa.Column("id", sa.Integer(), primary_key=True),
        _registry_id(),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("name_key", sa.String(50), nullable=False),
        sa.Column("description", sa.String(256), nullable=True),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.UniqueConstraint("registry_id", "name_key", name="uq_scope_maps_registry_id_name_key"),
    )
    op.create_table(
        "registry_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        _registry_id(),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("name_key", sa.String(50), nullable=False),
        sa.Column("scope_map", sa.String(50), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.UniqueConstraint(
            "registry_id", "name_key", name="uq_registry_tokens_registry_id_name_key"
        ),
    )
    op.create_table(
        "token_passwords",
        sa.Column(
            "token_id",
            sa.Integer(),
            sa.ForeignKey("registry_tokens.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("value_hash", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("token_passwords")
    op.drop_table("registry_tokens")
    op.drop_table("scope_maps")
    with op.batch_alter_table("registry_credentials") as batch:
        batch.drop_column("value_hash")
