"""Invoices and credit notes: numbering without gaps (also under concurrent issue), snapshots,
credit notes split by rate to the cent, fapiao records."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from erp_core import settings
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.models import AuditLog
from plugins.finance import services
from plugins.finance.models import Invoice
from plugins.finance.services import invoices as inv
from plugins.finance.services.invoices import RateShare, split_by_rate
from plugins.finance.testing import make_paid_order
from tests.finance.conftest import make_order
from tests.finance.test_refunds import _race

SELLER = {"company.legal_name": "茗香茶具商行有限公司", "company.address": "上海市黄浦区南京东路 1 号",
          "company.phone": "021-12345678", "finance.invoice.taxpayer_id": "91310000MA1FL8XQ37",
          "finance.invoice.bank": "招商银行上海分行", "finance.invoice.account": "6225 8888 0000 1234"}


def with_seller(app):
    with app.app_context():
        settings.set_many(SELLER)
        db.session.commit()
    return app


@pytest.fixture
def inv_app(fin_app):
    return with_seller(fin_app)


def test_an_invoice_is_a_snapshot_of_the_order_and_the_company(inv_app):
    with inv_app.test_request_context(method="POST"):
        order = make_order(("9.99", 3, "0"), ("50", 2, "10"))
        invoice = inv.issue_invoice(order)
        db.session.commit()
        year = invoice.issued_at.year
        assert invoice.number in (f"INV-{year}-000001", f"INV-{year + 1}-000001")
        assert invoice.gross_minor == order.total_minor and invoice.tax_minor == order.tax_minor
        assert invoice.net_minor + invoice.tax_minor == invoice.gross_minor
        assert [(x.sku, x.quantity, x.unit_price_minor, x.gross_minor) for x in invoice.lines] == [
            (line.sku, line.quantity, line.unit_price_minor, line.gross_minor) for line in order.lines]
        assert invoice.seller["name"] == "茗香茶具商行有限公司"
        assert invoice.seller["taxpayer_id"] == "91310000MA1FL8XQ37"
        assert invoice.buyer_name == order.customer.name
        # Later changes of the company leave the invoice as it was issued.
        settings.set_many({"company.legal_name": "Another name"})
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(Invoice, invoice.id).seller["name"] == "茗香茶具商行有限公司"
        entry = db.session.query(AuditLog).filter_by(object_type="invoice").one()
        assert entry.action == "issued" and entry.after["number"] == invoice.number


def test_numbers_run_on_without_gaps_and_a_failed_issue_gives_its_number_back(inv_app):
    with inv_app.test_request_context(method="POST"):
        first = inv.issue_invoice(make_order(("10", 1, "0")))
        db.session.commit()
        draft = make_order(("10", 1, "0"), confirm=False)
        with pytest.raises(DomainError, match="confirmed"):
            inv.issue_invoice(draft)
        db.session.rollback()
        second = inv.issue_invoice(make_order(("10", 1, "0")))
        db.session.commit()
        assert int(second.number[-6:]) == int(first.number[-6:]) + 1


@pytest.mark.parametrize("problem", ["draft", "cancelled", "twice", "seller"])
def test_refused_issues_change_nothing(fin_app, problem):
    app = fin_app if problem == "seller" else with_seller(fin_app)
    with app.test_request_context(method="POST"):
        order = make_order(("10", 1, "0"), confirm=problem != "draft")
        if problem == "cancelled":
            from plugins.orders.public import transition

            transition(order, "cancelled", note="test")
            db.session.commit()
        if problem == "twice":
            inv.issue_invoice(order)
            db.session.commit()
        before = db.session.query(Invoice).count()
        with pytest.raises(DomainError) as caught:
            inv.issue_invoice(order)
        db.session.rollback()
        assert db.session.query(Invoice).count() == before
        if problem == "seller":
            assert "Taxpayer ID" in str(caught.value)


def test_twenty_simultaneous_issues_get_consecutive_numbers(inv_app):
    with inv_app.test_request_context(method="POST"):
        ids = [make_order(("12.34", 1, "0")).id for _ in range(20)]

    def issue(i):
        from plugins.orders.public import Order

        return inv.issue_invoice(db.session.get(Order, ids[i])).number

    outcomes = _race(inv_app, 20, issue)
    assert all(isinstance(o, str) for o in outcomes), outcomes
    serials = sorted(int(n[-6:]) for n in outcomes)
    assert serials == list(range(1, 21))


def test_one_order_issued_twenty_times_at_once_gets_one_invoice(inv_app):
    with inv_app.test_request_context(method="POST"):
        order_id = make_order(("12.34", 1, "0")).id

    def issue(_i):
        from plugins.orders.public import Order

        return inv.issue_invoice(db.session.get(Order, order_id)).number

    outcomes = _race(inv_app, 20, issue)
    issued = [o for o in outcomes if isinstance(o, str)]
    assert len(issued) == 1, outcomes
    assert all(isinstance(o, DomainError) for o in outcomes if not isinstance(o, str))
    with inv_app.app_context():
        assert db.session.query(Invoice).count() == 1
        # The refused issues gave their numbers back: the next one follows on.
        from plugins.orders.public import Order

        with inv_app.test_request_context(method="POST"):
            nxt = inv.issue_invoice(make_order(("1", 1, "0")))
            db.session.commit()
            assert nxt.number.endswith("000002")
        assert db.session.get(Order, order_id) is not None


def _share(percent, gross, tax, exempt=False):
    return RateShare(Decimal(percent), exempt, gross - tax, tax, gross)


def test_a_credit_is_split_by_rate_in_proportion_to_the_cent():
    shares = [_share("13", 11300, 1300), _share("9", 10900, 900), _share("0", 5000, 0, exempt=True)]
    parts = split_by_rate(10000, shares)
    assert sum(p.gross for p in parts) == 10000
    # 4154.41 + 4007.35 + 1838.23: the left-over cent goes to the largest remainder (13 %)
    assert [p.gross for p in parts] == [4155, 4007, 1838]
    assert [p.tax for p in parts] == [478, 331, 0]  # the rate's own share of tax, half-up; exempt: none
    assert all(p.net + p.tax == p.gross for p in parts)
    assert split_by_rate(0, shares) == [] and split_by_rate(5, []) == []
    assert sum(p.gross for p in split_by_rate(10 ** 9, shares)) == 27200  # never more than invoiced


@given(amount=st.integers(1, 10 ** 7),
       grosses=st.lists(st.tuples(st.sampled_from(["13", "9", "6", "3", "1", "0"]), st.integers(1, 10 ** 6)),
                        min_size=1, max_size=6, unique_by=lambda t: t[0]))
@hsettings(max_examples=200, deadline=None)
def test_split_by_rate_always_adds_up(amount, grosses):
    shares = [_share(p, g, round(g * int(p) / (100 + int(p)))) for p, g in grosses]
    parts = split_by_rate(amount, shares)
    total = sum(s.gross for s in shares)
    assert sum(p.gross for p in parts) == min(amount, total)
    assert all(p.net + p.tax == p.gross and 0 <= p.tax <= p.gross for p in parts)


def test_a_refund_issues_a_credit_note_against_the_invoice(inv_app):
    with inv_app.test_request_context(method="POST"):
        order, payment = make_paid_order()
        invoice = inv.issue_invoice(order)
        db.session.commit()
        refund = services.request_refund(payment, "30", "Scratched box")
        assert services.approve_refund(refund) is True
        db.session.commit()
        notes = inv.credit_notes_of(invoice)
        assert len(notes) == 1
        note = notes[0]
        assert note.number.startswith("CN-") and note.number.endswith("000001")
        assert note.invoice_id == invoice.id and note.refund_id == refund.id
        assert note.gross_minor == 3000 and note.net_minor + note.tax_minor == 3000
        assert db.session.get(Invoice, invoice.id).credited_minor == 3000
        assert inv.invoice_status(invoice) == "partly_credited"
        # Asking again for the same refund issues nothing more.
        assert inv.credit_refund(refund) == []
        rest = services.request_refund(payment, "70", "Everything back")
        services.approve_refund(rest)
        db.session.commit()
        assert inv.invoice_status(db.session.get(Invoice, invoice.id)) == "credited"
        assert sum(n.gross_minor for n in inv.credit_notes_of(invoice)) == invoice.gross_minor


def test_a_refund_of_an_order_without_invoice_issues_no_credit_note(inv_app):
    with inv_app.test_request_context(method="POST"):
        _order, payment = make_paid_order()
        refund = services.request_refund(payment, "30", "Scratched box")
        services.approve_refund(refund)
        db.session.commit()
        assert db.session.query(Invoice).count() == 0
        pending = services.request_refund(payment, "10", "later")
        with pytest.raises(DomainError, match="paid out"):
            inv.credit_refund(pending)


def test_a_fapiao_is_recorded_once_with_checked_values(inv_app):
    with inv_app.test_request_context(method="POST"):
        invoice = inv.issue_invoice(make_order(("10", 1, "0")), "special")
        db.session.commit()
        assert inv.fapiao_wanted(invoice)
        today = date.today() + timedelta(days=1)
        for code, number, day, field in (("", "12ab", today, "number"), ("123", "12345678", today, "code"),
                                         ("", "12345678", date(2000, 1, 1), "issued_on")):
            with pytest.raises(DomainError) as caught:
                inv.record_fapiao(invoice, code, number, day)
            assert caught.value.field == field
            db.session.rollback()
        inv.record_fapiao(invoice, "3100231130", "04567890", today)
        db.session.commit()
        assert not inv.fapiao_wanted(invoice) and invoice.fapiao_adapter == "manual"
        with pytest.raises(DomainError, match="already"):
            inv.record_fapiao(invoice, "", "99999999", today)


def test_hook_erp_fapiao_adapters(make_app):
    """A plugin's e-fapiao adapter is offered beside the manual one and records the fapiao it issued."""
    from plugins.finance.fapiao import adapter_label, fapiao_adapters
    from tests.finance import spy_plugin as spy

    app = with_seller(make_app(plugins=["orders", "finance", "finspy=tests.finance.spy_plugin"]))
    spy.reset()
    with app.test_request_context(method="POST"):
        adapters = fapiao_adapters()
        assert set(adapters) == {"manual", "efapiao_spy"} and adapters["manual"].manual
        invoice = inv.issue_invoice(make_order(("10", 1, "0")), "ordinary")
        adapters["efapiao_spy"].issue(invoice, date.today())
        db.session.commit()
        assert spy.CALLS == [("fapiao", invoice.number)]
        assert (invoice.fapiao_number, invoice.fapiao_adapter) == ("87654321", "efapiao_spy")
        assert adapter_label("efapiao_spy") == "E-fapiao Spy" and not inv.fapiao_wanted(invoice)


