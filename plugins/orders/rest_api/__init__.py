"""The JSON API of orders (``/api/v1``): customers and their addresses, products, sales orders
and their transitions.

Thin, like the pages: arguments are checked by the schemas, the work is done by
:mod:`plugins.orders.services` (so every rule of the pages holds here too), a DomainError turns
into problem+json with its code. Each method carries the permission mark the matching page has.
"""

from __future__ import annotations

from flask import jsonify, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint
from sqlalchemy.orm import selectinload

from erp_core import settings
from erp_core.api.idempotency import idempotent
from erp_core.api.pagination import paginate
from erp_core.api.schemas import (
    clamp_date,
    existing_id,
    page_schema,
)
from erp_core.errors import Conflict, DomainError, NotFound
from erp_core.extensions import db
from erp_core.money import format_plain
from erp_core.security import require_permission, requires
from erp_core.ui import apply_sort

from .. import queries, services, states, tax
from ..invoicing_details import customer_invoicing_details
from ..models import Customer, Order
from .schemas import (
    HEADER,
    AddressInputSchema,
    AddressPatchSchema,
    AddressSchema,
    CustomerCreateSchema,
    CustomerListArgs,
    CustomerPatchSchema,
    CustomerSchema,
    OrderCreateSchema,
    OrderListArgs,
    OrderPatchSchema,
    OrderSchema,
    OrderSummarySchema,
    ProductCreateSchema,
    ProductListArgs,
    ProductPatchSchema,
    ProductSchema,
    TransitionSchema,
    customer_json,
)

bp = Blueprint("orders_api", __name__, url_prefix="/api/v1",
               description="Customers, products and sales orders (orders plugin)")




# ----------------------------------------------------------------------------- helpers


def _rename_line_errors(exc: services.OrderInvalid) -> services.OrderInvalid:
    """The services name fields like the form (``lines-0-quantity``, ``discount_amount``); the API
    says ``lines.0.quantity`` and ``discount_minor``."""
    exc.errors = {_api_field(key): value for key, value in exc.errors.items()}
    return exc


def _api_field(key: str) -> str:
    if key.startswith("lines-"):
        key = key.replace("-", ".")
    head, _dot, last = key.rpartition(".")
    return f"{head}{_dot}discount_minor" if last == "discount_amount" else key


def _order_input(data: dict, lines: list[services.LineInput], **extra) -> services.OrderInput:
    header = {name: data[name] for name in HEADER if data.get(name) is not None}
    return services.OrderInput(lines=lines, **header, **extra)


def _line_input(item: dict, existing=None, currency: str = "") -> services.LineInput:
    unit_price, discount, fixed = item.get("unit_price"), item.get("discount"), item.get("discount_minor")
    if existing is not None:  # a kept line keeps what the client did not send
        if unit_price is None:
            unit_price = format_plain(existing.unit_price_minor, currency)
        if discount is None:
            discount = str(existing.discount_percent)
        if fixed is None:
            fixed = existing.line_discount_minor
    return services.LineInput(product_id=item["product_id"], quantity=item["quantity"], unit_price=unit_price,
                              discount=discount, line_id=item.get("id"),
                              discount_amount=format_plain(fixed, currency) if fixed else "")


def _order_discount(data: dict, currency: str, order=None) -> dict:
    """The order's discount fields of ``OrderInput`` from the body (a PATCH without them keeps
    the order's)."""
    if order is not None and data.get("discount_percent") is None and data.get("discount_minor") is None:
        percent, amount = order.order_discount_percent, order.order_discount_amount_minor
    else:
        percent, amount = data.get("discount_percent") or "", data.get("discount_minor") or 0
    return {"discount_percent": str(percent) if percent else "",
            "discount_amount": format_plain(amount, currency) if amount else ""}


def _require_products(lines: list[dict]) -> None:
    try:
        services.require_products([item["product_id"] for item in lines])
    except NotFound as exc:
        exc.field = exc.field.replace("-", ".")
        raise


