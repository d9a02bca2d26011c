"""moorage: a self-hosted OCI registry with per-registry network access control."""