@pytest.mark.parametrize("value, ok", [("91310000MA1FL8XQ37", True), ("", True), ("91310000MA1FL8XQ3", False),
                                       ("91310000MA1FL8XQ3I", False), ("91310000MA1FL8XQ38", False),
                                       ("<script>alert(1)</scr", False)])
def test_the_seller_taxpayer_id_setting_is_checked(inv_app, value, ok):
    with inv_app.test_request_context():
        assert (inv.check_taxpayer_id(value) is None) is ok


def test_demo_invoices_some_orders_and_credits_one_refund(fin_app):
    import random

    from erp_core.contrib import DemoContext
    from plugins.finance import demo

    with fin_app.test_request_context(method="POST"):
        orders = [make_order((f"{10 + i}", 1 + i % 3, "0")) for i in range(30)]
        ctx = DemoContext(rng=random.Random(5), data={"orders": orders}, log=lambda _text: None)
        demo.load(ctx)
        db.session.commit()
        invoices = db.session.query(Invoice).filter_by(kind="invoice").all()
        notes = db.session.query(Invoice).filter_by(kind="credit_note").all()
        assert len(invoices) == ctx.data["finance_invoices"] >= 1 and notes
        assert all(n.invoice.credited_minor >= n.gross_minor for n in notes)
        assert {i.seller["name"] for i in invoices} == {demo.DEMO_SELLER["company.legal_name"]}


