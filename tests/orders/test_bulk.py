"""Bulk work on the order list (confirm, cancel, tags, print, export: each order's outcome told,
one refusal leaving the others done, the permission of each action), re-ordering from the order
page, tags on the order page, importing one file twice, and the migration of channels."""

from __future__ import annotations

import io

from alembic import command
from sqlalchemy import func, inspect, select

from erp_core.app import create_app
from erp_core.extensions import db
from erp_core.migrate import alembic_config, upgrade
from plugins.orders import services, states
from plugins.orders.models import Order
from plugins.orders.models_channels import OrderTag
from plugins.orders.services import LineInput, OrderInput
from tests.conftest import base_config
from tests.orders.conftest import client_with


def _orders(app, catalogue, n=3) -> list[int]:
    with app.test_request_context():
        ids = [services.create_order(OrderInput(customer_id=catalogue.customer_id, ship_line1="1 Road",
                                                channel="phone", lines=[LineInput(catalogue.ink_id, 2)])).id
               for _ in range(n)]
        db.session.commit()
        return ids


def _status(app, order_id) -> str:
    with app.app_context():
        return db.session.get(Order, order_id).status


def test_bulk_confirm_reports_each_order_and_one_refusal_keeps_the_others(orders_app, catalogue, staff):
    ids = _orders(orders_app, catalogue)
    with orders_app.test_request_context():
        services.transition(db.session.get(Order, ids[1]), states.CANCELLED, note="gone")
        db.session.commit()
    response = staff.post("/orders/bulk", data={"action": "confirm", "ids": [str(i) for i in ids]})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count('data-done="yes"') == 2 and page.count('data-done="no"') == 1
    assert "cannot become" in page
    assert [_status(orders_app, i) for i in ids] == ["confirmed", "cancelled", "confirmed"]


def test_bulk_cancel_needs_a_reason_and_every_order_matching_the_filter_can_be_taken(orders_app, catalogue, staff):
    ids = _orders(orders_app, catalogue)
    refused = staff.post("/orders/bulk", data={"action": "cancel", "ids": [str(i) for i in ids]})
    assert refused.status_code == 302
    assert all(_status(orders_app, i) == "draft" for i in ids)
    done = staff.post("/orders/bulk?channel=phone", data={"action": "cancel", "all": "1", "reason": "duplicate entry"})
    assert done.get_data(as_text=True).count('data-done="yes"') == 3
    assert all(_status(orders_app, i) == "cancelled" for i in ids)
    nothing = staff.post("/orders/bulk?channel=jd", data={"action": "cancel", "all": "1", "reason": "x"})
    assert nothing.status_code == 302


def test_bulk_actions_need_their_permission(orders_app, catalogue):
    ids = [str(i) for i in _orders(orders_app, catalogue, 1)]
    viewer = client_with(orders_app, perms=["orders.view"])
    for action in ("confirm", "cancel", "tag_add", "tag_remove", "export"):
        assert viewer.post("/orders/bulk", data={"action": action, "ids": ids, "reason": "r", "tag": "t"}).status_code == 403
    assert _status(orders_app, int(ids[0])) == "draft"
    assert client_with(orders_app, perms=[]).post("/orders/bulk", data={"action": "confirm", "ids": ids}).status_code == 403
    assert 'data-testid="bulk-form"' not in client_with(orders_app, perms=[]).get("/orders/").get_data(as_text=True)


def test_bulk_tags_print_and_export(orders_app, catalogue, staff):
    ids = [str(i) for i in _orders(orders_app, catalogue)]
    payload = "<script>alert(1)</script>"
    staff.post("/orders/bulk", data={"action": "tag_add", "ids": ids[:2], "tag": payload})
    again = staff.post("/orders/bulk", data={"action": "tag_add", "ids": ids, "tag": payload}).get_data(as_text=True)
    assert again.count('data-done="yes"') == 1 and "already has this tag" in again
    for url in ("/orders/", f"/orders/{ids[0]}"):
        html = staff.get(url).get_data(as_text=True)
        assert payload not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    staff.post("/orders/bulk", data={"action": "tag_remove", "ids": ids[:1], "tag": payload})
    with orders_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OrderTag)) == 2
    printed = staff.post("/orders/bulk", data={"action": "print_packing", "ids": ids}).get_data(as_text=True)
    assert printed.count('data-testid="printed-order"') == 3 and "Packing slip" in printed
    confirmations = staff.post("/orders/bulk", data={"action": "print_confirmation", "ids": ids[:2]})
    assert confirmations.get_data(as_text=True).count('data-testid="printed-order"') == 2
    export = staff.post("/orders/bulk", data={"action": "export", "ids": ids[:2]})
    assert export.mimetype == "text/csv" and len(export.get_data(as_text=True).strip().splitlines()) == 3
    long_tag = staff.post("/orders/bulk", data={"action": "tag_add", "ids": ids, "tag": "x" * 41})
    assert long_tag.status_code == 302