def _set_invoicing(customer: Customer, data: dict | None, partial: bool = False) -> None:
    """Keep the customer's invoicing details sent (on a PATCH, merged into the current ones);
    their errors are named ``invoicing.<field>`` as the body nests them."""
    if data is None:
        return
    if partial:
        data = {**customer_invoicing_details(customer).as_dict(), **data}
    try:
        services.set_customer_invoicing(customer, data)
    except services.InvoicingInvalid as exc:
        exc.errors = {f"invoicing.{key}": value for key, value in exc.errors.items()}
        exc.field = f"invoicing.{exc.field}"
        raise


def _order(order_id: int) -> Order:
    return services.get_order(existing_id(order_id))


_ORDER_SCHEMA = OrderSchema()  # dumping keeps no state: one instance serves every answer


def _commit_with_response(order: Order, status: int = 200, headers: dict | None = None):
    """Serialise the order as stored, then commit, then answer.

    The answer is built inside the view's transaction (after a flush and a refresh: lines and
    version as stored), so nothing expired by the commit has to be loaded again afterwards: no
    second transaction (on SQLite no second ``BEGIN IMMEDIATE``) per write request."""
    db.session.flush()
    db.session.refresh(order)
    body = _ORDER_SCHEMA.dump(order)
    db.session.commit()
    return jsonify(body), status, headers or {}


# ----------------------------------------------------------------------------- customers


@bp.route("/customers", endpoint="customers")
class Customers(MethodView):
    @requires("orders.customers.view")
    @bp.arguments(CustomerListArgs, location="query")
    @bp.response(200, page_schema(CustomerSchema, "CustomerPage"))
    def get(self, args):
        """List customers (search with q), with their addresses."""
        stmt, _sort, _desc = apply_sort(queries.customer_select(args.get("q", "").strip(), args.get("tag", "")),
                                        queries.CUSTOMER_SORTS, "name")
        body, headers = paginate(stmt.options(selectinload(Customer.addresses), selectinload(Customer.invoicing),
                                              selectinload(Customer.contacts), selectinload(Customer.tags)), args)
        body["items"] = [customer_json(c) for c in body["items"]]
        return body, 200, headers

    @requires("orders.customers.edit")
    @idempotent
    @bp.arguments(CustomerCreateSchema)
    @bp.response(201, CustomerSchema)
    @bp.alt_response(409, response="DEFAULT_ERROR", description="possible_duplicate: same phone or e-mail")
    def post(self, data):
        """Create a customer (and its first address). Send an Idempotency-Key to retry safely."""
        customer = services.create_customer(data["name"], data.get("phone", ""), data.get("email", ""),
                                            data.get("notes", ""), address=data.get("address"),
                                            allow_duplicate=data["confirm_duplicate"],
                                            language=data.get("language"))
        _set_invoicing(customer, data.get("invoicing"))
        db.session.commit()
        return customer_json(customer), 201, {"Location": url_for("orders_api.customer", customer_id=customer.id)}


@bp.route("/customers/<int:customer_id>", endpoint="customer")
class CustomerItem(MethodView):
    @requires("orders.customers.view")
    @bp.response(200, CustomerSchema)
    def get(self, customer_id):
        """One customer with its addresses."""
        return customer_json(services.get_customer(existing_id(customer_id)))

    @requires("orders.customers.edit")
    @bp.arguments(CustomerPatchSchema)
    @bp.response(200, CustomerSchema)
    def patch(self, data, customer_id):
        """Change a customer's name, phone, e-mail, notes or language (fields left out stay as they are)."""
        customer = services.get_customer(existing_id(customer_id))
        merged = {"name": customer.name, "phone": customer.phone or "", "email": customer.email or "",
                  "notes": customer.notes or "", **data}
        services.update_customer(customer, merged["name"], merged["phone"], merged["email"], merged["notes"],
                                 language=data.get("language"))
        _set_invoicing(customer, data.get("invoicing"), partial=True)
        _set_sales_terms(customer, data)
        db.session.commit()
        return customer_json(customer)


