"""`moorage network ...`: the cloud CLI's `az network`. Just the group: its subgroups (`vnet`,
and `private-endpoint`) live in their own modules and are added in cli/main.py."""

from __future__ import annotations

import click

from moorage.cli.command import AzGroup


@click.group("network", cls=AzGroup)
def network() -> None:
    """Network resources (the cloud CLI's `az network`): virtual networks and their subnets,
    private endpoints."""
