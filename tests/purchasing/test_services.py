"""Purchasing rules: suppliers and terms, purchase order numbering and states, receiving in
parts into stock, over-receipt, closing, replenishment suggestions and the CSV import."""

import re

import pytest
from sqlalchemy import update

from erp_core.audit import timeline
from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db
from plugins.inventory import services as inv
from plugins.inventory.models import Document
from plugins.purchasing import services, states
from plugins.purchasing.models import PurchaseOrder, SupplierProduct
from tests.purchasing.common import PLUGINS, make_po, on_hand, setup_data


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS)


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield setup_data()


def test_supplier_is_checked_and_codes_are_unique(ctx):
    with pytest.raises(DomainError) as exc:
        services.save_supplier(None, services.SupplierInput(code="X", name="X", email="not-an-address"))
    assert exc.value.field == "email"
    with pytest.raises(DomainError) as exc:
        services.save_supplier(None, services.SupplierInput(code="X", name=""))
    assert exc.value.field == "name"
    with pytest.raises(DomainError) as exc:
        services.save_supplier(None, services.SupplierInput(code="X", name="X", currency="XYZ"))
    assert exc.value.field == "currency"
    with pytest.raises(Conflict) as exc:
        services.save_supplier(None, services.SupplierInput(code="ACME", name="Other"))
    assert exc.value.field == "code"
    db.session.rollback()
    supplier = services.get_supplier(ctx["supplier"])
    assert supplier.code == "ACME" and supplier.currency == "CNY"
    services.save_supplier(supplier, services.SupplierInput(code="ACME", name="Acme Ltd", phone="021 1234"))
    db.session.commit()
    actions = [e.action for e in timeline("supplier", supplier.id)]
    assert actions[0] == "created" and actions[-1] == "changed"


def test_terms_preferred_is_one_per_product_and_values_are_checked(ctx):
    other = services.save_supplier(None, services.SupplierInput(code="B", name="Beta"))
    product = services.find_product("p-001")
    services.set_terms(other, product, price_raw="3.20", preferred=True)
    db.session.commit()
    rows = db.session.query(SupplierProduct).filter_by(product_id=product.id).all()
    assert {r.supplier_id: r.preferred for r in rows} == {ctx["supplier"]: False, other.id: True}
    assert services.terms_of_products([product.id])[product.id][0].supplier_id == other.id
    for field, kwargs in [("price", {"price_raw": "-1"}), ("price", {"price_raw": "1.234"}),
                          ("pack_size", {"pack_size": "0"}), ("min_quantity", {"min_quantity": "abc"}),
                          ("lead_time_days", {"lead_time_days": "-3"})]:
        with pytest.raises(DomainError) as exc:
            services.set_terms(other, product, **kwargs)
        assert exc.value.field == field
        db.session.rollback()
    with pytest.raises(DomainError) as exc:
        services.find_product("NOPE")
    assert exc.value.field == "sku"


def test_purchase_order_number_lines_and_default_price(ctx):
    po = make_po(ctx, send=False)
    assert re.fullmatch(r"PO-\d{4}-000001", po.number)
    assert po.status == states.DRAFT
    assert [line.unit_price_minor for line in po.lines] == [450, 450]
    assert po.total_minor == 450 * 15
    second = make_po(ctx, send=False)
    assert second.number.endswith("000002")
    with pytest.raises(DomainError) as exc:
        services.create_po(po.supplier, ctx["warehouse"], [services.LineInput("P-001", "0")])
    assert exc.value.field == "lines-0-quantity"
    with pytest.raises(DomainError) as exc:
        services.create_po(po.supplier, ctx["warehouse"], [services.LineInput("", "")])
    assert exc.value.field == "lines"
    with pytest.raises(DomainError) as exc:
        services.create_po(po.supplier, ctx["warehouse"], [services.LineInput("P-001", "1", "1.5", "2026-13-01")])
    assert exc.value.field == "lines-0-expected_date"


def test_draft_changes_only_while_draft(ctx):
    po = make_po(ctx, send=False)
    services.update_draft(po, ctx["warehouse"], [services.LineInput("P-003", "7", "2.00")], "call first")
    db.session.commit()
    assert [(line.quantity, line.unit_price_minor) for line in po.lines] == [(7, 200)]
    services.send_po(po, "zh_CN")
    db.session.commit()
    assert po.status == states.SENT and po.sent_at is not None
    with pytest.raises(Conflict):
        services.update_draft(po, ctx["warehouse"], [services.LineInput("P-003", "8")])