def _set_sales_terms(customer: Customer, data: dict) -> None:
    """Tags, credit limit, payment terms and owner of a PATCH (those sent); reassigning the owner
    needs ``orders.customers.manage``."""
    if "tags" in data:
        services.set_tags(customer, data["tags"])
    if {"credit_limit", "payment_terms", "payment_days"} & set(data):
        limit = customer.credit_limit_minor
        current = format_plain(limit, settings.company_currency()) if limit is not None else ""
        services.set_terms(customer, data.get("credit_limit", current),
                           data.get("payment_terms", customer.payment_terms or ""),
                           data.get("payment_days", customer.payment_days))
    if "owner_id" in data:
        require_permission("orders.customers.manage")
        services.set_owner(customer, data["owner_id"])


@bp.route("/customers/<int:customer_id>/addresses", endpoint="addresses")
class Addresses(MethodView):
    @requires("orders.customers.view")
    @bp.response(200, AddressSchema(many=True))
    def get(self, customer_id):
        """The customer's addresses (the default one is marked)."""
        return services.get_customer(existing_id(customer_id)).addresses

    @requires("orders.customers.edit")
    @idempotent
    @bp.arguments(AddressInputSchema)
    @bp.response(201, AddressSchema)
    def post(self, data, customer_id):
        """Add an address; the first one, or one sent with is_default, becomes the default."""
        customer = services.get_customer(existing_id(customer_id))
        make_default = data.pop("is_default", False)
        address = services.add_address(customer, data, make_default=make_default)
        db.session.commit()
        return address, 201, {"Location": url_for("orders_api.address", customer_id=customer.id,
                                                  address_id=address.id)}


@bp.route("/customers/<int:customer_id>/addresses/<int:address_id>", endpoint="address")
class AddressItem(MethodView):
    @requires("orders.customers.view")
    @bp.response(200, AddressSchema)
    def get(self, customer_id, address_id):
        """One address of the customer."""
        customer = services.get_customer(existing_id(customer_id))
        return services.get_address(customer, existing_id(address_id))

    @requires("orders.customers.edit")
    @bp.arguments(AddressPatchSchema)
    @bp.response(200, AddressSchema)
    def patch(self, data, customer_id, address_id):
        """Change an address (fields left out stay as they are); is_default=true makes it the default."""
        customer = services.get_customer(existing_id(customer_id))
        address = services.get_address(customer, existing_id(address_id))
        merged = {name: getattr(address, name) for name in services.ADDRESS_FIELDS}
        make_default = bool(data.pop("is_default", False))
        merged.update(data)
        services.update_address(customer, address.id, merged, make_default=make_default)
        db.session.commit()
        return address

    @requires("orders.customers.edit")
    @bp.response(204)
    def delete(self, customer_id, address_id):
        """Remove an address. Orders keep their own copy of it."""
        customer = services.get_customer(existing_id(customer_id))
        services.delete_address(customer, existing_id(address_id))
        db.session.commit()


# ----------------------------------------------------------------------------- products


