"""network access: rule expiry, audit of refused requests

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("ip_rules", sa.Column("expires_at", TIME, nullable=True))
    op.create_table(
        "access_denials",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "registry_id",
            sa.Integer(),
            sa.ForeignKey("registries.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", TIME, nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("peer", sa.String(64), nullable=False),
        sa.Column("forwarded", sa.String(512), nullable=True),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("reason", sa.String(128), nullable=False),
    )
    op.create_index("ix_access_denials_registry_id_id", "access_denials", ["registry_id", "id"])
    op.create_table(
        "access_denial_counts",
        sa.Column(
            "registry_id",
            sa.Integer(),
            sa.ForeignKey("registries.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("client", sa.String(64), primary_key=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("first_at", TIME, nullable=False),
        sa.Column("last_at", TIME, nullable=False),
        sa.Column("last_reason", sa.String(128), nullable=False),
    )
    op.create_index(
        "ix_access_denial_counts_registry_id_last_at",
        "access_denial_counts",
        ["registry_id", "last_at"],
    )


def downgrade() -> None:
    op.drop_table("access_denial_counts")
    op.drop_table("access_denials")
    with op.batch_alter_table("ip_rules") as batch:
        batch.drop_column("expires_at")
