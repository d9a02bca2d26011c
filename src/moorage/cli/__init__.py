"""The `moorage` command line."""

from moorage.cli.main import main

__all__ = ["main"]
