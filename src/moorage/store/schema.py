"""Metadata schema. Alembic migrations (store/migrations) create and evolve it."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# The service's one tenant (directory): its id is the `tenant` of every token and credential.
tenants = Table(
    "tenants",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", ForeignKey("tenants.id"), nullable=False),
    Column("display_name", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

resource_groups = Table(
    "resource_groups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subscription_id", ForeignKey("subscriptions.id"), nullable=False),
    Column("name", String(90), nullable=False),
    Column("name_key", String(90), nullable=False),
    Column("location", String(64), nullable=False),
    Column("tags", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("subscription_id", "name_key"),
)

registries = Table(
    "registries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("resource_group_id", ForeignKey("resource_groups.id"), nullable=True, index=True),
    Column("name", String(50), nullable=False),
    # Lower-cased name: registry names are unique regardless of case, as in the cloud.
    Column("name_key", String(50), nullable=False, unique=True),
    Column("login_server", String(300), nullable=False),
    Column("location", String(64), nullable=False),
    Column("sku", String(16), nullable=False),
    Column("public_network_access", String(16), nullable=False),
    Column("default_action", String(8), nullable=False),
    Column("tags", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("admin_user_enabled", Boolean, nullable=False, server_default=false()),
    Column("anonymous_pull_enabled", Boolean, nullable=False, server_default=false()),
    Column("data_endpoint_enabled", Boolean, nullable=False, server_default=false()),
    Column("zone_redundancy", String(16), nullable=False, server_default="Disabled"),
    Column(
        "network_rule_bypass_options", String(16), nullable=False, server_default="AzureServices"
    ),
    # Changes on every write; the management API's ETag and If-Match check use it.
    Column("etag", String(64), nullable=False, server_default=""),
    Column("updated_at", DateTime(timezone=True), nullable=True),
)

# Admin-user passwords of a registry ("password" and "password2"). The cloud returns them in
# listCredentials, so they are kept encrypted with a key of the data directory, not hashed.
registry_credentials = Table(
    "registry_credentials",
    metadata,
    Column("registry_id", ForeignKey("registries.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(16), primary_key=True),
    Column("value_encrypted", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # argon2id hash of the same password: logins are checked against it, never the clear text.
    Column("value_hash", Text, nullable=True),
)

# Scope maps: named sets of "repositories/<name or pattern>/<action>" lines of one registry.
# The system-defined maps (_repositories_pull, ...) are not stored: they are the same for all.
scope_maps = Table(
    "scope_maps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "registry_id", ForeignKey("registries.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("name", String(50), nullable=False),
    Column("name_key", String(50), nullable=False),
    Column("description", String(256), nullable=True),
    Column("actions", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("registry_id", "name_key"),
)

# Repository-scoped tokens: a name (the login user name), a scope map, up to two passwords.
registry_tokens = Table(
    "registry_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "registry_id", ForeignKey("registries.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("name", String(50), nullable=False),
    Column("name_key", String(50), nullable=False),
    # The scope map's lower-cased name: a stored map of this registry, or a system one.
    Column("scope_map", String(50), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("registry_id", "name_key"),
)

token_passwords = Table(
    "token_passwords",
    metadata,
    Column("token_id", ForeignKey("registry_tokens.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(16), primary_key=True),  # password1 | password2
    Column("value_hash", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
)

# Identities of the management API: client id (appId) + secret, the secret hashed with argon2.
service_principals = Table(
    "service_principals",
    metadata,
    Column("app_id", String(36), primary_key=True),
    Column("display_name", String(128), nullable=False),
    Column("secret_hash", Text, nullable=False),
    # Trusted services may pass a registry's network rules once authenticated (bypass).
    Column("trusted", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Portal sign-in sessions. `id` is the SHA-256 (hex) of the random id in the browser's cookie:
# the cookie value itself is never stored, so a copy of the database signs no one in. A session
# ends with its principal.
portal_sessions = Table(
    "portal_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column(
        "app_id",
        ForeignKey("service_principals.app_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("display_name", String(128), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False, index=True),
    # Written at most once a minute, not on every page.
    Column("seen_at", DateTime(timezone=True), nullable=False, index=True),
)

# A role (Owner, Contributor, Reader, AcrPull, ...) held by a principal on a scope: a resource
# id prefix such as /subscriptions/<id> or .../registries/<name>, compared case-insensitively.
role_assignments = Table(
    "role_assignments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "principal_id",
        ForeignKey("service_principals.app_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("role", String(32), nullable=False),
    Column("scope", String(512), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("principal_id", "role", "scope"),
)

ip_rules = Table(
    "ip_rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "registry_id", ForeignKey("registries.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("value", String(64), nullable=False),
    Column("action", String(8), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # A rule may expire on its own (a CI runner's address for one job); NULL never expires.
    Column("expires_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("registry_id", "value"),
)

# Refused requests, for operators: recent details (pruned to a bound per registry) and a
# count per client address that survives the pruning (itself bounded per registry).
access_denials = Table(
    "access_denials",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("registry_id", ForeignKey("registries.id", ondelete="CASCADE"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("client", String(64), nullable=False),
    Column("peer", String(64), nullable=False),
    Column("forwarded", String(512), nullable=True),
    Column("method", String(16), nullable=False),
    Column("path", String(512), nullable=False),
    Column("reason", String(128), nullable=False),
    Index("ix_access_denials_registry_id_id", "registry_id", "id"),
)

access_denial_counts = Table(
    "access_denial_counts",
    metadata,
    Column("registry_id", ForeignKey("registries.id", ondelete="CASCADE"), primary_key=True),
    Column("client", String(64), primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("first_at", DateTime(timezone=True), nullable=False),
    Column("last_at", DateTime(timezone=True), nullable=False),
    Column("last_reason", String(128), nullable=False),
    Index("ix_access_denial_counts_registry_id_last_at", "registry_id", "last_at"),
)

# Private endpoints: named listeners (address and port) the service serves besides the public one.
private_endpoints = Table(
    "private_endpoints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("resource_group_id", ForeignKey("resource_groups.id"), nullable=False, index=True),
    Column("name", String(80), nullable=False),
    # Lower-cased: a listener's name is unique in the service, whatever its group.
    Column("name_key", String(80), nullable=False, unique=True),
    Column("address", String(64), nullable=False),
    Column("port", Integer, nullable=False),
    # "serve" for endpoints declared with `moorage serve --private-endpoint`, "api" otherwise.
    Column("origin", String(8), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("address", "port"),
)

# A registry's connection to a private endpoint, in the cloud's states: Pending, Approved,
# Rejected, Disconnected (the endpoint is gone). Requests on the endpoint's listener are served
# only while it is Approved.
private_endpoint_connections = Table(
    "private_endpoint_connections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "registry_id", ForeignKey("registries.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("name", String(80), nullable=False),
    Column("name_key", String(80), nullable=False),
    Column(
        "private_endpoint_id",
        ForeignKey("private_endpoints.id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    ),
    Column("status", String(16), nullable=False),
    Column("description", String(256), nullable=True),
    Column("actions_required", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("registry_id", "name_key"),
)

# Virtual networks and their subnets (address prefixes), for service-endpoint rules.
virtual_networks = Table(
    "virtual_networks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("resource_group_id", ForeignKey("resource_groups.id"), nullable=False, index=True),
    Column("name", String(80), nullable=False),
    Column("name_key", String(80), nullable=False),
    Column("address_prefixes", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("resource_group_id", "name_key"),
)

subnets = Table(
    "subnets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "virtual_network_id",
        ForeignKey("virtual_networks.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("name", String(80), nullable=False),
    Column("name_key", String(80), nullable=False),
    Column("address_prefix", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("virtual_network_id", "name_key"),
)

# A registry's virtual-network rule: traffic from the subnet is admitted on the public endpoint
# (while public access is Enabled).
virtual_network_rules = Table(
    "virtual_network_rules",
    metadata,
    Column("registry_id", ForeignKey("registries.id", ondelete="CASCADE"), primary_key=True),
    Column("subnet_id", ForeignKey("subnets.id", ondelete="CASCADE"), primary_key=True),
    Column("action", String(8), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_virtual_network_rules_subnet_id", "subnet_id"),
)

repositories = Table(
    "repositories",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("registry_id", ForeignKey("registries.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("registry_id", "name"),
)

# Every verified blob the service holds, once, whatever repositories link it.
blobs = Table(
    "blobs",
    metadata,
    Column("digest", String(140), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# A blob is visible in a repository only through a link.
repository_blobs = Table(
    "repository_blobs",
    metadata,
    Column("repository_id", ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True),
    Column("digest", ForeignKey("blobs.digest"), primary_key=True, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

manifests = Table(
    "manifests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("repository_id", ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
    Column("digest", String(140), nullable=False),
    Column("media_type", String(255), nullable=False),
    Column("artifact_type", String(255), nullable=True),
    Column("size", Integer, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("subject", String(140), nullable=True),
    Column("annotations", JSON, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("repository_id", "digest"),
    Index("ix_manifests_repository_id_subject", "repository_id", "subject"),
)

# What a manifest points at: its blobs (kind "blob") and child manifests (kind "manifest").
manifest_references = Table(
    "manifest_references",
    metadata,
    Column("manifest_id", ForeignKey("manifests.id", ondelete="CASCADE"), primary_key=True),
    Column("digest", String(140), primary_key=True),
    Column("kind", String(8), nullable=False),
    Index("ix_manifest_references_digest", "digest"),
)

tags = Table(
    "tags",
    metadata,
    Column("repository_id", ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column(
        "manifest_id", ForeignKey("manifests.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

uploads = Table(
    "uploads",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("registry_id", ForeignKey("registries.id", ondelete="CASCADE"), nullable=False),
    Column("repository", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, index=True),
)
