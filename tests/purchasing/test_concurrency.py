"""Under concurrency, on SQLite and PostgreSQL: purchase order numbers stay unique and gap-free,
and simultaneous receipts of the same line never receive more than was meant."""

import re
import threading

import pytest

from erp_core.extensions import db
from plugins.purchasing import services
from plugins.purchasing.models import PurchaseOrder, PurchaseOrderLine
from tests.purchasing.common import PLUGINS, make_po, on_hand, setup_data

THREADS = 8


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS)


def _in_threads(app, count, work):
    barrier = threading.Barrier(count)
    results: dict[int, object] = {}

    def worker(i):
        with app.test_request_context(method="POST"):  # a writing request: BEGIN IMMEDIATE on SQLite
            barrier.wait()
            try:
                results[i] = work(i)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - the assertions name it
                db.session.rollback()
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    return results


def test_concurrent_purchase_orders_get_distinct_consecutive_numbers(app):
    with app.test_request_context():
        data = setup_data()

    def create(_i):
        supplier = services.get_supplier(data["supplier"])
        return services.create_po(supplier, data["warehouse"], [services.LineInput("P-001", "1")]).number

    results = _in_threads(app, THREADS, create)
    assert all(isinstance(n, str) for n in results.values()), results
    numbers = sorted(results.values())
    assert [int(re.fullmatch(r"PO-\d{4}-(\d{6})", n).group(1)) for n in numbers] == list(range(1, THREADS + 1))
    with app.app_context():
        assert db.session.query(PurchaseOrder).count() == THREADS


def test_concurrent_receipts_of_one_line_never_receive_more_than_ordered(app):
    with app.test_request_context():
        data = setup_data()
        po = make_po(data, quantities=(10,))
        po_id, line_id, product_id = po.id, po.lines[0].id, po.lines[0].product_id

    def receive(_i):
        return services.receive(db.session.get(PurchaseOrder, po_id), {line_id: 3}).number

    results = _in_threads(app, THREADS, receive)
    done = [r for r in results.values() if isinstance(r, str)]
    refused = [r for r in results.values() if isinstance(r, services.OverReceipt)]
    assert len(done) == 3 and len(refused) == THREADS - 3, results
    with app.app_context():
        assert db.session.get(PurchaseOrderLine, line_id).received == 9
        assert on_hand(product_id, data["warehouse"]) == 9


def test_the_same_confirmed_over_receipt_sent_twice_at_once_is_applied_once(app):
    with app.test_request_context():
        data = setup_data()
        po = make_po(data, quantities=(10,))
        po_id, line_id, product_id = po.id, po.lines[0].id, po.lines[0].product_id

    def receive(_i):
        return services.receive(db.session.get(PurchaseOrder, po_id), {line_id: 12}, confirm_over=True,
                                seen={line_id: 0}).number

    results = _in_threads(app, 4, receive)
    assert len([r for r in results.values() if isinstance(r, str)]) == 1, results
    with app.app_context():
        assert db.session.get(PurchaseOrderLine, line_id).received == 12
        assert on_hand(product_id, data["warehouse"]) == 12
