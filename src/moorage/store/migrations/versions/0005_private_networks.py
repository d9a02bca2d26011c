"""private endpoints and their connections, virtual networks, subnets, virtual-network rules

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def _group() -> sa.Column[int]:
    return sa.Column(
        "resource_group_id",
        sa.Integer(),
        sa.ForeignKey("resource_groups.id"),
        nullable=False,
        index=True,
    )


def upgrade() -> None:
    op.create_table(
        "private_endpoints",
        sa.Column("id", sa.Integer(), primary_key=True),
        _group(),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("name_key", sa.String(80), nullable=False, unique=True),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(8), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.UniqueConstraint("address", "port", name="uq_private_endpoints_address_port"),
    )
    op.create_table(
        "private_endpoint_connections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "registry_id",
            sa.Integer(),
            sa.ForeignKey("registries.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("name_key", sa.String(80), nullable=False),
        sa.Column(
            "private_endpoint_id",
            sa.Integer(),
            sa.ForeignKey("private_endpoints.id", ondelete="SET NULL"),
            nullable=True,
            index=True,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("description", sa.String(256), nullable=True),
        sa.Column("actions_required", sa.String(64), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.UniqueConstraint(
            "registry_id", "name_key", name="uq_private_endpoint_connections_registry_id_name_key"
        ),
    )
    op.create_table(
        "virtual_networks",
        sa.Column("id", sa.Integer(), primary_key=True),
        _group(),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("name_key", sa.String(80), nullable=False),
        sa.Column("address_prefixes", sa.JSON(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.UniqueConstraint(
            "resource_group_id", "name_key", name="uq_virtual_networks_resource_group_id_name_key"
        ),
    )
    op.create_table(
        "subnets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "virtual_network_id",
            sa.Integer(),
            sa.ForeignKey("virtual_networks.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("name_key", sa.String(80), nullable=False),
        sa.Column("address_prefix", sa.String(64), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.UniqueConstraint(
            "virtual_network_id", "name_key", name="uq_subnets_virtual_network_id_name_key"
        ),
    )
    op.create_table(
        "virtual_network_rules",
        sa.Column(
            "registry_id",
            sa.Integer(),
            sa.ForeignKey("registries.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "subnet_id",
            sa.Integer(),
            sa.ForeignKey("subnets.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_index("ix_virtual_network_rules_subnet_id", "virtual_network_rules", ["subnet_id"])


def downgrade() -> None:
    op.drop_table("virtual_network_rules")
    op.drop_table("subnets")
    op.drop_table("virtual_networks")
    op.drop_table("private_endpoint_connections")
    op.drop_table("private_endpoints")
