"""portal sign-in sessions, kept in the metadata store (by the hash of their id)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "portal_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "app_id",
            sa.String(36),
            sa.ForeignKey("service_principals.app_id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("started_at", TIME, nullable=False, index=True),
        sa.Column("seen_at", TIME, nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("portal_sessions")
