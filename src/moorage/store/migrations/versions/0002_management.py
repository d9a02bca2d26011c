"""management: tenants, subscriptions, resource groups, principals, registry settings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NOW = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("created_at", NOW, nullable=False),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("created_at", NOW, nullable=False),
    )
    op.create_table(
        "resource_groups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "subscription_id", sa.String(36), sa.ForeignKey("subscriptions.id"), nullable=False
        ),
        sa.Column("name", sa.String(90), nullable=False),
        sa.Column("name_key", sa.String(90), nullable=False),
        sa.Column("location", sa.String(64), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("created_at", NOW, nullable=False),
        sa.UniqueConstraint(
            "subscription_id", "name_key", name="uq_resource_groups_subscription_id_name_key"
        ),
    )
    op.create_table(
        "service_principals",
        sa.Column("app_id", sa.String(36), primary_key=True),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column("trusted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", NOW, nullable=False),
    )
    op.create_table(
        "role_assignments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "principal_id",
            sa.String(36),
            sa.ForeignKey("service_principals.app_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("scope", sa.String(512), nullable=False),
        sa.Column("created_at", NOW, nullable=False),
        sa.UniqueConstraint(
            "principal_id", "role", "scope", name="uq_role_assignments_principal_id_role_scope"
        ),
    )
    op.create_index("ix_role_assignments_principal_id", "role_assignments", ["principal_id"])
    op.create_table(
        "registry_credentials",
        sa.Column(
            "registry_id",
            sa.Integer(),
            sa.ForeignKey("registries.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("value_encrypted", sa.Text(), nullable=False),
        sa.Column("created_at", NOW, nullable=False),
    )
    # On SQLite a batch rebuilds `registries` (copy, drop, rename): Database.migrate runs with
    # foreign keys off, so dropping the old table cascades nowhere, and checks them after.
    columns: list[sa.Column[Any]] = [
        sa.Column(
            "resource_group_id",
            sa.Integer(),
            sa.ForeignKey("resource_groups.id", name="fk_registries_resource_group_id"),
            nullable=True,
        ),
        sa.Column("admin_user_enabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "anonymous_pull_enabled", sa.Boolean(), server_default=sa.false(), nullable=False
        ),
        sa.Column("data_endpoint_enabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("zone_redundancy", sa.String(16), server_default="Disabled", nullable=False),
        sa.Column(
            "network_rule_bypass_options",
            sa.String(16),
            server_default="AzureServices",
            nullable=False,
        ),
        sa.Column("etag", sa.String(64), server_default="", nullable=False),
        sa.Column("updated_at", NOW, nullable=True),
    ]
    with op.batch_alter_table("registries") as batch:
        for column in columns:
            batch.add_column(column)
        batch.create_index("ix_registries_resource_group_id", ["resource_group_id"])


def downgrade() -> None:
    with op.batch_alter_table("registries") as batch:
        batch.drop_index("ix_registries_resource_group_id")
        for name in (
            "updated_at",
            "etag",
            "network_rule_bypass_options",
            "zone_redundancy",
            "data_endpoint_enabled",
            "anonymous_pull_enabled",
            "admin_user_enabled",
            "resource_group_id",
        ):
            batch.drop_column(name)
    for table in (
        "registry_credentials",
        "role_assignments",
        "service_principals",
        "resource_groups",
        "subscriptions",
        "tenants",
    ):
        op.drop_table(table)
