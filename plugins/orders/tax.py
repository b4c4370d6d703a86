"""VAT (增值税) on order lines: the one rounding rule, the rates and the sums by rate.

The rule (:func:`line_amounts`) is applied once, when a line is entered or changed; the line
stores its ``net_minor``, ``tax_minor`` and ``gross_minor``. Pages, the API, invoices and reports
read those stored values (:func:`tax_by_rate` sums them), never computing tax again.

Rounding is per line, half-up, in integer minor units with Decimal arithmetic. The tax of an
order is the sum of its lines' taxes, which may differ by a few minor units from the tax of the
order's summed net (or gross) amount: that is the documented price of per-line rounding, and the
reason the sums are taken from the stored lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from flask import g, has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from erp_core import settings
from erp_core.extensions import db
from erp_core.money import MoneyError, line_total, round_half_up

from .models import Product, TaxRate

HUNDRED = Decimal(100)

# The VAT rates in force in China, seeded by the migration (a frozen copy there) and by
# :func:`seed_rates`: (name, percent, exempt). Names are stored as typed; these ones are shown
# translated (see :func:`rate_name`).
SEEDED_RATES = [("VAT 13%", "13", False), ("VAT 9%", "9", False), ("VAT 6%", "6", False), ("VAT 3%", "3", False),
                ("VAT 1%", "1", False), ("VAT 0%", "0", False), ("VAT exempt", "0", True)]
_SEEDED_NAMES = {
    "VAT 13%": _l("VAT 13%"), "VAT 9%": _l("VAT 9%"), "VAT 6%": _l("VAT 6%"), "VAT 3%": _l("VAT 3%"),
    "VAT 1%": _l("VAT 1%"), "VAT 0%": _l("VAT 0%"), "VAT exempt": _l("VAT exempt"),
}
DEFAULT_PERCENT = Decimal("13")  # the default rate until the setting names another


@dataclass(frozen=True)
class LineAmounts:
    """What one order line comes to, in minor units: ``net + tax == gross``."""

    net: int
    tax: int
    gross: int


class RateTotal(NamedTuple):
    """The lines of one rate summed: ``percent`` (Decimal), ``exempt``, ``net``, ``tax``, ``gross``."""

    percent: Decimal
    exempt: bool
    net: int
    tax: int
    gross: int


def line_amounts(quantity: int | Decimal, unit_price_minor: int, discount_percent: Decimal | int | str,
                 percent: Decimal | int | str, prices_include_tax: bool, discount_minor: int = 0) -> LineAmounts:
    """Net, tax and gross of one line, the only place tax is computed.

    The line's amount is ``round_half_up(quantity x unit price x (100 - discount) / 100)`` less
    ``discount_minor`` (fixed discounts: the line's own plus its share of the order's discount,
    see :func:`spread`); every discount applies before tax. Raises ``MoneyError`` when the fixed
    discounts exceed the amount. With prices including tax, that amount is the gross and
    ``tax = round_half_up(gross x p / (100 + p))``, ``net = gross - tax``; with prices excluding
    tax it is the net and ``tax = round_half_up(net x p / 100)``, ``gross = net + tax``. An
    exempt line is computed at ``percent`` 0. Raises ``MoneyError`` for a negative rate.

    >>> line_amounts(3, 999, 0, 13, True)        # 3 x 9.99 at 13 %, tax included
    LineAmounts(net=2652, tax=345, gross=2997)
    >>> line_amounts(16, 34835, 4, 22, False)    # Odoo #37896: 5350.66 + 1177.15 = 6527.81
    LineAmounts(net=535066, tax=117715, gross=652781)
    """
    rate = Decimal(str(percent))
    if not rate.is_finite() or rate < 0:
        raise MoneyError("tax rate must not be negative")
    amount = line_total(unit_price_minor, quantity, discount_percent) - int(discount_minor)
    if discount_minor < 0 or amount < 0:
        raise MoneyError("the fixed discount must not be negative nor exceed the line's amount")
    if prices_include_tax:
        tax = round_half_up(Decimal(amount) * rate / (HUNDRED + rate))
        return LineAmounts(net=amount - tax, tax=tax, gross=amount)
    tax = round_half_up(Decimal(amount) * rate / HUNDRED)
    return LineAmounts(net=amount, tax=tax, gross=amount + tax)


def spread(amount: int, weights: list[int]) -> list[int]:
    """``amount`` (minor units) divided over ``weights`` in proportion, by largest remainder: the
    shares sum to ``amount`` exactly and none exceeds its weight when ``amount <= sum(weights)``.
    Ties go to the earlier weight. How an order-level discount is spread over the lines.

    >>> spread(100, [1, 1, 1])
    [34, 33, 33]
    >>> spread(0, [500, 200])
    [0, 0]
    """
    total = sum(weights)
    if amount == 0 or total <= 0:
        return [0] * len(weights)
    shares = [amount * w // total for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % total), i))
    for i in remainders[:amount - sum(shares)]:
        shares[i] += 1
    return shares


def tax_by_rate(order) -> list[RateTotal]:
    """The order's stored line amounts summed per rate, as :class:`RateTotal` rows: highest
    percent first, an exempt group after the 0 % one. Never recomputed from prices."""
    groups: dict[tuple[Decimal, bool], list[int]] = {}
    for line in order.lines:
        key = (Decimal(line.tax_rate_percent).quantize(Decimal("0.01")), bool(line.tax_exempt))
        sums = groups.setdefault(key, [0, 0, 0])
        sums[0] += line.net_minor
        sums[1] += line.tax_minor
        sums[2] += line.gross_minor
    ordered = sorted(groups.items(), key=lambda item: (-item[0][0], item[0][1]))
    return [RateTotal(percent, exempt, *sums) for (percent, exempt), sums in ordered]


def percent_text(percent: Decimal | int | str) -> str:
    """A percent without trailing zeros, as the API gives it: ``"13"``, ``"6.5"``."""
    value = Decimal(str(percent))
    text = format(value.quantize(Decimal("0.01")), "f").rstrip("0").rstrip(".")
    return text or "0"


def rate_percent_text(rate: TaxRate | None) -> str:
    """The percent a rate charges, as text (``"13"``; ``"0"`` when exempt or without a rate)."""
    if rate is None or rate.exempt:
        return "0"
    return percent_text(rate.percent)


def rate_label(percent: Decimal | int | str, exempt: bool) -> str:
    """How a line's rate is shown: ``13%``, ``0%``, or "exempt" in the reader's language."""
    return _("Exempt") if exempt else f"{percent_text(percent)}%"


def row_label(row: RateTotal, currency: str, prices_include_tax: bool) -> str:
    """The label of one rate's tax under an order's lines, in the reader's language, e.g.
    "VAT 13% on ¥26.52 (included)" or "Exempt: ¥100.00"."""
    from erp_core.money import format_money

    if row.exempt:
        return _("Exempt from tax: %(amount)s", amount=format_money(row.net, currency))
    if prices_include_tax:
        return _("VAT %(rate)s on %(amount)s (included)", rate=rate_label(row.percent, False),
                 amount=format_money(row.net, currency))
    return _("VAT %(rate)s on %(amount)s", rate=rate_label(row.percent, False), amount=format_money(row.net, currency))


def rate_name(rate: TaxRate) -> str:
    """A rate's name for display: the seeded names in the reader's language, others as typed."""
    seeded = _SEEDED_NAMES.get(rate.name)
    return str(seeded) if seeded is not None else rate.name


def prices_include_tax() -> bool:
    """The company setting ``orders.prices_include_tax`` (default: yes, as Chinese retail prices do)."""
    value = settings.get("orders.prices_include_tax", True)
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "off")
    return bool(value) if value is not None else True


def seeded_default_rate_id() -> str:
    """The id (as text) of the first active, not exempt 13 % rate, or "" when there is none: the
    default of the ``orders.default_tax_rate`` setting."""
    rate_id = db.session.scalar(select(TaxRate.id).where(TaxRate.active.is_(True), TaxRate.exempt.is_(False),
                                                         TaxRate.percent == DEFAULT_PERCENT)
                                .order_by(TaxRate.position, TaxRate.id).limit(1))
    return str(rate_id) if rate_id is not None else ""


def default_rate_id() -> int | None:
    """The id of the company's default rate (setting ``orders.default_tax_rate``), or None."""
    raw = str(settings.get("orders.default_tax_rate", "") or "").strip()
    return int(raw) if raw.isdigit() else None


