"""CSV export of the order list and CSV import of products and orders.

Imports are all-or-nothing per file: every row is checked (each in a savepoint, so one bad row
does not hide the next one's problems) and any problem refuses the whole file with
:class:`ImportRefused`, whose ``problems`` list every bad row: row number (as a spreadsheet shows
it, the header being row 1), column and reason, in the user's language. The caller commits or
rolls back.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from erp_core import settings
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.inputs import text_problem
from erp_core.money import format_plain
from erp_core.timeutil import to_zone, utcnow

from . import channels, services, states, tax
from .models import Order, Product

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    help: object
    example: str


COLUMNS = {
    "products": [
        Column("sku", True, _l("Product code, unique. An existing code updates that product."), "TEA-001"),
        Column("name", True, _l("Product name."), "Longjing green tea"),
        Column("price", True, _l("Unit price in major units with a dot for decimals, e.g. 12.50."), "128.00"),
        Column("currency", False, _l("ISO currency code; the company currency when empty."), "CNY"),
        Column("spec", False, _l("Specification: size, colour, model."), "250 g tin"),
        Column("unit", False, _l("Unit of sale; pcs when empty."), "tin"),
        Column("active", False, _l("yes or no: whether it is sold; yes when empty."), "yes"),
        Column("tax_rate", False, _l("VAT rate in percent (13, 9, 6...) or exempt; the default rate when empty."),
               "13"),
        Column("cost", False, _l("Cost price in major units (for margin reports); may stay empty."), "80.00"),
        Column("barcode", False, _l("EAN-13, UPC-A or EAN-8 barcode; may stay empty."), "6901234567892"),
    ],
    "orders": [
        Column("order_ref", True, _l("Your reference of the order: rows with the same reference are the lines of one order. "
                                     "Kept as its external reference: a reference already entered in the channel is refused."), "A-1001"),
        Column("customer_name", True, _l("Customer name. An existing customer with the same phone or e-mail is used."), "Li Lei"),
        Column("customer_phone", False, _l("Customer phone."), "138 0013 8000"),
        Column("customer_email", False, _l("Customer e-mail."), "lilei@example.com"),
        Column("contact_name", False, _l("Contact on the order; the customer name when empty."), ""),
        Column("contact_phone", False, _l("Contact phone; the customer phone when empty."), ""),
        Column("contact_email", False, _l("Contact e-mail."), ""),
        Column("ship_recipient", False, _l("Recipient of the parcel."), "Li Lei"),
        Column("ship_line1", True, _l("Street address."), "88 Century Avenue"),
        Column("ship_line2", False, _l("Address line 2."), "Room 1203"),
        Column("ship_city", False, _l("City."), "Shanghai"),
        Column("ship_region", False, _l("Province or region."), "Shanghai"),
        Column("ship_postcode", False, _l("Postcode."), "200120"),
        Column("ship_country", False, _l("Two-letter country code; CN when empty."), "CN"),
        Column("currency", False, _l("ISO currency code of the order; the company currency when empty."), "CNY"),
        Column("notes", False, _l("Notes on the order."), ""),
        Column("channel", False, _l("Sales channel code (shop, phone, taobao...); import when empty."), "taobao"),
        Column("sku", True, _l("Product code of this line."), "TEA-001"),
        Column("quantity", True, _l("Whole number, more than zero."), "2"),
        Column("unit_price", False, _l("Unit price in the order's currency; the catalogue price when empty."), ""),
        Column("discount", False, _l("Discount of this line in percent (0 to 100)."), "5"),
        Column("discount_amount", False, _l("A fixed discount of this line, as an amount (after the percent)."), ""),
    ],
}


class ImportRefused(DomainError):
    """The file was refused; ``problems`` is a list of :class:`Problem`."""

    code = "import_refused"
    status = 422

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.row, p.column))
        super().__init__(ngettext("The file was not imported: %(num)d problem. Nothing was changed.",
                                  "The file was not imported: %(num)d problems. Nothing was changed.",
                                  len(self.problems)))


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    message: str
    order_id: int | None = None  # the existing order a refused row duplicates


@dataclass
class ImportResult:
    kind: str
    created: int = 0
    updated: int = 0
    numbers: tuple = ()

    def message(self) -> str:
        if self.kind == "products":
            return _("Products imported: %(created)d new, %(updated)d updated.", created=self.created,
                     updated=self.updated)
        return ngettext("%(num)d order imported as a draft.", "%(num)d orders imported as drafts.", self.created)


# ----------------------------------------------------------------------------- reading a file


def decode_upload(raw: bytes) -> str:
    """The text of an uploaded CSV: UTF-8 (with or without BOM), else GB18030 (Excel in China)."""
    if len(raw) > MAX_BYTES:
        raise DomainError(_("The file is larger than %(mb)d MB; split it.", mb=MAX_BYTES // (1024 * 1024)),
                          field="file")
    if not raw.strip():
        raise DomainError(_("The file is empty."), field="file")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        problem = text_problem(text)
        if problem:  # a NUL in a cell: PostgreSQL cannot store it
            raise DomainError(problem, field="file")
        return text
    raise DomainError(_("The file is not text in UTF-8 or GB18030; save it as CSV UTF-8."), field="file")


def _read(text: str, kind: str) -> list[tuple[int, dict]]:
    """``[(row number, {column: value})]``; raises ImportRefused for a bad header."""
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise DomainError(_("The file is empty."), field="file") from None
    names = [h.strip().lstrip("\ufeff").strip().lower().replace(" ", "_") for h in header]
    problems = _header_problems(names, kind)
    if problems:
        raise ImportRefused(problems)
    try:
        rows = _rows(reader, names)
    except csv.Error as exc:
        raise ImportRefused([Problem(reader.line_num, "", _("The file is not valid CSV: %(error)s", error=exc))]) from None
    if not rows:
        raise DomainError(_("The file has a header but no rows."), field="file")
    return rows


def _header_problems(names: list[str], kind: str) -> list[Problem]:
    """Unknown, missing and repeated columns of the header row."""
    known = {c.name for c in COLUMNS[kind]}
    problems = [Problem(1, h or "?", _("Unknown column %(name)s.", name=h or "?")) for h in names if h not in known]
    problems += [Problem(1, c.name, _("The column %(name)s is missing.", name=c.name))
                 for c in COLUMNS[kind] if c.required and c.name not in names]
    seen = set()
    for h in names:
        if h in seen:
            problems.append(Problem(1, h, _("The column %(name)s appears twice.", name=h)))
        seen.add(h)
    return problems


def _rows(reader, names: list[str]) -> list[tuple[int, dict]]:
    """The non-empty rows after the header; refuses too many rows or cells."""
    rows = []
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(rows) >= MAX_ROWS:
            raise ImportRefused([Problem(number, "", _("A file has at most %(n)d rows; split it.", n=MAX_ROWS))])
        if len(values) > len(names):
            raise ImportRefused([Problem(number, "", _("This row has more cells than the header."))])
        rows.append((number, {name: (values[i].strip() if i < len(values) else "") for i, name in enumerate(names)}))
    return rows


def _yes_no(raw: str) -> bool | None:
    value = raw.strip().lower()
    if value in ("yes", "y", "true", "1", "是", "x"):
        return True
    if value in ("no", "n", "false", "0", "否"):
        return False
    raise ValueError(raw)


# ----------------------------------------------------------------------------- products


def import_products(text: str) -> ImportResult:
    rows = _read(text, "products")
    problems: list[Problem] = []
    result = ImportResult("products")
    skus = [r["sku"].strip().upper() for _n, r in rows]
    existing = {p.sku: p for p in db.session.scalars(select(Product).where(Product.sku.in_(set(skus))))}
    first_row: dict[str, int] = {}
    for number, row in rows:
        sku = row["sku"].strip().upper()
        if sku and sku in first_row:
            problems.append(Problem(number, "sku", _("The code %(sku)s is already on row %(row)d.", sku=sku,
                                                     row=first_row[sku])))
            continue
        first_row[sku] = number
        try:
            active = _yes_no(row["active"]) if row.get("active", "").strip() else None
        except ValueError:
            problems.append(Problem(number, "active", _("Write yes or no.")))
            continue
        product = existing.get(sku)
        try:
            with db.session.begin_nested():
                tax_fields = _product_tax_fields(row, product)
                if product is None:
                    services.create_product(sku, row["name"], row["price"], row.get("currency") or None,
                                            spec=row.get("spec", ""), unit=row.get("unit") or "pcs",
                                            active=True if active is None else active, **tax_fields)
                    result.created += 1
                else:
                    services.update_product(
                        product, sku, row["name"], row["price"], row.get("currency") or product.currency,
                        spec=row["spec"] if "spec" in row else product.spec,
                        unit=(row.get("unit") or product.unit) if "unit" in row else product.unit,
                        active=product.active if active is None else active, **tax_fields)
                    result.updated += 1
        except DomainError as exc:
            problems.append(Problem(number, exc.field or "sku", str(exc)))
    if problems:
        raise ImportRefused(problems)
    return result


def _product_tax_fields(row: dict, product: Product | None) -> dict:
    """``tax_rate_id``, ``cost`` and ``barcode`` of an imported product row: an empty rate is the
    default rate for a new product and leaves an existing one's as it is; so does an empty cost
    or barcode."""
    fields = {}
    raw = (row.get("tax_rate") or "").strip()
    if raw:
        rate = tax.find_rate(raw)
        if rate is None:
            raise DomainError(_("No active tax rate is %(rate)s.", rate=raw), field="tax_rate")
        fields["tax_rate_id"] = rate.id
    if (row.get("cost") or "").strip() or product is None:
        fields["cost"] = (row.get("cost") or "").strip() or None
    if (row.get("barcode") or "").strip() or product is None:
        fields["barcode"] = (row.get("barcode") or "").strip() or None
    return fields


# ----------------------------------------------------------------------------- orders

HEADER_COLUMNS = ("customer_name", "customer_phone", "customer_email", "contact_name", "contact_phone",
                  "contact_email", "ship_recipient", "ship_line1", "ship_line2", "ship_city", "ship_region",
                  "ship_postcode", "ship_country", "currency", "notes", "channel")
_ERROR_COLUMN = {"external_ref": "order_ref", "customer_id": "customer_name", "new_customer-name": "customer_name",
                 "new_customer-phone": "customer_phone", "new_customer-email": "customer_email",
                 "new_customer-duplicate": "customer_phone", "lines": "sku"}
_LINE_COLUMN = {"product_id": "sku", "quantity": "quantity", "unit_price": "unit_price", "discount": "discount",
                "discount_amount": "discount_amount"}


def import_orders(text: str) -> ImportResult:
    rows = _read(text, "orders")
    groups: dict[str, list[tuple[int, dict]]] = {}
    problems: list[Problem] = []
    for number, row in rows:
        ref = row["order_ref"].strip()
        if not ref:
            problems.append(Problem(number, "order_ref", _("Give the order reference.")))
            continue
        groups.setdefault(ref, []).append((number, row))
    result = ImportResult("orders")
    numbers = []
    for ref, group in groups.items():
        first_number, first = group[0]
        bad = False
        for number, row in group[1:]:
            for column in HEADER_COLUMNS:
                if row.get(column, "") and row.get(column, "") != first.get(column, ""):
                    problems.append(Problem(number, column, _("Differs from row %(row)d of the same order %(ref)s.",
                                                              row=first_number, ref=ref)))
                    bad = True
        if not first.get("customer_name", "").strip():
            problems.append(Problem(first_number, "customer_name", _("The customer needs a name.")))
            continue
        if bad:
            continue
        try:
            with db.session.begin_nested():
                order = services.create_order(_order_input(first, group))
                numbers.append(order.number)
                result.created += 1
        except services.OrderInvalid as exc:
            problems.extend(_order_problems(exc.errors, group))
        except services.DuplicateExternalRef as exc:
            problems.append(Problem(first_number, "order_ref", str(exc), exc.order_id))
        except DomainError as exc:
            problems.append(Problem(first_number, exc.field or "order_ref", str(exc)))
    if problems:
        raise ImportRefused(problems)
    result.numbers = tuple(numbers)
    return result


def _order_input(first: dict, group) -> services.OrderInput:
    matches = services.find_duplicates(first.get("customer_phone"), first.get("customer_email"))
    customer_id, new_customer = None, None
    if matches:
        customer_id = matches[0].id
    else:
        new_customer = {"name": first.get("customer_name", ""), "phone": first.get("customer_phone", ""),
                        "email": first.get("customer_email", ""), "confirmed": True}
    header = {name: first.get(name, "") for name in services.HEADER_FIELDS}
    header["ship_country"] = header["ship_country"] or "CN"
    if not header["contact_name"]:
        header["contact_name"] = first.get("customer_name", "")
    if not header["contact_phone"]:
        header["contact_phone"] = first.get("customer_phone", "")
    lines = [services.LineInput(product_id=None, sku=row.get("sku", ""), quantity=row.get("quantity", ""),
                                unit_price=row.get("unit_price", ""), discount=row.get("discount", ""),
                                discount_amount=row.get("discount_amount", ""))
             for _number, row in group]
    return services.OrderInput(customer_id=customer_id, new_customer=new_customer,
                               currency=first.get("currency", ""), lines=lines,
                               channel=first.get("channel", "") or _import_channel(),
                               external_ref=first.get("order_ref", ""), **header)


def _import_channel() -> str:
    """The channel of imported rows that name none: "import" while it is offered."""
    return "import" if "import" in channels.channels() else ""


def _order_problems(errors: dict, group) -> list[Problem]:
    problems = []
    for key, messages in errors.items():
        if key.startswith("lines-"):
            _prefix, index, field = key.split("-", 2)
            number = group[int(index)][0]
            column = _LINE_COLUMN.get(field, field)
        else:
            number, column = group[0][0], _ERROR_COLUMN.get(key, key)
        problems.extend(Problem(number, column, m) for m in messages)
    return problems


IMPORTERS = {"products": import_products, "orders": import_orders}


def template(kind: str) -> str:
    """A CSV with the header and one example row, for download from the import page."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.name for c in COLUMNS[kind]])
    writer.writerow([c.example for c in COLUMNS[kind]])
    if kind == "orders":
        second = {c.name: "" for c in COLUMNS[kind]}
        second.update(order_ref="A-1001", customer_name="Li Lei", ship_line1="88 Century Avenue", sku="TEA-002",
                      quantity="1")
        writer.writerow([second[c.name] for c in COLUMNS[kind]])
    return "\ufeff" + out.getvalue()


