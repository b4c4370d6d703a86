"""Customer notifications: each kind reaches a real SMTP server in the customer's language,
kinds switch off, an unset mail server is logged, text messages are recorded, the order's page
lists what was sent, and the admin's preview (403 for others) escapes what customers typed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from erp_core import settings
from erp_core.extensions import db
from erp_core.testing.smtp import parts
from plugins.orders import services as orders
from plugins.orders import testing as order_testing
from plugins.support import returns
from plugins.support.models import Notification
from tests.helpers import login, make_user

REAL = ["orders", "logistics", "finance", "support"]
PAYLOAD = "<script>alert(1)</script>"


def _customer(name="王芳", email="wang@example.com", language="zh_CN", phone="13912345678"):
    return orders.create_customer(name, phone, email, language=language)


def _order(customer, lines=((2, "64.00"),), status="draft"):
    return order_testing.make_order(lines, customer=customer, email=customer.email or "", phone=customer.phone or "",
                                    status=status)


def _log(app, order_id):
    with app.app_context():
        return [(n.kind, n.channel, n.status, n.language) for n in db.session.scalars(
            select(Notification).where(Notification.order_id == order_id).order_by(Notification.id))]


def _subjects(smtp_server):
    return [str(m["Subject"]) for m in smtp_server.emails]


@pytest.fixture
def real_app(make_app, smtp_server):
    return make_app(plugins=REAL, **smtp_server.app_config())


def _ship(order, number="SF0000000001"):
    from plugins.logistics import services as logistics

    carrier = logistics.create_carrier("SF Express", "sf", "manual",
                                       {"tracking_url_template": "https://carrier.example/t?n={number}"})
    remaining = {k: v for k, v in logistics.remaining_by_line(order).items() if v}
    shipment = logistics.create_shipment(order, logistics.ShipmentInput(
        carrier_id=carrier.id, quantities=remaining, tracking_number=number, carrier_name="SF Express"))
    db.session.commit()
    return shipment


def _pay(order):
    from plugins.finance import services as finance

    payment = finance.record_payment(order, "cash", order.total_minor)
    db.session.commit()
    return payment


def test_each_kind_reaches_the_customer_in_their_language(real_app, smtp_server):
    from plugins.finance import services as finance
    from plugins.logistics import adapters as carrier_api
    from plugins.logistics import services as logistics

    with real_app.test_request_context():
        order = _order(_customer())
        orders.transition(order, "confirmed")
        db.session.commit()
        assert len(smtp_server.emails) == 1
        confirmed = smtp_server.emails[0]
        text, html = parts(confirmed)
        assert str(confirmed["Subject"]) == f"您的订单 {order.number} 已确认"
        assert smtp_server.messages[0].rcpt_tos == ["wang@example.com"] and confirmed["Content-Language"] == "zh-CN"
        assert order.lines[0].name in text and "¥128.00" in text and "/help/t/" in text
        assert "合计" in html and "¥128.00" in html and order.lines[0].name in html

        payment = _pay(order)
        shipment = _ship(order)
        assert _subjects(smtp_server)[-1] == f"您的订单 {order.number} 已发货"
        text, html = parts(smtp_server.emails[-1])
        assert "SF0000000001" in text and "SF Express" in text and "SF0000000001" in html

        event = carrier_api.TrackingEvent("SF0000000001", datetime.now(UTC), "delivered", "签收")
        logistics.record_events(shipment, [event], "staff")
        db.session.commit()
        assert _subjects(smtp_server)[-1] == f"您的订单 {order.number} 已送达"
        assert "/help/survey/" in parts(smtp_server.emails[-1])[0]
        from plugins.support import surveys

        assert surveys.send_pending() == 0  # its link went with the delivery notification

        request = returns.create_return(order, "refund", "damaged", "", {order.lines[0].id: 1})
        returns.decide(request, True, "请用原包装寄回。")
        db.session.commit()
        assert _subjects(smtp_server)[-1] == f"您的退货申请 {request.number} 已批准"
        assert "请用原包装寄回。" in parts(smtp_server.emails[-1])[0]
        returns.receive(request, restock=False, note="written off")
        db.session.commit()
        assert _subjects(smtp_server)[-1] == f"我们已收到您的退货 {request.number}"

        refund = finance.request_refund(payment, 6400, "破损")
        finance.approve_refund(refund)
        db.session.commit()
        assert _subjects(smtp_server)[-1] == f"订单 {order.number} 的退款已支付"
        assert "¥64.00" in parts(smtp_server.emails[-1])[0]
        order_id = order.id
    kinds = [k for k, _c, _s, _l in _log(real_app, order_id)]
    assert kinds == ["order_confirmed", "shipped", "delivered", "return_approved", "return_received", "refund_paid"]
    assert {(c, s, lang) for _k, c, s, lang in _log(real_app, order_id)} == {("email", "queued", "zh_CN")}
    assert all(m.is_multipart() for m in smtp_server.emails)


def test_english_customer_and_a_delivery_problem(real_app, smtp_server):
    from plugins.logistics import services as logistics

    with real_app.test_request_context():
        order = _order(_customer("Jane Smith", "jane@example.com", "en"))
        orders.transition(order, "confirmed")
        db.session.commit()
        assert _subjects(smtp_server) == [f"Your order {order.number} is confirmed"]
        _pay(order)
        shipment = _ship(order, "SF0000000002")
        logistics.raise_exception(shipment, "damaged", "box crushed")
        db.session.commit()
        assert _subjects(smtp_server)[-1] == f"A problem with the delivery of your order {order.number}"
        text = parts(smtp_server.emails[-1])[0]
        assert "SF0000000002" in text and "box crushed" not in text  # staff notes stay internal


def test_a_kind_switched_off_sends_nothing(real_app, smtp_server):
    with real_app.test_request_context():
        settings.set_many({"support.notify.order_confirmed": False})
        db.session.commit()
        order = _order(_customer())
        orders.transition(order, "confirmed")
        db.session.commit()
        order_id = order.id
    assert smtp_server.emails == [] and _log(real_app, order_id) == []


def test_a_rolled_back_event_notifies_nobody(real_app, smtp_server):
    with real_app.test_request_context():
        order = _order(_customer())
        orders.transition(order, "confirmed")
        db.session.rollback()
        order_id = order.id
    assert smtp_server.emails == [] and _log(real_app, order_id) == []


def test_without_mail_the_log_says_not_sent_and_the_order_page_shows_it(make_app):
    app = make_app(plugins=["orders", "support"])
    with app.test_request_context():
        order = _order(_customer(), status="confirmed")
        order_id = order.id
    assert _log(app, order_id) == [("order_confirmed", "email", "mail_off", "zh_CN")]
    client = app.test_client()
    login(client, app, make_user(app, perms=["orders.view"]))
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert 'data-testid="notifications-panel"' in page and "Not sent: mail is not set up" in page
    assert "wang@example.com" in page


def test_text_messages_are_recorded_with_the_chosen_adapter(make_app, smtp_server):
    app = make_app(plugins=["orders", "support"], **smtp_server.app_config())
    with app.test_request_context():
        settings.set_many({"support.notify.sms_adapter": "record"})
        db.session.commit()
        order = _order(_customer(), status="confirmed")
        order_id, number = order.id, order.number
    entries = _log(app, order_id)
    assert ("order_confirmed", "sms", "recorded", "zh_CN") in entries and len(smtp_server.emails) == 1
    with app.app_context():
        sms = db.session.scalars(select(Notification).where(Notification.channel == "sms")).one()
        assert sms.recipient == "13912345678" and number in sms.body and "已确认" in sms.body
    client = app.test_client()
    login(client, app, make_user(app, perms=["orders.view"]))
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "Recorded (not sent)" in page and "已确认" in page


def test_an_unknown_sms_adapter_sends_no_text(make_app, smtp_server):
    app = make_app(plugins=["orders", "support"], **smtp_server.app_config())
    with app.test_request_context():
        settings.set_many({"support.notify.sms_adapter": "gone"})
        db.session.commit()
        order = _order(_customer(), status="confirmed")
        order_id = order.id
    assert [c for _k, c, _s, _l in _log(app, order_id)] == ["email"]


def test_script_in_names_is_escaped_in_the_html_mail_and_the_preview(make_app, smtp_server):
    app = make_app(plugins=["orders", "support"], **smtp_server.app_config())
    with app.test_request_context():
        product = orders.create_product("XSS-1", f"Tea {PAYLOAD}", "10.00", "CNY")
        customer = _customer(name=f"Bad {PAYLOAD}", language="en")
        order = order_testing.make_order([(product, 1)], customer=customer, email=customer.email,
                                         status="confirmed")
        order_id = order.id
    text, html = parts(smtp_server.emails[0])
    assert PAYLOAD in text  # plain text is not HTML
    assert PAYLOAD not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    client = app.test_client()
    login(client, app, make_user(app, roles=["admin"]))
    page = client.get(f"/support/notifications/preview?order_id={order_id}").get_data(as_text=True)
    assert PAYLOAD not in page and "&lt;script&gt;" in page


def test_preview_is_for_admins_in_the_chosen_language(make_app):
    app = make_app(plugins=["orders", "support"])
    staff = app.test_client()
    login(staff, app, make_user(app, perms=["orders.view", "support.tickets.view", "support.tickets.reply"]))
    assert staff.get("/support/notifications/preview").status_code == 403
    admin = app.test_client()
    login(admin, app, make_user(app, roles=["admin"]))
    page = admin.get("/support/notifications/preview?kind=shipped&lang=zh_CN").get_data(as_text=True)
    assert "已发货" in page and "SF1234567890" in page and "made-up example" in page
    with app.test_request_context():
        order = _order(_customer("Jane", "jane@example.com", "en"), status="confirmed")
        number = order.number
        settings.set_many({"support.notify.refund_paid": False})
        db.session.commit()
    response = admin.get("/support/notifications/preview?kind=order_confirmed")
    assert response.status_code == 200 and f"Your order {number} is confirmed" in response.get_data(as_text=True)
    page = admin.get("/support/notifications/preview?kind=refund_paid&lang=en&order_id=x").get_data(as_text=True)
    assert "is paid" in page and 'data-testid="kind-off"' in page


def test_the_order_panel_reads_the_log_in_one_query(make_app):
    from tests.helpers import QueryCounter

    app = make_app(plugins=["orders", "support"])
    with app.test_request_context():
        settings.set_many({"support.notify.sms_adapter": "record"})
        order = _order(_customer(), status="delivered")
        order_id = order.id
        engine = db.engine
    assert len(_log(app, order_id)) == 4  # confirmed and delivered, each by e-mail (not set up) and text
    client = app.test_client()
    login(client, app, make_user(app, perms=["orders.view"]))
    with QueryCounter(engine) as counted:
        page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert page.count('data-testid="notification-entry"') == 4
    assert len([st for st in counted.statements if "support_notification" in st]) == 1


def test_hook_erp_sms_adapters(make_app, smtp_server):
    """A provider plugin's adapter is offered in the settings and called by a job after the commit;
    a refused message is logged as failed; a switched-off provider is not offered."""
    from tests.support.fakes import sms as fake

    fake.SENT.clear()
    plugin = "fakesms=tests.support.fakes.sms"
    app = make_app(plugins=["orders", "support", plugin], **smtp_server.app_config())
    admin = app.test_client()
    login(admin, app, make_user(app, roles=["admin"]))
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert 'value="fake_sms"' in page and 'value="record"' in page and "Bad Key!" not in page
    with app.test_request_context():
        settings.set_many({"support.notify.sms_adapter": "fake_sms"})
        db.session.commit()
        good = _order(_customer(phone="13912345678"), status="confirmed")
        bad = _order(_customer("李雷", "li@example.com", phone="13912345670"), status="confirmed")
        good_id, bad_id = good.id, bad.id
    assert fake.SENT and fake.SENT[0][0] == "13912345678" and "已确认" in fake.SENT[0][1]
    assert ("order_confirmed", "sms", "sent", "zh_CN") in _log(app, good_id)
    assert ("order_confirmed", "sms", "failed", "zh_CN") in _log(app, bad_id)
    off = make_app(plugins=["orders", "support", plugin], enabled=["orders", "support"], **smtp_server.app_config())
    with off.test_request_context():
        order = _order(_customer("Off", "off@example.com", phone="13900000001"), status="confirmed")
        assert [c for _k, c, _s, _l in _log(off, order.id)] == ["email"]
