"""Demo data of customers for real businesses: contact people, tags, owners, credit limits,
payment terms and billing addresses, so that the customer and order pages show them."""

from __future__ import annotations

from sqlalchemy import select

from erp_core.extensions import db

from . import services

CONTACTS = [("王芳", "采购"), ("刘洋", "财务"), ("陈静", "仓库"), ("赵磊", "总经理")]
TAGS = ["VIP", "批发", "老客户", "月结客户", "电商"]


def _salespeople(ctx) -> list[int]:
    """Users of the customer-service role (else the admin) to own customers."""
    from erp_core.auth.models import Role, User

    ids = list(db.session.scalars(select(User.id).join(User.roles).where(Role.name == "customer_service")
                                  .order_by(User.id).limit(3)))
    if not ids and getattr(ctx, "admin", None) is not None:
        ids = [ctx.admin.id]
    return ids


def add_sales_details(ctx, customers, companies: int) -> None:
    """Companies get two contacts, a billing address, tags, terms and a credit limit; a few
    private customers get a tag."""
    rng = ctx.rng
    owners = _salespeople(ctx)
    for index, customer in enumerate(customers):
        if owners:
            services.set_owner(customer, owners[index % len(owners)])
        if index >= companies:
            if rng.random() < 0.2:
                services.set_tags(customer, rng.choice(TAGS[:1] + TAGS[4:]))
            continue
        for name, role in rng.sample(CONTACTS, 2):
            phone = f"13{rng.randint(0, 9)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
            services.add_contact(customer, {"name": name, "role": role, "phone": phone})
        first = customer.addresses[0] if customer.addresses else None
        if first is not None:
            services.add_address(customer, {"label": "财务部", "recipient": "财务部", "line1": first.line1,
                                            "city": first.city, "region": first.region,
                                            "postcode": first.postcode, "kind": "billing"})
        services.set_tags(customer, rng.sample(TAGS[:4], 2))
        terms = rng.choice(["net", "month_end", "prepaid"])
        services.set_terms(customer, rng.choice(["50000", "100000", "200000"]), terms,
                           30 if terms == "net" else None)