# ----------------------------------------------------------------------------- export

EXPORT_COLUMNS = ("number", "status", "status_label", "created_at", "customer", "contact_name", "contact_phone",
                  "contact_email", "ship_recipient", "ship_address", "currency", "subtotal", "discount", "tax", "total",
                  "lines", "items", "notes", "order_discount")


# Headings for people (the export in the reader's language); the codes above stay the
# machine-readable headings, the default, for scripts and spreadsheets that read the columns by name.
EXPORT_HEADINGS = {
    "number": _l("Order number"), "status": _l("Status code"), "status_label": _l("Status"),
    "created_at": _l("Entered"), "customer": _l("Customer"), "contact_name": _l("Contact name"),
    "contact_phone": _l("Contact phone"), "contact_email": _l("Contact e-mail"), "ship_recipient": _l("Recipient"),
    "ship_address": _l("Shipping address"), "currency": _l("Currency"), "subtotal": _l("Subtotal"),
    "discount": _l("Discount"), "tax": _l("Tax"), "total": _l("Total"), "lines": _l("Lines"), "items": _l("Items"), "notes": _l("Notes"),
    "order_discount": _l("Order discount"),
}


def export_headings(localized: bool) -> list[str]:
    """The export's first row: column codes, or their names in the reader's language."""
    return [str(EXPORT_HEADINGS[c]) for c in EXPORT_COLUMNS] if localized else list(EXPORT_COLUMNS)


