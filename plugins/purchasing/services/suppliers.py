"""Suppliers and the terms on which they sell products."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from erp_core import audit, settings
from erp_core.errors import Conflict, DomainError, NotFound
from erp_core.extensions import db
from erp_core.mail.config import check_address
from erp_core.money import is_currency
from plugins.orders.public import Product

from ..models import PurchaseOrder, Supplier, SupplierProduct
from ._common import clean, price, whole

FIELDS = ("code", "name", "contact_name", "phone", "email", "address", "tax_id", "currency", "payment_terms",
          "notes")
LIMITS = {"code": 32, "name": 200, "contact_name": 120, "phone": 40, "email": 254, "address": 2000, "tax_id": 40,
          "currency": 3, "payment_terms": 200, "notes": 4000}


@dataclass
class SupplierInput:
    """What a form, the API or an import row says of a supplier (text as typed)."""

    code: str = ""
    name: str = ""
    contact_name: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""
    tax_id: str = ""
    currency: str = ""
    payment_terms: str = ""
    notes: str = ""
    active: bool = True
    extra: dict = field(default_factory=dict)


def _checked(data: SupplierInput) -> dict:
    values = {name: clean(getattr(data, name), LIMITS[name], name) for name in FIELDS}
    values["code"] = values["code"].upper()
    values["currency"] = (values["currency"] or settings.company_currency()).upper()
    if not values["code"]:
        raise DomainError(_("Enter a supplier code."), field="code")
    if not values["name"]:
        raise DomainError(_("Enter the supplier's name."), field="name")
    if not is_currency(values["currency"]):
        raise DomainError(_("Unknown currency %(code)s.", code=values["currency"]), field="currency")
    if values["email"]:
        problem = check_address(values["email"])
        if problem:
            raise DomainError(problem, field="email")
    values["active"] = bool(data.active)
    return values


def save_supplier(supplier: Supplier | None, data: SupplierInput) -> Supplier:
    """Create (``supplier`` None) or change a supplier; a code already used is refused."""
    values = _checked(data)
    taken = db.session.scalar(select(Supplier.id).where(Supplier.code == values["code"]))
    if taken is not None and (supplier is None or taken != supplier.id):
        raise Conflict(_("Another supplier already has the code %(code)s.", code=values["code"]), field="code")
    if supplier is None:
        supplier = Supplier(**values, name_key=values["name"].lower())
        db.session.add(supplier)
        db.session.flush()
        audit.record("supplier", supplier.id, "created", after={"code": supplier.code, "name": supplier.name})
        return supplier
    if values["currency"] != supplier.currency and _trades_in_its_currency(supplier):
        raise Conflict(_("This supplier's prices, purchase orders or bills are in %(code)s; its currency can no "
                         "longer change. Create a new supplier for the other currency.", code=supplier.currency),
                       field="currency")
    _change(supplier, values)
    return supplier


def _trades_in_its_currency(supplier: Supplier) -> bool:
    """Whether amounts in the supplier's currency are stored: product prices, orders (bills belong
    to orders)."""
    return any(db.session.scalar(select(model.id).where(model.supplier_id == supplier.id).limit(1)) is not None
               for model in (SupplierProduct, PurchaseOrder))


def _change(supplier: Supplier, values: dict) -> None:
    before = {k: getattr(supplier, k) for k, v in values.items() if getattr(supplier, k) != v}
    for key, value in values.items():
        setattr(supplier, key, value)
    supplier.name_key = values["name"].lower()
    if before:
        db.session.flush()
        audit.record("supplier", supplier.id, "changed", before=before, after={k: values[k] for k in before})


def get_supplier(supplier_id) -> Supplier:
    """The supplier with this id, or NotFound."""
    supplier = db.session.get(Supplier, int(supplier_id)) if str(supplier_id).isdigit() else None
    if supplier is None:
        raise NotFound(_("Unknown supplier."), field="supplier_id")
    return supplier


def supplier_query(q: str = "", active: bool | None = None):
    """Suppliers matching ``q`` (code, name, contact, phone), newest name order by the caller."""
    stmt = select(Supplier)
    q = (q or "").strip()
    if q:
        stmt = stmt.where(or_(Supplier.code.contains(q.upper(), autoescape=True),
                              Supplier.name_key.contains(q.lower(), autoescape=True),
                              Supplier.contact_name.contains(q, autoescape=True),
                              Supplier.phone.contains(q, autoescape=True)))
    if active is not None:
        stmt = stmt.where(Supplier.active.is_(active))
    return stmt


def active_suppliers() -> list[Supplier]:
    """Active suppliers by name (for choices)."""
    return list(db.session.scalars(select(Supplier).where(Supplier.active.is_(True)).order_by(Supplier.name_key)))


# ----------------------------------------------------------------------------- terms per product


def find_product(sku_or_id) -> Product:
    """A product by its code (SKU) or id; NotFound names the ``sku`` field."""
    raw = str(sku_or_id or "").strip()
    product = None
    if raw:
        product = db.session.scalar(select(Product).where(Product.sku == raw.upper()))
        if product is None and raw.isdigit():
            product = db.session.get(Product, int(raw))
    if product is None:
        raise NotFound(_("Unknown product code %(sku)s.", sku=raw or "—"), field="sku")
    return product


def set_terms(supplier: Supplier, product: Product, *, supplier_sku="", price_raw="", min_quantity="",
              pack_size="", lead_time_days="", preferred=False) -> SupplierProduct:
    """Add or change what ``supplier`` asks for ``product``; preferred clears the others' flag."""
    values = {"supplier_sku": clean(supplier_sku, 64, "supplier_sku"),
              "price_minor": price(price_raw, supplier.currency, "price"),
              "min_quantity": whole(min_quantity, "min_quantity", minimum=1, default=1),
              "pack_size": whole(pack_size, "pack_size", minimum=1, default=1),
              "lead_time_days": whole(lead_time_days, "lead_time_days", default=0),
              "preferred": bool(preferred)}
    terms = db.session.scalar(select(SupplierProduct).where(SupplierProduct.supplier_id == supplier.id,
                                                            SupplierProduct.product_id == product.id))
    if terms is None:
        terms = SupplierProduct(supplier_id=supplier.id, product_id=product.id)
        db.session.add(terms)
    if values["preferred"]:
        for other in db.session.scalars(select(SupplierProduct).where(
                SupplierProduct.product_id == product.id, SupplierProduct.preferred.is_(True),
                SupplierProduct.supplier_id != supplier.id)):
            other.preferred = False
    for key, value in values.items():
        setattr(terms, key, value)
    db.session.flush()
    audit.record("supplier", supplier.id, "terms_set",
                 after={"sku": product.sku, "price": values["price_minor"], "currency": supplier.currency,
                        **{k: v for k, v in values.items() if k != "price_minor"}})
    return terms


