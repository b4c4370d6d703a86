"""Supplier bills and payments: recording, checks, states open / partly paid / paid,
overpayment refused (also by two payments at once, on SQLite and PostgreSQL), history in words,
and the payables buckets."""

from datetime import timedelta

import pytest

from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db
from plugins.purchasing import services
from plugins.purchasing.models import BillPayment, SupplierBill
from tests.purchasing.common import PLUGINS, make_po, setup_data
from tests.purchasing.test_concurrency import _in_threads


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS)


@pytest.fixture
def po(app):
    with app.test_request_context():
        data = setup_data()
        return make_po(data).id


def _po(po_id):
    return services.get_po(po_id)


def test_record_a_bill_and_pay_it_in_parts(app, po):
    with app.test_request_context():
        today = services.company_today()
        bill = services.record_bill(_po(po), " INV-001 ", "100.50", today, today + timedelta(days=30))
        db.session.commit()
        assert (bill.number, bill.amount_minor, bill.paid_minor, bill.status, bill.currency) == (
            "INV-001", 10050, 0, "open", "CNY")
        services.pay_bill(bill, "50", today, "bank_transfer", "TX-1")
        assert (bill.paid_minor, bill.owed_minor, bill.status) == (5000, 5050, "partly_paid")
        services.pay_bill(bill, "50.50", None, "cash")
        db.session.commit()
        assert (bill.paid_minor, bill.owed_minor, bill.status) == (10050, 0, "paid")
        assert [p.amount_minor for p in services.payments_of([bill.id])[bill.id]] == [5000, 5050]


def test_overpayment_is_refused_with_nothing_changed(app, po):
    with app.test_request_context():
        bill = services.record_bill(_po(po), "INV-2", "10", None, None)
        services.pay_bill(bill, "4", None, "alipay")
        db.session.commit()
        with pytest.raises(Conflict) as refused:
            services.pay_bill(bill, "6.01", None, "alipay")
        assert "6.00" in str(refused.value) and "INV-2" in str(refused.value)
        db.session.rollback()
        bill = db.session.get(SupplierBill, bill.id)
        assert (bill.paid_minor, bill.status) == (400, "partly_paid")
        assert db.session.query(BillPayment).count() == 1


@pytest.mark.parametrize("kwargs,field", [
    ({"number": "", "amount": "1"}, "number"),
    ({"number": "A", "amount": "0"}, "amount"),
    ({"number": "A", "amount": "-3"}, "amount"),
    ({"number": "A", "amount": "abc"}, "amount"),
    ({"number": "A", "amount": "1.234"}, "amount"),
    ({"number": "A", "amount": "1", "bill_date": "2026-13-40"}, "bill_date"),
    ({"number": "A", "amount": "1", "bill_date": "2026-05-10", "due_date": "2026-05-01"}, "due_date"),
    ({"number": "x" * 65, "amount": "1"}, "number"),
    ({"number": "A\x00", "amount": "1"}, "number"),
])
def test_bad_bills_are_refused_by_field(app, po, kwargs, field):
    with app.test_request_context():
        with pytest.raises(DomainError) as refused:
            services.record_bill(_po(po), **kwargs)
        assert refused.value.field == field
        db.session.rollback()
        assert db.session.query(SupplierBill).count() == 0


def test_bad_payments_and_duplicate_numbers_are_refused(app, po):
    with app.test_request_context():
        bill = services.record_bill(_po(po), "INV-3", "10")
        db.session.commit()
        with pytest.raises(Conflict):
            services.record_bill(_po(po), "INV-3", "5")
        for amount, method, field in (("0", "cash", "amount"), ("x", "cash", "amount"), ("1", "barter", "method")):
            with pytest.raises(DomainError) as refused:
                services.pay_bill(bill, amount, None, method)
            assert refused.value.field == field
        with pytest.raises(DomainError):
            services.pay_bill(bill, "1", "someday", "cash")
        db.session.rollback()
        assert db.session.get(SupplierBill, bill.id).paid_minor == 0


def test_no_bill_on_a_draft_or_cancelled_order(app):
    with app.test_request_context():
        data = setup_data()
        draft = make_po(data, send=False)
        with pytest.raises(Conflict):
            services.record_bill(draft, "INV-D", "1")
        services.cancel_po(draft, "not needed")
        with pytest.raises(Conflict):
            services.record_bill(draft, "INV-D", "1")


def test_buckets_and_totals(app, po):
    with app.test_request_context():
        today = services.company_today()
        p = _po(po)
        for number, due in (("O1", -3), ("S1", 0), ("S2", 7), ("L1", 8)):
            services.record_bill(p, number, "10", today - timedelta(days=10), today + timedelta(days=due))
        paid = services.record_bill(p, "P1", "10", today - timedelta(days=10), today - timedelta(days=1))
        services.pay_bill(paid, "10", None, "cash")
        db.session.commit()
        assert [services.bucket_of(today + timedelta(days=d), today) for d in (-1, 0, 7, 8)] == [
            "overdue", "due_soon", "due_soon", "later"]
        assert services.payables_totals(today) == {"CNY": {"overdue": 1000, "due_soon": 2000, "later": 1000}}
        numbers = [b.number for b in db.session.scalars(services.payables_query(today))]
        assert numbers == ["O1", "S1", "S2", "L1"]
        assert [b.number for b in db.session.scalars(services.payables_query(today, bucket="due_soon"))] == ["S1", "S2"]
        assert [b.number for b in db.session.scalars(services.payables_query(today, bucket="due"))] == ["O1", "S1", "S2"]
        assert list(db.session.scalars(services.payables_query(today, supplier_id=p.supplier_id + 99))) == []
        assert services.csv_text("=HYPERLINK(1)") == "'=HYPERLINK(1)"


def test_two_payments_at_once_cannot_overpay(app, po):
    with app.test_request_context():
        bill_id = services.record_bill(_po(po), "INV-C", "10").id
        db.session.commit()

    def pay(_i):
        return services.pay_bill(db.session.get(SupplierBill, bill_id), "3", None, "bank_transfer").id

    results = _in_threads(app, 8, pay)
    done = [r for r in results.values() if isinstance(r, int)]
    refused = [r for r in results.values() if isinstance(r, Conflict)]
    assert len(done) == 3 and len(refused) == 5, results
    with app.app_context():
        bill = db.session.get(SupplierBill, bill_id)
        assert (bill.paid_minor, bill.status) == (900, "partly_paid")
        assert db.session.query(BillPayment).filter_by(bill_id=bill_id).count() == 3
