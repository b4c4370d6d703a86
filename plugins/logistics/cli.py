"""``erp logistics ...``: pull tracking now, look for late shipments."""

from __future__ import annotations

import click


def make_group() -> click.Group:
    """A fresh command group (the core wraps each command it is given)."""

    @click.group("logistics")
    def group():
        """Shipping: tracking sync and delivery checks."""

    @group.command("sync")
    @click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100_000),
                  help="At most this many shipments, least recently synced first.")
    def sync(limit):
        """Pull tracking events of shipments on their way from carriers that offer tracking."""
        from .jobs import sync_tracking

        summary = sync_tracking(limit)
        click.echo(f"Synced {summary['shipments']} shipment(s): {summary['new']} new event(s), "
                   f"{summary['duplicate']} already known, {summary['failed']} failed.")

    @group.command("check-delays")
    def check_delays():
        """Raise a "delayed" exception for shipments past their expected delivery date."""
        from .jobs import check_delays as run

        click.echo(f"{run()} delayed shipment(s) found.")

    return group
