"""Quotation rules: numbering, amounts by the one tax rule, the state table, acceptance into an
order at the quoted prices, declining, expiry, the link token, refusals changing nothing."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db
from erp_core.mail.models import MailMessage
from plugins.orders.public import Order, Product, TaxRate, line_amounts
from plugins.quotations import services, states
from plugins.quotations.models import Quotation
from tests.quotations.common import PLUGINS, make_quotation, quote_input, setup_data


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS)


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield setup_data()


def test_a_quotation_is_numbered_and_priced_by_the_tax_rule(ctx):
    quotation = make_quotation(ctx, send=False)
    assert quotation.number.startswith("QUO-") and quotation.number.endswith("-000001")
    assert quotation.status == states.DRAFT and quotation.contact_name == "Wang Customer"
    first = quotation.lines[0]
    expected = line_amounts(3, 950, "10", first.tax_rate_percent, True)
    assert (first.unit_price_minor, first.gross_minor, first.tax_minor) == (950, expected.gross, expected.tax)
    assert quotation.lines[1].unit_price_minor == 2550
    assert quotation.total_minor == expected.gross + 5100
    assert quotation.valid_until == services.default_valid_until()
    assert make_quotation(ctx, send=False).number.endswith("-000002")


@pytest.mark.parametrize("extra, field", [
    ({"customer_id": ""}, "customer_id"), ({"customer_id": "999"}, "customer_id"),
    ({"lines": []}, "lines"), ({"valid_until": "2000-01-01"}, "valid_until"), ({"valid_until": "soon"}, "valid_until"),
    ({"currency": "XXQ"}, "currency"), ({"ship_line1": ""}, "ship_line1"),
    ({"lines": [services.LineInput("NOPE", "1")]}, "lines-0-product"),
    ({"lines": [services.LineInput("P-001", "0")]}, "lines-0-quantity"),
    ({"lines": [services.LineInput("P-001", "1", "-3")]}, "lines-0-unit_price"),
    ({"lines": [services.LineInput("P-001", "1", "", "120")]}, "lines-0-discount"),
    ({"notes": "a\x00b"}, "notes"),
])
def test_bad_input_is_refused_with_its_field_and_nothing_saved(ctx, extra, field):
    with pytest.raises(DomainError) as caught:
        services.create_quotation(quote_input(ctx, **extra))
    assert caught.value.field == field
    db.session.rollback()
    assert db.session.query(Quotation).count() == 0


def test_only_drafts_change(ctx):
    quotation = make_quotation(ctx, send=False)
    services.update_draft(quotation, quote_input(ctx, lines=[services.LineInput("P-002", "1")]))
    db.session.commit()
    assert [line.sku for line in quotation.lines] == ["P-002"] and quotation.total_minor == 2550
    services.send_quotation(quotation)
    db.session.commit()
    with pytest.raises(Conflict):
        services.update_draft(quotation, quote_input(ctx))


def test_sending_mails_the_link_in_the_customers_language(ctx):
    from plugins.orders.public import Customer

    db.session.get(Customer, ctx["customer"]).language = "zh_CN"
    quotation = make_quotation(ctx)
    assert quotation.status == states.SENT and quotation.sent_at is not None and quotation.nonce
    mail = db.session.query(MailMessage).one()
    assert mail.recipients == ["wang@example.com"] and mail.language == "zh_CN"
    assert services.token_of(quotation) in mail.body_text and "报价单" in mail.subject
    assert services.token_of(quotation) not in str(quotation.nonce)


def test_the_token_finds_only_its_quotation(ctx):
    quotation = make_quotation(ctx)
    token = services.token_of(quotation)
    assert services.find_by_token(quotation.id, token) is quotation
    assert services.find_by_token(quotation.id, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert services.find_by_token(quotation.id, "") is None
    assert services.find_by_token(quotation.id + 1, token) is None
    draft = make_quotation(ctx, send=False)
    assert services.token_of(draft) is None


def test_accepting_makes_an_order_at_the_quoted_prices_even_after_a_price_change(ctx):
    quotation = make_quotation(ctx)
    db.session.get(Product, ctx["products"][1]).price_minor = 9999
    order = services.accept(quotation, by_customer=True)
    db.session.commit()
    assert quotation.status == states.ACCEPTED and quotation.order_id == order.id and quotation.decided_at
    order = db.session.get(Order, order.id)
    assert [(line.sku, line.quantity, line.unit_price_minor, line.gross_minor) for line in order.lines] == \
        [(line.sku, line.quantity, line.unit_price_minor, line.gross_minor) for line in quotation.lines]
    assert order.total_minor == quotation.total_minor and order.customer_id == ctx["customer"]
    with pytest.raises(Conflict):
        services.accept(quotation)


def test_an_expired_quotation_cannot_be_accepted_and_the_job_expires_it(ctx):
    quotation = make_quotation(ctx)
    quotation.valid_until = date.today() - timedelta(days=2)
    db.session.commit()
    with pytest.raises(Conflict):
        services.accept(quotation)
    db.session.rollback()
    fresh = make_quotation(ctx)
    assert services.expire_due() == 1
    db.session.commit()
    assert quotation.status == states.EXPIRED and fresh.status == states.SENT
    services.send_quotation(quotation, mail=False)
    assert quotation.status == states.SENT and quotation.valid_until >= date.today()


def test_decline_and_cancel(ctx):
    quotation = make_quotation(ctx)
    services.decline(quotation, "Too dear", by_customer=True)
    db.session.commit()
    assert quotation.status == states.DECLINED and quotation.decline_reason == "Too dear"
    with pytest.raises(Conflict):
        services.accept(quotation)
    db.session.rollback()
    other = make_quotation(ctx, send=False)
    with pytest.raises(DomainError):
        services.cancel(other, "  ")
    services.cancel(other, "Customer went elsewhere")
    assert other.status == states.CANCELLED


def test_the_state_table_is_the_only_way():
    for current in states.STATUSES:
        for target in states.STATUSES:
            assert states.can_move(current, target) == (target in states.ALLOWED[current])
    assert not states.ALLOWED[states.ACCEPTED]


def test_report_counts_months_and_conversion(ctx):
    accepted = make_quotation(ctx)
    services.accept(accepted)
    declined = make_quotation(ctx)
    services.decline(declined)
    make_quotation(ctx, send=False)
    db.session.commit()
    (row,) = services.conversion_report()
    assert (row.sent, row.accepted, row.declined, row.expired) == (2, 1, 1, 0)
    assert str(row.rate) == "50.0" and row.accepted_value == accepted.total_minor
    text = services.report_csv([row], ["m", "c", "s", "a", "d", "e", "r", "sv", "av"])
    assert text.splitlines()[1].startswith(f"{row.month},CNY,2,1,1,0,50.0,")


def test_the_services_package_is_layered():
    from tests.helpers import assert_layered_package

    assert_layered_package(services, ["quotations", "decisions", "report"])


def test_accepting_keeps_the_quoted_tax_rate_after_the_products_rate_changed(ctx):
    quotation = make_quotation(ctx)
    quoted = [(line.tax_rate_percent, line.tax_exempt) for line in quotation.lines]
    higher = TaxRate(name="Raised", percent=Decimal("21"), exempt=False)
    db.session.add(higher)
    db.session.flush()
    for product_id in ctx["products"]:
        db.session.get(Product, product_id).tax_rate_id = higher.id
    db.session.commit()
    assert all(percent != Decimal("21") for percent, _exempt in quoted)
    order = services.accept(quotation)
    db.session.commit()
    order = db.session.get(Order, order.id)
    assert [(line.tax_rate_percent, line.tax_exempt) for line in order.lines] == quoted
    assert [(line.tax_minor, line.gross_minor) for line in order.lines] == \
        [(line.tax_minor, line.gross_minor) for line in quotation.lines]
    assert (order.tax_minor, order.total_minor) == (quotation.tax_minor, quotation.total_minor)
