"""Sales channels and external references: one order per channel reference, whichever way it
comes in (service, entry page, API, CSV import, two at the same moment); the channel filter and
column of the order list; the sales-by-channel report; the channels setting."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from erp_core import settings
from erp_core.extensions import db
from plugins.orders import channels, services, states
from plugins.orders.models import Order
from plugins.orders.services import LineInput, OrderInput
from tests.helpers import QueryCounter
from tests.orders.conftest import client_with, order_form


def _order(catalogue, channel="taobao", ref="TB-1", **kw) -> Order:
    return services.create_order(OrderInput(customer_id=catalogue.customer_id, ship_line1="1 Road", channel=channel,
                                            external_ref=ref, lines=[LineInput(catalogue.ink_id, 1)], **kw))


def test_an_external_ref_is_entered_once_per_channel(orders_app, catalogue):
    with orders_app.test_request_context():
        first = _order(catalogue)
        db.session.commit()
        assert (first.channel, first.external_ref) == ("taobao", "TB-1")
        with pytest.raises(services.DuplicateExternalRef) as refused:
            _order(catalogue, ref="  TB-1 ")
        db.session.rollback()
        assert refused.value.order_id == first.id and first.number in str(refused.value)
        assert refused.value.status == 409
        other = _order(catalogue, channel="jd")  # the same number in another channel is another order
        plain = _order(catalogue, channel="", ref="")  # no reference: any number of them
        again = _order(catalogue, channel="", ref="")
        db.session.commit()
        assert other.channel == "jd" and plain.channel == again.channel == channels.DEFAULT_CHANNEL
        assert plain.external_ref is None


def test_unknown_channel_and_long_ref_are_explained(orders_app, catalogue):
    with orders_app.test_request_context():
        with pytest.raises(services.OrderInvalid) as bad:
            _order(catalogue, channel="ebay", ref="x" * 101)
        assert set(bad.value.errors) >= {"channel", "external_ref"}
        assert "ebay" in bad.value.errors["channel"][0]


def _create_in_thread(app, catalogue, barrier, outcomes):
    try:
        with app.app_context():
            barrier.wait(timeout=30)
            with app.test_request_context(method="POST"):  # a writing request: BEGIN IMMEDIATE on SQLite
                order = _order(catalogue, ref="RACE-1")
                db.session.commit()
                outcomes.append(("made", order.id))
    except services.DuplicateExternalRef as exc:
        outcomes.append(("refused", exc.order_id))
    except Exception as exc:  # noqa: BLE001  (reported by the test)
        outcomes.append(("error", repr(exc)))
    finally:
        with app.app_context():
            db.session.remove()


def test_two_creates_of_one_reference_at_once_make_one_order(orders_app, catalogue):
    outcomes: list = []
    barrier = threading.Barrier(4)
    threads = [threading.Thread(target=_create_in_thread, args=(orders_app, catalogue, barrier, outcomes))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    kinds = sorted(kind for kind, _value in outcomes)
    assert kinds == ["made", "refused", "refused", "refused"], outcomes
    made = next(value for kind, value in outcomes if kind == "made")
    assert all(value == made for kind, value in outcomes if kind == "refused")
    with orders_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order).where(Order.external_ref == "RACE-1")) == 1


def test_entry_page_refuses_a_known_reference_with_a_link(orders_app, catalogue, staff):
    data = order_form(catalogue, {"product_id": catalogue.ink_id, "quantity": "1"}, channel="wechat",
                      external_ref="WX-77")
    first = staff.post("/orders/new", data=data)
    assert first.status_code == 302
    with orders_app.app_context():
        existing = db.session.scalar(select(Order).where(Order.external_ref == "WX-77"))
        assert existing.channel == "wechat"
    again = staff.post("/orders/new", data=data)
    page = again.get_data(as_text=True)
    assert again.status_code == 409
    assert existing.number in page and f'href="/orders/{existing.id}"' in page and 'data-testid="duplicate-link"' in page
    with orders_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1


def test_entry_page_offers_the_channels_and_shows_xss_as_text(orders_app, catalogue, staff):
    page = staff.get("/orders/new").get_data(as_text=True)
    assert 'value="taobao"' in page and "Taobao" in page
    payload = "<script>alert(1)</script>"
    response = staff.post("/orders/new", data=order_form(catalogue, {"product_id": catalogue.ink_id, "quantity": "1"},
                                                           channel="shop", external_ref=payload))
    order_url = response.headers["Location"]
    for url in (order_url, "/orders/", "/orders/?channel=shop"):
        html = staff.get(url).get_data(as_text=True)
        assert payload not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


def test_list_filters_by_channel_and_runs_a_fixed_number_of_statements(orders_app, catalogue):
    client = client_with(orders_app)
    with orders_app.test_request_context():
        _order(catalogue, channel="jd", ref="JD-1")
        _order(catalogue, channel="phone", ref=None)
        db.session.commit()
    client.get("/orders/")
    with orders_app.app_context():
        engine = db.engine
    with QueryCounter(engine) as few:
        page = client.get("/orders/?channel=jd").get_data(as_text=True)
    assert "JD-1" in page and page.count('data-testid="external-ref"') == 1
    assert "JD.com" in page
    with orders_app.test_request_context():
        for n in range(30):
            order = _order(catalogue, channel="jd", ref=f"JD-{n + 2}")
            services.add_tag(order, "vip")
        db.session.commit()
    with QueryCounter(engine) as many:
        page = client.get("/orders/?channel=jd").get_data(as_text=True)
    assert page.count('data-testid="external-ref"') == 25 and "vip" in page
    assert many.count == few.count, many.statements
    assert "SO-" in client.get("/orders/?channel=phone").get_data(as_text=True)
    assert "No orders match" in client.get("/orders/?channel=nowhere").get_data(as_text=True)


def test_channels_setting_is_checked_and_labels_custom_channels(orders_app):
    with orders_app.test_request_context():
        assert channels.check_setting("shop\nBad Code!") and channels.check_setting("  \n")
        assert channels.check_setting("shop\ndouyin = 抖音小店") is None
        settings.set_many({channels.SETTING: "shop\ndouyin = 抖音小店"})
        assert channels.channels() == {"shop": "Shop", "douyin": "抖音小店"}
        assert channels.label("taobao") == "Taobao"  # an order keeps a channel that left the list
        with pytest.raises(ValueError):
            channels.check_channel("taobao")


def test_sales_by_channel_report_and_csv(orders_app, catalogue):
    with orders_app.test_request_context():
        for channel, ref in (("taobao", "A"), ("taobao", "B"), ("jd", "C"), ("jd", "D")):
            order = _order(catalogue, channel=channel, ref=ref)
            if ref != "D":
                services.transition(order, states.CONFIRMED)
        db.session.commit()
    client = client_with(orders_app)
    page = client.get("/orders/reports/channels").get_data(as_text=True)
    assert "Taobao" in page and "JD.com" in page
    csv_text = client.get("/orders/reports/channels?format=csv").get_data(as_text=True)
    rows = [line.split(",") for line in csv_text.lstrip("\ufeff").splitlines()]
    assert rows[0] == ["month", "channel", "channel_label", "currency", "orders", "net", "tax", "gross"]
    by_channel = {r[1]: r for r in rows[1:]}
    assert by_channel["taobao"][4] == "2" and by_channel["jd"][4] == "1"
    assert by_channel["taobao"][7] == "24.00"
    bad = client.get("/orders/reports/channels?from=2026-13").get_data(as_text=True)
    assert "YYYY-MM" in bad
    viewer = client_with(orders_app, perms=["orders.view"])
    assert viewer.get("/orders/reports/channels").status_code == 200
    assert viewer.get("/orders/reports/channels?format=csv").status_code == 403
    assert client_with(orders_app, perms=[]).get("/orders/reports/channels").status_code == 403


def test_edit_page_shows_the_channel_without_changing_it(orders_app, catalogue, staff):
    with orders_app.test_request_context():
        order = _order(catalogue, channel="jd", ref="JD-5")
        db.session.commit()
        order_id = order.id
    page = staff.get(f"/orders/{order_id}/edit").get_data(as_text=True)
    assert "JD.com" in page and "JD-5" in page and 'name="external_ref"' not in page