def rate_by_id(rate_id: int | None) -> TaxRate | None:
    """A rate by id, from every rate read once per request (one query whatever the number of
    products serialised)."""
    if rate_id is None:
        return None
    cached = g.get("_orders_tax_rates") if has_request_context() else None
    if cached is None:
        cached = {r.id: r for r in db.session.scalars(select(TaxRate))}
        if has_request_context():
            g._orders_tax_rates = cached
    return cached.get(rate_id)


def api_rate_text(percent, exempt: bool) -> str:
    """A rate as the API gives it: ``"exempt"``, or the percent as a decimal string (``"13"``)."""
    return "exempt" if exempt else percent_text(percent)


def rates_for_products(products: Iterable[Product]) -> dict[int, TaxRate | None]:
    """``{product id: its rate}`` (its own, else the company's default, else None: no tax), in
    one query whatever the number of products."""
    products = list(products)
    wanted = {p.tax_rate_id for p in products}
    default_id = default_rate_id() if None in wanted else None
    wanted.discard(None)
    rates = _rates_by_id(wanted | {default_id} - {None})
    default = rates.get(default_id)
    if default is not None and not default.active:
        default = None  # a deactivated default no longer applies
    return {p.id: rates.get(p.tax_rate_id, default) if p.tax_rate_id is not None else default for p in products}