def test_a_draft_sent_meanwhile_is_not_rewritten_by_a_stale_edit(ctx):
    po = make_po(ctx, send=False)
    # another request sends it after this one loaded the draft (its copy still says "draft")
    db.session.execute(update(PurchaseOrder).where(PurchaseOrder.id == po.id).values(status=states.SENT)
                       .execution_options(synchronize_session=False))
    assert po.status == states.DRAFT
    with pytest.raises(Conflict):
        services.update_draft(po, ctx["warehouse"], [services.LineInput("P-003", "8")])
    db.session.rollback()
    assert [line.quantity for line in db.session.get(PurchaseOrder, po.id).lines] == [10, 5]


def test_a_suppliers_currency_is_fixed_once_it_has_prices_or_orders(ctx):
    supplier = services.get_supplier(ctx["supplier"])
    data = services.SupplierInput(code="ACME", name="Acme Supplies", currency="JPY")
    with pytest.raises(Conflict) as exc:
        services.save_supplier(supplier, data)  # its product prices are in CNY
    assert exc.value.field == "currency"
    db.session.rollback()
    fresh = services.save_supplier(None, services.SupplierInput(code="NEW", name="New Co", currency="CNY"))
    assert services.save_supplier(fresh, services.SupplierInput(code="NEW", name="New Co", currency="JPY")).currency == "JPY"


def test_receive_in_parts_puts_goods_on_hand_and_moves_the_state(ctx):
    po = make_po(ctx)
    first, second = po.lines
    doc = services.receive(po, {first.id: 4})
    db.session.commit()
    assert po.status == states.PARTIALLY_RECEIVED
    assert first.received == 4
    assert on_hand(first.product_id, ctx["warehouse"]) == 4
    assert db.session.get(Document, doc.id).note == po.number
    assert services.on_order_by_product([first.product_id])[first.product_id] == 6
    _receive_the_rest(ctx, po, first, second)


def _receive_the_rest(ctx, po, first, second):
    services.receive(po, {first.id: 6, second.id: "5"})
    db.session.commit()
    assert po.status == states.RECEIVED and po.closed_at is not None
    assert on_hand(second.product_id, ctx["warehouse"]) == 5
    assert services.on_order_by_product([first.product_id]) == {}
    with pytest.raises(Conflict):
        services.receive(po, {first.id: 1})
    labels = [e.action for e in timeline("purchase_order", po.id)]
    assert labels.count("received") == 2 and "status_changed" in labels


def test_receiving_is_refused_on_a_draft_and_bad_quantities(ctx):
    po = make_po(ctx, send=False)
    with pytest.raises(Conflict):
        services.receive(po, {po.lines[0].id: 1})
    db.session.rollback()
    services.send_po(po, "en")
    db.session.commit()
    for quantities in ({po.lines[0].id: "-1"}, {po.lines[0].id: "x"}, {}, {po.lines[0].id: "0"}, {999999: 1}):
        with pytest.raises(DomainError):
            services.receive(po, quantities)
        db.session.rollback()
    assert on_hand(po.lines[0].product_id, ctx["warehouse"]) == 0


def test_over_receipt_needs_confirmation_and_is_applied_once(ctx):
    po = make_po(ctx, quantities=(10,))
    line = po.lines[0]
    with pytest.raises(services.OverReceipt) as exc:
        services.receive(po, {line.id: 12})
    assert "P-001" in str(exc.value) and "12" in str(exc.value)
    db.session.rollback()
    assert on_hand(line.product_id, ctx["warehouse"]) == 0
    services.receive(po, {line.id: 12}, confirm_over=True, seen={line.id: 0})
    db.session.commit()
    assert line.received == 12 and po.status == states.RECEIVED
    assert on_hand(line.product_id, ctx["warehouse"]) == 12


def test_a_stale_view_of_the_line_is_refused(ctx):
    po = make_po(ctx, quantities=(10,))
    line = po.lines[0]
    services.receive(po, {line.id: 3})
    db.session.commit()
    with pytest.raises(Conflict):
        services.receive(po, {line.id: 3}, seen={line.id: 0})
    db.session.rollback()
    assert line.received == 3 and on_hand(line.product_id, ctx["warehouse"]) == 3


def test_close_the_rest_and_cancel_need_a_reason(ctx):
    po = make_po(ctx)
    with pytest.raises(Conflict):
        services.close_po(po, "supplier out of stock")  # nothing received yet: cancel instead
    db.session.rollback()
    services.receive(po, {po.lines[0].id: 2})
    db.session.commit()
    with pytest.raises(DomainError) as exc:
        services.close_po(po, "  ")
    assert exc.value.field == "reason"
    services.close_po(po, "supplier out of stock")
    db.session.commit()
    assert po.status == states.CLOSED and po.close_reason == "supplier out of stock"
    assert services.on_order_by_product(ctx["products"]) == {}
    other = make_po(ctx, send=False)
    services.cancel_po(other, "ordered twice")
    db.session.commit()
    assert other.status == states.CANCELLED