def _cell(value) -> str:
    """Text as it goes into a cell; a leading = + - @ is defused so spreadsheets never run it."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def export_filename() -> str:
    return f"orders-{to_zone(utcnow(), settings.company_timezone()):%Y%m%d-%H%M}.csv"


def export_orders(stmt, batch: int = 500, localized: bool = False):
    """Yield the CSV of the orders of ``stmt`` piece by piece (rows are fetched ``batch`` at a
    time, with their lines in one extra statement per batch); ``localized`` names the columns
    in the reader's language instead of by their codes."""
    zone = settings.company_timezone()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(export_headings(localized))
    yield "\ufeff" + out.getvalue()
    stmt = stmt.options(selectinload(Order.lines)).execution_options(yield_per=batch)
    for partition in db.session.scalars(stmt).partitions():
        out.seek(0)
        out.truncate()
        for order in partition:
            writer.writerow([
                order.number, order.status, str(states.LABELS.get(order.status, order.status)),
                to_zone(order.created_at, zone).strftime("%Y-%m-%d %H:%M"), _cell(order.customer.name),
                _cell(order.contact_name), _cell(order.contact_phone), _cell(order.contact_email),
                _cell(order.ship_recipient), _cell(order.ship_address_text), order.currency,
                format_plain(order.subtotal_minor, order.currency), format_plain(order.discount_minor, order.currency),
                format_plain(order.tax_minor, order.currency), format_plain(order.total_minor, order.currency), len(order.lines),
                _cell("; ".join(f"{line.sku} x {line.quantity}" for line in order.lines)), _cell(order.notes),
                format_plain(sum(line.order_discount_minor for line in order.lines), order.currency),
            ])
        yield out.getvalue()