def _rates_by_id(ids: set[int]) -> dict[int, TaxRate]:
    if not ids:
        return {}
    return {r.id: r for r in db.session.scalars(select(TaxRate).where(TaxRate.id.in_(ids)))}


def active_rates() -> list[TaxRate]:
    """The active rates in their order (for selects)."""
    return list(db.session.scalars(select(TaxRate).where(TaxRate.active.is_(True))
                                   .order_by(TaxRate.position, TaxRate.id)))


def product_rate_choices(current_id: int | None) -> list[tuple[str, str]]:
    """Choices of a product's rate: "the default rate" (named), then the active rates and the
    product's own rate if it was deactivated since."""
    default = db.session.get(TaxRate, default_rate_id()) if default_rate_id() is not None else None
    first = (_("Default rate (%(name)s)", name=rate_name(default)) if default is not None and default.active
             else _("Default rate (no tax)"))
    rates = active_rates()
    if current_id is not None and current_id not in {r.id for r in rates}:
        current = db.session.get(TaxRate, current_id)
        if current is not None:
            rates.append(current)
    return [("", first), *((str(r.id), rate_name(r)) for r in rates)]


def product_rate(product: Product) -> tuple[TaxRate | None, bool]:
    """``(rate, is the default)`` of a product, for its page."""
    return rates_for_products([product])[product.id], product.tax_rate_id is None


def rate_choices() -> list[tuple[str, str]]:
    """``(id as text, label)`` of the active rates, after an empty choice "No tax" (for the
    default-rate setting)."""
    # Lazy labels: the settings are read while the reader's language is being found.
    return [("", _l("No tax")), *((str(r.id), _SEEDED_NAMES.get(r.name, r.name)) for r in active_rates())]


def check_default_rate(value: str) -> str | None:
    """Why ``value`` (a rate id as text, or "" for no tax) cannot be the default rate, or None."""
    value = (value or "").strip()
    if not value:
        return None
    rate = db.session.get(TaxRate, int(value)) if value.isdigit() else None
    if rate is None or not rate.active:
        return _("Choose an active tax rate.")
    return None


def find_rate(text: str | None) -> TaxRate | None:
    """The active rate a typed percent names (``"13"``, ``"13%"``, ``"6.00"``), or the exempt
    rate for ``"exempt"`` (also ``免税``); None when no active rate matches. A 0 % rate is told
    apart from the exempt one."""
    raw = str(text or "").strip().rstrip("%").strip()
    query = select(TaxRate).where(TaxRate.active.is_(True)).order_by(TaxRate.position, TaxRate.id).limit(1)
    if raw.lower() in ("exempt", "免税"):
        return db.session.scalar(query.where(TaxRate.exempt.is_(True)))
    try:
        percent = Decimal(raw)
    except InvalidOperation:
        return None
    if not percent.is_finite() or percent < 0 or percent >= 1000:
        return None
    return db.session.scalar(query.where(TaxRate.exempt.is_(False), TaxRate.percent == percent))


def seed_rates() -> list[TaxRate]:
    """Add the seeded rates (:data:`SEEDED_RATES`) when the table is empty (a database made
    without the migrations, such as the tests'); returns the rates added. Caller commits."""
    if db.session.scalar(select(TaxRate.id).limit(1)) is not None:
        return []
    rates = [TaxRate(name=name, percent=Decimal(percent), exempt=exempt, active=True, position=position)
             for position, (name, percent, exempt) in enumerate(SEEDED_RATES, start=1)]
    db.session.add_all(rates)
    db.session.flush()
    return rates