def test_state_table_refuses_what_it_does_not_allow(ctx):
    po = make_po(ctx, send=False)
    with pytest.raises(Conflict):
        services.move(po, states.RECEIVED)
    for source, targets in states.ALLOWED.items():
        assert source in states.STATUSES and targets <= set(states.STATUSES)
    assert not states.ALLOWED[states.RECEIVED] and not states.ALLOWED[states.CLOSED]


def test_suggestions_round_up_to_moq_and_pack_and_explain(ctx):
    p1, p2, p3 = ctx["products"]
    inv.set_rule(db.session.get(services.suppliers.Product, p1), 5, 0)
    product2 = db.session.get(services.suppliers.Product, p2)
    services.set_reorder_rule(product2, ctx["warehouse"], "4", "9")
    db.session.commit()
    rows = {s.product.id: s for s in services.suggestions(ctx["warehouse"])}
    assert set(rows) == {p1, p2}
    # P-001: target 5 (threshold, no reorder quantity) - 0 = 5 -> MOQ 10 -> packs of 6 -> 12
    assert rows[p1].quantity == 12 and "12" in rows[p1].reason and "6" in rows[p1].reason
    assert rows[p2].quantity == 9 and rows[p2].reorder_point == 4
    with pytest.raises(DomainError) as exc:
        services.set_reorder_rule(product2, ctx["warehouse"], "5", "3")
    assert exc.value.field == "target_level"
    db.session.rollback()
    made = services.create_from_suggestions(ctx["warehouse"], [p1, p2])
    db.session.commit()
    assert len(made) == 1 and {(line.product_id, line.quantity) for line in made[0].lines} == {(p1, 12), (p2, 9)}
    assert made[0].lines[0].expected_date is not None
    assert services.suggestions(ctx["warehouse"]) == []  # on order now
    with pytest.raises(DomainError):
        services.create_from_suggestions(ctx["warehouse"], [p3])


def test_suggestion_without_a_supplier_is_explained_and_refused(ctx):
    from plugins.orders import services as orders

    lone = orders.create_product("L-001", "Lonely", "1", "CNY")
    db.session.flush()
    services.set_reorder_rule(lone, ctx["warehouse"], "2", "5")
    db.session.commit()
    (row,) = services.suggestions(ctx["warehouse"])
    assert row.terms is None and row.quantity == 5
    with pytest.raises(DomainError) as exc:
        services.create_from_suggestions(ctx["warehouse"], [lone.id])
    assert "L-001" in str(exc.value)


def test_csv_import_all_or_nothing(ctx):
    good = b"code,name,email,active\nS-10,Ten Co,ten@example.com,yes\nacme,Acme renamed,,\n"
    assert services.import_suppliers(good) == (1, 1)
    db.session.commit()
    assert services.get_supplier(ctx["supplier"]).name == "Acme renamed"
    bad = "code,name,email\nS-11,Eleven,\nS-12,,x\n".encode("gb18030")
    with pytest.raises(services.ImportRefused) as exc:
        services.import_suppliers(bad)
    db.session.rollback()
    assert [(p.row, p.column) for p in exc.value.problems] == [(3, "name")]
    assert db.session.query(services.suppliers.Supplier).filter_by(code="S-11").first() is None
    with pytest.raises(services.ImportRefused):
        services.import_suppliers(b"code,nom\nX,Y\n")
    with pytest.raises(DomainError):
        services.import_suppliers(b"")


def test_late_query_finds_open_orders_with_overdue_lines(ctx):
    from datetime import date, timedelta

    po = make_po(ctx, send=False)
    po.lines[0].expected_date = date.today() - timedelta(days=2)
    db.session.commit()
    assert db.session.scalars(services.late_query(date.today())).all() == []  # a draft is not late
    services.send_po(po, "en")
    db.session.commit()
    assert db.session.scalars(services.late_query(date.today())).all() == [po]
    assert db.session.query(PurchaseOrder).count() == 1


def test_state_changes_and_receipts_are_webhook_events(ctx):
    from erp_core import webhooks
    from erp_core.webhooks import WebhookDelivery

    assert {"purchase_order.status_changed", "purchase_order.goods_received"} <= set(webhooks.known_events())
    webhooks.create_webhook("https://hooks.example.com/erp",
                            ["purchase_order.status_changed", "purchase_order.goods_received"])
    po = services.create_po(services.get_supplier(ctx["supplier"]), ctx["warehouse"],
                            [services.LineInput("P-001", "4")])
    services.send_po(po, "en")
    services.receive(po, {po.lines[0].id: 4})
    deliveries = db.session.query(WebhookDelivery).order_by(WebhookDelivery.id).all()
    assert [d.event for d in deliveries] == ["purchase_order.status_changed", "purchase_order.status_changed",
                                             "purchase_order.goods_received"]
    assert deliveries[1].payload["new_status"] == "received" and deliveries[2].payload["data"]["number"] == po.number
    db.session.rollback()