@bp.route("/products", endpoint="products")
class Products(MethodView):
    @requires("orders.products.view")
    @bp.arguments(ProductListArgs, location="query")
    @bp.response(200, page_schema(ProductSchema, "ProductPage"))
    def get(self, args):
        """List the catalogue (search with q; active=true/false)."""
        active = "" if args.get("active") is None else ("yes" if args["active"] else "no")
        stmt, _sort, _desc = apply_sort(queries.product_select(args.get("q", "").strip(), active),
                                        queries.PRODUCT_SORTS, "sku")
        body, headers = paginate(stmt, args)
        return body, 200, headers

    @requires("orders.products.edit")
    @idempotent
    @bp.arguments(ProductCreateSchema)
    @bp.response(201, ProductSchema)
    @bp.alt_response(409, response="DEFAULT_ERROR", description="The code or barcode is used by another product")
    def post(self, data):
        """Add a product to the catalogue."""
        currency = data.get("currency") or settings.company_currency()
        product = services.create_product(data["sku"], data["name"], format_plain(data["price_minor"], currency),
                                          currency,
                                          spec=data.get("spec", ""), unit=data.get("unit", "pcs"),
                                          active=data["active"], **_tax_fields(data, currency))
        db.session.commit()
        return product, 201, {"Location": url_for("orders_api.product", product_id=product.id)}


@bp.route("/products/<int:product_id>", endpoint="product")
class ProductItem(MethodView):
    @requires("orders.products.view")
    @bp.response(200, ProductSchema)
    def get(self, product_id):
        """One product."""
        return services.get_product(existing_id(product_id))

    @requires("orders.products.edit")
    @bp.arguments(ProductPatchSchema)
    @bp.response(200, ProductSchema)
    @bp.alt_response(409, response="DEFAULT_ERROR", description="The code or barcode is used by another product")
    def patch(self, data, product_id):
        """Change a product (fields left out stay). Orders keep their own copy of code, name and price."""
        product = services.get_product(existing_id(product_id))
        currency = data.get("currency") or product.currency
        merged = {"sku": product.sku, "name": product.name, "spec": product.spec, "unit": product.unit,
                  "active": product.active, **data}
        price_minor = data["price_minor"] if data.get("price_minor") is not None else product.price_minor
        price = format_plain(price_minor, currency)
        services.update_product(product, merged["sku"], merged["name"], price, currency, spec=merged["spec"],
                                unit=merged["unit"], active=merged["active"], **_tax_fields(data, currency))
        db.session.commit()
        return product


def _tax_fields(data: dict, currency: str) -> dict:
    """``tax_rate_id``, ``cost`` and ``barcode`` for the product services from the API's
    ``tax_rate`` (a percent naming an active rate, "exempt", or null), ``cost_minor`` and
    ``barcode``; fields left out are
    left out (a change keeps them)."""
    fields = {}
    if "tax_rate" in data:
        raw = data["tax_rate"]
        rate = tax.find_rate(raw) if raw not in (None, "") else None
        if raw not in (None, "") and rate is None:
            raise DomainError(_("No active tax rate is %(rate)s.", rate=raw), field="tax_rate", status=422)
        fields["tax_rate_id"] = rate.id if rate is not None else None
    if "cost_minor" in data:
        fields["cost"] = format_plain(data["cost_minor"], currency) if data["cost_minor"] is not None else None
    if "barcode" in data:
        fields["barcode"] = data["barcode"]
    return fields


# ----------------------------------------------------------------------------- orders


@bp.route("/orders", endpoint="orders")
class Orders(MethodView):
    @requires("orders.view")
    @bp.arguments(OrderListArgs, location="query")
    @bp.response(200, page_schema(OrderSummarySchema, "OrderPage"))
    def get(self, args):
        """List orders with the filters of the order list page (without lines)."""
        filters = queries.OrderFilter(q=args.get("q", "").strip(), status=args.get("status", ""),
                                      date_from=clamp_date(args.get("date_from")),
                                      date_to=clamp_date(args.get("date_to")),
                                      customer_id=args.get("customer_id"),
                                      channel=(args.get("channel") or "").strip().lower(),
                                      tag=queries.tag_arg(args.get("tag")))
        stmt, _sort, _desc = apply_sort(queries.order_select(filters), queries.ORDER_SORTS, "-created")
        body, headers = paginate(stmt, args)
        return body, 200, headers

    @requires("orders.create")
    @idempotent
    @bp.arguments(OrderCreateSchema)
    @bp.response(201, OrderSchema)
    @bp.alt_response(409, response="DEFAULT_ERROR", description=(
        "duplicate_external_ref: an order of this channel has this external_ref; existing_order_id names it"))
    def post(self, data):
        """Enter a draft order. Line prices default to the catalogue's; send an Idempotency-Key to retry safely."""
        services.get_customer(data["customer_id"])
        _require_products(data["lines"])
        currency = data.get("currency") or settings.company_currency()
        lines = [_line_input(item, currency=currency) for item in data["lines"]]
        order_input = _order_input(data, lines, customer_id=data["customer_id"], currency=currency,
                                   channel=data.get("channel") or "", external_ref=data.get("external_ref") or "",
                                   **_order_discount(data, currency))
        try:
            order = services.create_order(order_input)
        except services.OrderInvalid as exc:
            raise _rename_line_errors(exc) from None
        except services.DuplicateExternalRef as exc:
            db.session.rollback()
            return duplicate_answer(exc)
        return _commit_with_response(order, 201, {"Location": url_for("orders_api.order", order_id=order.id)})


