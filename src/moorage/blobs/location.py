"""Where an S3 blob store is, parsed from `--blob-store` (no client imported: the CLI checks
settings without loading one)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class S3Location:
    """Where blobs live: `s3://bucket/prefix?endpoint=http://host:port&region=...`."""

    bucket: str
    prefix: str
    endpoint: str | None
    region: str | None

    @classmethod
    def parse(cls, url: str) -> S3Location:
        """Raises ValueError saying what is wrong with the URL."""
        parts = urlsplit(url)
        if parts.scheme != "s3":
            raise ValueError("an S3 blob store URL starts with s3://")
        if not _BUCKET.match(parts.netloc):
            raise ValueError(f"{parts.netloc!r} is not an S3 bucket name")
        query = parse_qs(parts.query, keep_blank_values=True)
        unknown = sorted(set(query) - {"endpoint", "region"})
        if unknown:
            raise ValueError(f"unknown option {unknown[0]!r} (known: endpoint, region)")
        endpoint = query.get("endpoint", [None])[-1] or None
        if endpoint is not None:
            scheme = urlsplit(endpoint)
            if scheme.scheme not in ("http", "https") or not scheme.hostname:
                raise ValueError(f"endpoint {endpoint!r} is not an http(s) URL")
        prefix = parts.path.strip("/")
        return cls(
            bucket=parts.netloc,
            prefix=f"{prefix}/" if prefix else "",
            endpoint=endpoint,
            region=query.get("region", [None])[-1] or None,
        )

    @property
    def address(self) -> str:
        """What an error names when the store cannot be reached."""
        where = self.endpoint or "AWS S3"
        return f"bucket {self.bucket!r} at {where}"