def test_the_buyer_is_the_orders_invoicing_details_and_they_lock_once_invoiced(inv_app):
    from erp_core.errors import Conflict
    from plugins.orders.services.invoicing import set_order_invoicing

    buyer = {"title": "北京云杉科技有限公司", "taxpayer_id": "91110108MA01ABCD4", "address": "北京市海淀区中关村 1 号",
             "phone": "010-88886666", "bank": "工商银行北京中关村支行", "account": "0200 0045 0901 2345 678",
             "invoice_type": "special"}
    from plugins.orders.taxpayer_id import check_character

    buyer["taxpayer_id"] += check_character(buyer["taxpayer_id"])  # a valid code: its check character added
    with inv_app.test_request_context(method="POST"):
        order = make_order(("100", 1, "0"))
        set_order_invoicing(order, buyer)
        db.session.commit()
        invoice = inv.issue_invoice(order)
        db.session.commit()
        assert invoice.buyer_name == "北京云杉科技有限公司" and invoice.invoice_type == "special"
        assert invoice.buyer["taxpayer_id"] == buyer["taxpayer_id"] and invoice.buyer["bank"] == buyer["bank"]
        assert inv.fapiao_wanted(invoice)
        with pytest.raises(Conflict, match=invoice.number):
            set_order_invoicing(order, {**buyer, "title": "Changed"})
