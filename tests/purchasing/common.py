"""Shared set-up of the purchasing tests: a catalogue, a supplier with terms, a warehouse."""

from __future__ import annotations

from erp_core.extensions import db
from plugins.inventory import services as inv
from plugins.orders import services as orders
from plugins.purchasing import services

PLUGINS = ["orders", "inventory", "purchasing"]


def setup_data(n: int = 3) -> dict:
    """``n`` products (P-001...), supplier ACME selling all of them (the first preferred,
    MOQ 10, packs of 6), the default warehouse; committed. Returns ids."""
    products = [orders.create_product(f"P-{i:03d}", f"Product {i}", "10", "CNY") for i in range(1, n + 1)]
    supplier = services.save_supplier(None, services.SupplierInput(code="acme", name="Acme Supplies",
                                                                   email="buy@acme.example", currency="CNY"))
    db.session.flush()
    for i, product in enumerate(products):
        services.set_terms(supplier, product, supplier_sku=f"A{i}", price_raw="4.50", min_quantity="10" if i == 0 else "",
                           pack_size="6" if i == 0 else "", lead_time_days="7", preferred=True)
    warehouse = inv.default_warehouse()
    db.session.commit()
    return {"products": [p.id for p in products], "skus": [p.sku for p in products], "supplier": supplier.id,
            "warehouse": warehouse.id}


def make_po(data: dict, quantities=(10, 5), send: bool = True):
    """A purchase order to ACME for the first products; sent unless ``send`` is False; committed."""
    supplier = services.get_supplier(data["supplier"])
    lines = [services.LineInput(sku, q) for sku, q in zip(data["skus"], quantities, strict=False)]
    po = services.create_po(supplier, data["warehouse"], lines)
    if send:
        services.send_po(po, "en")
    db.session.commit()
    return po


def on_hand(product_id: int, warehouse_id: int) -> int:
    from plugins.inventory.models import Level

    db.session.expire_all()
    row = db.session.query(Level).filter_by(product_id=product_id, warehouse_id=warehouse_id).one_or_none()
    return row.on_hand if row else 0