def test_order_page_tags_and_reorder(orders_app, catalogue, staff):
    order_id = _orders(orders_app, catalogue, 1)[0]
    page = staff.get(f"/orders/{order_id}").get_data(as_text=True)
    assert 'data-testid="channel-panel"' in page and "Phone" in page and "Re-order" in page
    staff.post(f"/orders/{order_id}/tags", data={"tag": "  gift   wrap "})
    assert 'data-testid="order-tag">gift wrap' in staff.get(f"/orders/{order_id}").get_data(as_text=True)
    staff.post(f"/orders/{order_id}/tags", data={"remove": "gift wrap"})
    page = staff.get(f"/orders/{order_id}").get_data(as_text=True)
    assert 'data-testid="order-tag">gift wrap' not in page and "Tag removed" in page
    with orders_app.test_request_context():
        services.update_product(services.get_product(catalogue.ink_id), "INK-1", "Ink", "13", "CNY")
        db.session.commit()
    response = staff.post(f"/orders/{order_id}/reorder")
    assert response.status_code == 302
    with orders_app.app_context():
        new = db.session.scalars(select(Order).order_by(Order.id.desc())).first()
        assert new.id != order_id and new.status == "draft" and new.channel == "phone"
        assert new.lines[0].unit_price_minor == 1300 and new.lines[0].quantity == 2
    viewer = client_with(orders_app, perms=["orders.view"])
    assert viewer.post(f"/orders/{order_id}/reorder").status_code == 403
    assert viewer.post(f"/orders/{order_id}/tags", data={"tag": "x"}).status_code == 403
    assert "Re-order" not in viewer.get(f"/orders/{order_id}").get_data(as_text=True)


def test_reorder_of_a_product_no_longer_sold_is_explained(orders_app, catalogue, staff):
    order_id = _orders(orders_app, catalogue, 1)[0]
    with orders_app.test_request_context():
        product = services.get_product(catalogue.ink_id)
        services.update_product(product, "INK-1", "Ink", "12", "CNY", active=False)
        db.session.commit()
    response = staff.post(f"/orders/{order_id}/reorder", follow_redirects=True)
    assert "Re-order refused" in response.get_data(as_text=True)
    with orders_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1


CSV = ("order_ref,customer_name,ship_line1,sku,quantity,channel\n"
       "T-1,Li Lei,1 Road,INK-1,2,taobao\nT-1,Li Lei,1 Road,PEN-1,1,taobao\nT-2,Han Mei,2 Road,INK-1,1,taobao\n")


def test_importing_one_file_twice_creates_nothing_the_second_time(orders_app, catalogue):
    importer = client_with(orders_app, perms=["orders.import", "orders.view"])

    def upload():
        return importer.post("/orders/import", data={"file": (io.BytesIO(CSV.encode()), "data.csv")},
                             content_type="multipart/form-data")

    assert upload().status_code == 302
    with orders_app.app_context():
        made = {o.external_ref: o for o in db.session.scalars(select(Order))}
        assert set(made) == {"T-1", "T-2"} and {o.channel for o in made.values()} == {"taobao"}
    second = upload()
    page = second.get_data(as_text=True)
    assert second.status_code == 422
    assert page.count('data-testid="import-existing"') == 2 and f'href="/orders/{made["T-1"].id}"' in page
    with orders_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 2


def test_migration_gives_existing_orders_the_shop_channel(empty_database_url, tmp_path):
    app = create_app(base_config(empty_database_url, plugins=["orders"]), instance=tmp_path)
    with app.app_context():
        upgrade()
        with app.test_request_context():
            customer = services.create_customer("Old customer")
            product = services.create_product("OLD-1", "Old", "1", "CNY")
            services.create_order(OrderInput(customer_id=customer.id, ship_line1="1 Road", channel="jd",
                                             external_ref="J-1", lines=[LineInput(product.id, 1)]))
            db.session.commit()
        db.session.remove()
        with db.engine.begin() as connection:
            command.downgrade(alembic_config(connection), "orders_0005_invoicing_details")
        columns = {c["name"] for c in inspect(db.engine).get_columns("orders_order")}
        assert "channel" not in columns and "orders_order_tag" not in inspect(db.engine).get_table_names()
        upgrade()
        with app.test_request_context():
            order = db.session.scalars(select(Order)).one()
            assert (order.channel, order.external_ref) == ("shop", None)
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