@bp.route("/orders/<int:order_id>", endpoint="order")
class OrderItem(MethodView):
    @requires("orders.view")
    @bp.response(200, OrderSchema)
    def get(self, order_id):
        """One order with its lines and the actions the token's user may take."""
        return _order(order_id)

    @requires("orders.edit")
    @bp.arguments(OrderPatchSchema)
    @bp.response(200, OrderSchema)
    @bp.alt_response(409, response="DEFAULT_ERROR",
                     description="stale: the order changed since `version`; or it can no longer change")
    def patch(self, data, order_id):
        """Change lines, quantities, contact and address until the order ships (optimistic `version`)."""
        order = _order(order_id)
        if data.get("customer_id") not in (None, order.customer_id) and order.status != states.DRAFT:
            raise Conflict(_("The customer of order %(number)s can no longer change: it is %(status)s.",
                             number=order.number, status=states.LABELS[order.status]), field="customer_id")
        if data.get("customer_id") is not None:
            services.get_customer(data["customer_id"])
        _require_products(data.get("lines") or [])
        existing = {line.id: line for line in order.lines}
        if data.get("lines") is None:
            lines = [_line_input({"id": line.id, "product_id": line.product_id, "quantity": line.quantity},
                                 line, order.currency) for line in order.lines]
        else:
            lines = [_line_input(item, existing.get(item.get("id")), order.currency) for item in data["lines"]]
        current = {name: getattr(order, name) for name in HEADER}
        merged = {**current, **{k: v for k, v in data.items() if k in HEADER}}
        order_input = _order_input(merged, lines, customer_id=data.get("customer_id") or order.customer_id,
                                   currency=order.currency, **_order_discount(data, order.currency, order))
        try:
            services.update_order(order, order_input, data["version"])
        except services.OrderInvalid as exc:
            raise _rename_line_errors(exc) from None
        return _commit_with_response(order)


@bp.route("/orders/<int:order_id>/transitions", endpoint="transitions")
class Transitions(MethodView):
    @requires("orders.view")
    @bp.arguments(TransitionSchema)
    @bp.response(200, OrderSchema)
    @bp.alt_response(409, response="DEFAULT_ERROR", description=(
        "transition_refused (not allowed from the current status), stale (version), "
        "transition_vetoed or insufficient_stock (another module objects)"))
    def post(self, data, order_id):
        """Take an action of the order's transition table (confirm, cancel with a note, ...).

        The token's user needs the action's permission (as the button on the order page does)."""
        order = _order(order_id)
        require_permission(states.ACTIONS_BY_NAME[data["action"]].permission)
        services.perform_action(order, data["action"], data.get("note"), data.get("version"))
        return _commit_with_response(order)


from . import backorders, channels, invoicing, tags  # noqa: E402, F401  (their routes join this blueprint)
from .channels import duplicate_answer  # noqa: E402
