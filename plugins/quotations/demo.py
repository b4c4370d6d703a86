"""Demo quotations: a draft, a sent one and an accepted one (which became an order)."""

from __future__ import annotations


def load(ctx) -> None:
    """Add three quotations to the demo site's first customer and products."""
    from sqlalchemy import select

    from erp_core.extensions import db
    from plugins.orders.public import Customer, Product

    from . import services

    customer = db.session.scalar(select(Customer).order_by(Customer.id))
    products = db.session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.id).limit(3)).all()
    if customer is None or not products:
        return
    made = []
    for count in (1, 2, 3):
        made.append(services.create_quotation(services.QuoteInput(
            customer_id=customer.id, ship_line1="88 Demo Road", ship_city="Shanghai", notes="Demo quotation",
            lines=[services.LineInput(p.id, count, discount="5" if count == 3 else "") for p in products[:count]])))
    services.send_quotation(made[1], mail=False)
    services.send_quotation(made[2], mail=False)
    services.accept(made[2])
    db.session.flush()
    ctx.log(f"  {len(made)} quotations")