def remove_terms(supplier: Supplier, terms_id: int) -> None:
    """This supplier no longer sells that product."""
    terms = db.session.get(SupplierProduct, terms_id)
    if terms is None or terms.supplier_id != supplier.id:
        raise NotFound(_("This product is not in the supplier's list."))
    sku = db.session.scalar(select(Product.sku).where(Product.id == terms.product_id))
    db.session.delete(terms)
    audit.record("supplier", supplier.id, "terms_removed", before={"sku": sku})


def terms_of_supplier(supplier: Supplier) -> list[tuple[SupplierProduct, Product]]:
    """The products a supplier sells, by code (one query)."""
    return list(db.session.execute(select(SupplierProduct, Product).join(Product, Product.id == SupplierProduct.product_id)
                                   .where(SupplierProduct.supplier_id == supplier.id).order_by(Product.sku)).all())


def terms_of_products(product_ids) -> dict[int, list[SupplierProduct]]:
    """``{product_id: [terms, preferred first]}`` of active suppliers (one query)."""
    ids = sorted(set(product_ids))
    found: dict[int, list[SupplierProduct]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = db.session.scalars(select(SupplierProduct).join(Supplier, Supplier.id == SupplierProduct.supplier_id)
                              .where(SupplierProduct.product_id.in_(ids), Supplier.active.is_(True))
                              .order_by(SupplierProduct.preferred.desc(), SupplierProduct.price_minor,
                                        SupplierProduct.id))
    for terms in rows:
        found[terms.product_id].append(terms)
    return found


def supplier_count() -> int:
    """How many suppliers there are (the empty page's hint)."""
    return db.session.scalar(select(func.count(Supplier.id))) or 0
