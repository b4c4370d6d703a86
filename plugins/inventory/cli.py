"""``erp inventory ...`` commands."""

from __future__ import annotations

import sys

import click
from sqlalchemy import func, select

from erp_core.extensions import db


def inventory_group() -> click.Group:
    """A fresh ``inventory`` group (the core wraps each command it is given, so never reuse one)."""

    @click.group("inventory")
    def group():
        """Stock: check that the levels agree with the ledger."""

    @group.command("check")
    def check():
        """Prove that every stock level equals the sum of its moves; exit 1 on any difference."""
        from plugins.orders.public import Product

        from . import services
        from .models import Level, Warehouse

        problems = services.check_ledger()
        levels = db.session.scalar(select(func.count()).select_from(Level))
        if not problems:
            click.echo(f"Stock ledger OK: {levels} levels agree with their moves.")
            return
        skus = dict(db.session.execute(select(Product.id, Product.sku)).all())
        codes = dict(db.session.execute(select(Warehouse.id, Warehouse.code)).all())
        for p in problems:
            click.echo(f"DIFFERENCE {skus.get(p.product_id, p.product_id)} @ {codes.get(p.warehouse_id, p.warehouse_id)}: "
                       f"{p.what}: level {p.level if p.level is not None else '-'}, ledger {p.ledger}")
        click.secho(f"{len(problems)} differences found.", fg="red", err=True)
        sys.exit(1)

    return group
