"""Metadata: schema, migrations and queries. Services return frozen dataclasses."""
