"""Demo pricing: a wholesale price list with quantity breaks for the demo's companies (the
"批发客户" group), so their orders are priced from the list."""

from __future__ import annotations

from decimal import Decimal

from erp_core.money import format_plain, round_half_up

from .services import pricelists


def add_pricing(products, customers, companies: int) -> None:
    """A CNY list "批发价" (85 % of the catalogue price, 80 % from 10 up) of the first products
    sold, a group "批发客户" with it, and the first ``companies`` customers in the group."""
    price_list = pricelists.save_price_list(None, "批发价 2026", "CNY")
    for product in [p for p in products if p.active][:8]:
        for min_quantity, share in ((1, "0.85"), (10, "0.80")):
            price = round_half_up(Decimal(product.price_minor) * Decimal(share))
            pricelists.set_item(price_list, product.sku, min_quantity, format_plain(price, "CNY"))
    group = pricelists.save_group(None, "批发客户", price_list.id, "公司客户按批发价结算")
    pricelists.save_group(None, "零售客户", None, "")
    for customer in customers[:companies]:
        pricelists.set_customer_pricing(customer, group.id)
