"""The logistics pages: forms, messages, permissions, panels, and SQL statements per list page."""

import re
from datetime import timedelta

import pytest

from erp_core.extensions import db
from erp_core.models import AuditLog
from erp_core.web.templating import render_contributions
from plugins.logistics import adapters as a
from plugins.logistics import services
from plugins.logistics.models import Carrier, DeliveryException, Shipment
from plugins.orders import services as orders
from plugins.orders import states as order_states
from plugins.orders.models import Order
from tests.helpers import QueryCounter, login, make_user
from tests.logistics import spy_plugin as spy
from tests.logistics.conftest import make_carriers, make_order, ship


def _client(app, perms=None, roles=()):
    client = app.test_client()
    login(client, app, make_user(app, perms=perms or [], roles=roles))
    return client


@pytest.fixture
def admin(app):
    return _client(app, roles=["admin"])


def _setup(app, **kw):
    with app.test_request_context():
        demo, manual = make_carriers()
        order = make_order(**kw)
        return order.id, [l.id for l in order.lines], demo.id, manual.id


def test_create_a_shipment_through_the_form(app, admin):
    order_id, (pen, ink), _demo, manual = _setup(app)
    page = admin.get(f"/logistics/orders/{order_id}/ship").get_data(as_text=True)
    key = re.search(r'name="request_key" type="hidden" value="([0-9a-f]+)"', page).group(1)
    form = {"carrier_id": manual, "carrier_name": "SF Express", "tracking_number": "SF-100200", "ship_date": "",
            f"qty-{pen}": "2", f"qty-{ink}": "0", "request_key": key, "packages": "1", "weight": "0.5"}
    response = admin.post(f"/logistics/orders/{order_id}/ship", data=form)
    assert response.status_code == 302
    shipment_page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "created for order" in shipment_page and "SF-100200" in shipment_page
    assert "Ship the rest (5 left)" in shipment_page
    # the same form posted again: one shipment, the user lands on it
    again = admin.post(f"/logistics/orders/{order_id}/ship", data=form)
    assert again.status_code == 302 and again.headers["Location"] == response.headers["Location"]
    assert "already created from this form" in admin.get(again.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Shipment).count() == 1
        assert db.session.get(Order, order_id).status == order_states.PARTIALLY_SHIPPED


def test_bad_input_is_shown_beside_the_field_and_changes_nothing(app, admin):
    order_id, (pen, ink), _demo, manual = _setup(app)
    form = {"carrier_id": manual, "carrier_name": "", "tracking_number": "no good!", f"qty-{pen}": "9",
            f"qty-{ink}": "x", "request_key": "k1", "ship_date": "2026-13-45", "weight": "-1"}
    response = admin.post(f"/logistics/orders/{order_id}/ship", data=form)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'is-invalid' in page and "Please correct the marked fields" in page
    form["ship_date"] = ""
    page = admin.post(f"/logistics/orders/{order_id}/ship", data=form).get_data(as_text=True)
    for message in ("only 5 left to ship", "type a whole number", "not a valid Other carrier tracking number",
                    "Type the name of the carrier", "Weight: kilograms above zero"):
        assert message in page, message
    with app.app_context():
        assert db.session.query(Shipment).count() == 0
        assert db.session.query(AuditLog).filter_by(object_type="shipment").count() == 0


def test_shipping_a_draft_order_is_refused_with_a_message(app, admin):
    order_id, (pen, _ink), _demo, manual = _setup(app, status=order_states.DRAFT)
    response = admin.post(f"/logistics/orders/{order_id}/ship", data={
        "carrier_id": manual, "carrier_name": "SF", "tracking_number": "SF-1234", f"qty-{pen}": "1",
        "request_key": "k2"})
    assert response.status_code == 200
    assert "only confirmed orders can be shipped" in response.get_data(as_text=True)
    assert admin.get("/logistics/orders/999999/ship").status_code == 404


def test_pages_need_their_permissions(app):
    order_id, _lines, demo, _manual = _setup(app)
    with app.test_request_context():
        shipment = ship(db.session.get(Order, order_id), db.session.get(Carrier, demo))
        exception = services.raise_exception(shipment, a.LOST)
        db.session.commit()
        shipment_id, exception_id = shipment.id, exception.id
    nobody = _client(app)
    viewer = _client(app, perms=["logistics.view"])
    for url in ("/logistics/", f"/logistics/shipments/{shipment_id}", "/logistics/exceptions/",
                f"/logistics/orders/{order_id}/ship", "/logistics/carriers/", f"/logistics/shipments/{shipment_id}/label"):
        assert nobody.get(url).status_code == 403, url
    assert viewer.get("/logistics/").status_code == 200
    assert viewer.get(f"/logistics/shipments/{shipment_id}").status_code == 200
    for url in (f"/logistics/orders/{order_id}/ship", "/logistics/exceptions/",
                f"/logistics/exceptions/{exception_id}", "/logistics/carriers/", "/logistics/carriers/new"):
        assert viewer.get(url).status_code == 403, url
    for url in (f"/logistics/shipments/{shipment_id}/events", f"/logistics/shipments/{shipment_id}/exception",
                f"/logistics/exceptions/{exception_id}/resolve", f"/logistics/carriers/{demo}/disable"):
        assert viewer.post(url).status_code == 403, url
    page = viewer.get(f"/logistics/shipments/{shipment_id}").get_data(as_text=True)
    assert 'data-testid="event-form"' not in page and 'data-testid="raise-form"' not in page
    handler = _client(app, perms=["logistics.view", "logistics.exceptions"])
    assert handler.get(f"/logistics/exceptions/{exception_id}").status_code == 200
    assert handler.get("/logistics/carriers/").status_code == 403


def _many_shipments(app, count):
    with app.test_request_context():
        demo, manual = make_carriers()
        for i in range(count):
            order = make_order(lines=((1, "PEN"), (1, "INK")))
            shipment = ship(order, manual if i % 2 else demo)
            if i % 3 == 0:
                services.raise_exception(db.session.get(Shipment, shipment.id), a.DAMAGED)
                db.session.commit()


@pytest.mark.parametrize("url,most", [("/logistics/", 16), ("/logistics/exceptions/?status=all", 16),
                                      ("/logistics/carriers/", 16), ("/dashboard", None)])
def test_list_pages_run_a_fixed_number_of_statements(app, admin, url, most):
    _many_shipments(app, 3)
    admin.get(url)  # warm up
    with app.app_context():
        engine = db.engine
    with QueryCounter(engine) as few:
        assert admin.get(url).status_code == 200
    _many_shipments(app, 12)
    with QueryCounter(engine) as many:
        page = admin.get(url)
    assert page.status_code == 200
    assert many.count == few.count, f"{url}: {few.count} statements for 3 shipments, {many.count} for 15"
    assert most is None or many.count <= most  # the dashboard also holds other plugins' widgets


def test_filters_live_in_the_url(app, admin):
    _many_shipments(app, 4)
    with app.app_context():
        first = db.session.query(Shipment).order_by(Shipment.id).first()
        number, order_number = first.number, first.order.number
    page = admin.get(f"/logistics/?q={number.lower()}").get_data(as_text=True)
    assert page.count("/logistics/shipments/") == 1
    assert admin.get(f"/logistics/?q={order_number}").get_data(as_text=True).count("/logistics/shipments/") == 1
    page = admin.get("/logistics/?status=exception&sort=-expected").get_data(as_text=True)
    assert page.count('data-status="exception"') == 2
    assert 'data-status="in_transit"' not in page
    page = admin.get("/logistics/exceptions/?kind=damaged&owner=none&overdue=0").get_data(as_text=True)
    assert page.count("/logistics/exceptions/") >= 2
    assert admin.get("/logistics/?from=notadate").status_code == 200
    assert admin.get("/logistics/?page=999&sort=bogus").status_code == 200


def test_carrier_admin_never_shows_secrets(app, admin):
    response = admin.post("/logistics/carriers/new", data={
        "adapter": "demo_express", "name": "Demo", "code": "demo", "cred_account": "A-1",
        "cred_api_key": "super-secret-key-123", "enabled": "y"})
    assert response.status_code == 302
    edit_url = response.headers["Location"]
    page = admin.get(edit_url).get_data(as_text=True)
    assert "super-secret-key-123" not in page and "••••••23" in page
    with app.app_context():
        carrier = db.session.query(Carrier).filter_by(code="demo").one()
        full_secret = services.webhook_secret(carrier)
    assert full_secret not in page and full_secret[-2:] in page
    # blank keeps the stored secret; a bad value is refused beside its field
    assert admin.post(edit_url, data={"name": "Demo 2", "cred_account": "A-2", "cred_api_key": ""}).status_code == 302
    page = admin.post(edit_url, data={"name": "", "cred_account": "", "cred_api_key": ""}).get_data(as_text=True)
    assert "This field is required" in page or "This is required" in page
    with app.app_context():
        carrier = db.session.query(Carrier).filter_by(code="demo").one()
        assert services.stored_credentials(carrier) == {"account": "A-2", "api_key": "super-secret-key-123"}
        assert "super-secret-key-123" not in str(carrier.credentials)  # sealed at rest
        logged = [str(e.after) for e in db.session.query(AuditLog).filter_by(object_type="carrier")]
        assert not any("super-secret-key-123" in text for text in logged)
    duplicate = admin.post("/logistics/carriers/new", data={"adapter": "manual", "name": "X", "code": "demo"})
    assert "already used by another carrier" in duplicate.get_data(as_text=True)
    assert "Manual entry" in admin.get("/logistics/carriers/new").get_data(as_text=True)
    response = admin.post(f"{edit_url}/rotate-secret")
    assert response.status_code == 302
    assert "New webhook secret" in admin.get(edit_url).get_data(as_text=True)
    assert admin.post(f"{edit_url}/disable").status_code == 302
    with app.app_context():
        assert db.session.query(Carrier).filter_by(code="demo").one().enabled is False


def test_exception_page_offers_only_what_the_switched_on_plugins_can_do(make_app):
    def _exception_page(app):
        client = _client(app, roles=["admin"])
        with app.test_request_context():
            demo, _manual = make_carriers()
            shipment = ship(make_order(), demo)
            exception = services.raise_exception(db.session.get(Shipment, shipment.id), a.REFUSED)
            db.session.commit()
            exception_id = exception.id
        return client, client.get(f"/logistics/exceptions/{exception_id}").get_data(as_text=True), exception_id

    _client_, alone, _id = _exception_page(make_app(plugins=["orders", "logistics"]))
    assert 'data-testid="resolve-reship"' in alone
    for hidden in ("resolve-cancel_refund", "resolve-return_to_stock", "contact-form"):
        assert hidden not in alone
    spy.reset()
    client, everything, exception_id = _exception_page(make_app(plugins=["orders", "logistics",
                                                                          "lspy=tests.logistics.spy_plugin"]))
    for shown in ("resolve-reship", "resolve-cancel_refund", "resolve-return_to_stock", "contact-form"):
        assert shown in everything
    response = client.post(f"/logistics/exceptions/{exception_id}/contact", data={"message": "Call them"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "TK-000003" in page and "contact-form" not in page
    response = client.post(f"/logistics/exceptions/{exception_id}/resolve",
                           data={"resolution": "cancel_refund", "note": "refund it"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Exception resolved: Cancel and refund" in page and "Refund #7" in page
    again = client.post(f"/logistics/exceptions/{exception_id}/resolve", data={"resolution": "reship"})
    assert "resolved already" in client.get(again.headers["Location"]).get_data(as_text=True)
    spy.reset()


def test_staff_event_and_exception_forms(app, admin):
    order_id, _lines, _demo, manual = _setup(app)
    with app.test_request_context():
        shipment = ship(db.session.get(Order, order_id), db.session.get(Carrier, manual))
        shipment_id = shipment.id
    response = admin.post(f"/logistics/shipments/{shipment_id}/events",
                          data={"status": "delivered", "occurred_at": "2999-01-01T10:00"})
    assert "cannot be in the future" in admin.get(response.headers["Location"]).get_data(as_text=True)
    response = admin.post(f"/logistics/shipments/{shipment_id}/exception", data={"kind": "lost", "note": "gone",
                                                                                "owner_id": "", "due_date": ""})
    assert "/logistics/exceptions/" in response.headers["Location"]
    exception_page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Exception raised" in exception_page
    again = admin.post(f"/logistics/shipments/{shipment_id}/exception", data={"kind": "damaged"})
    assert "already has an open exception" in admin.get(again.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        exception_id = db.session.query(DeliveryException).one().id
    bad = admin.post(f"/logistics/exceptions/{exception_id}", data={"owner_id": "", "due_date": "", "note": ""})
    assert bad.status_code == 200 and "is-invalid" in bad.get_data(as_text=True)


def test_order_panel_actions_and_manual_shipping(app):
    order_id, (pen, _ink), demo, _manual = _setup(app)
    user_id = make_user(app, perms=["logistics.view", "logistics.ship", "orders.ship", "orders.view"])
    viewer_id, nobody_id = make_user(app, perms=["logistics.view"]), make_user(app)
    with app.test_request_context():
        from erp_core.auth.models import User

        user = db.session.get(User, user_id)
        order = db.session.get(Order, order_id)
        manager = app.extensions["erp_plugins"]
        actions = [a for group in manager.hook.erp_order_actions(order=order, user=user) for a in group]
        assert [a["url"] for a in actions] == [f"/logistics/orders/{order_id}/ship"]
        assert "mark_shipped" not in [a.name for a in orders.available_actions(order, user)]
        ship(order, db.session.get(Carrier, demo), {pen: 5})
        order = db.session.get(Order, order_id)
        panels = [p for group in manager.hook.erp_order_panels(order=order, user=user) for p in group]
        (html,) = [r.html for r in render_contributions(panels)]
        assert "SH-" in html and "DEX" in html and "2 items left to ship" in html
        assert 'href="/logistics/track/demo-express/' in html
        viewer = db.session.get(User, viewer_id)
        assert [g for g in manager.hook.erp_order_actions(order=order, user=viewer) if g] == []
        nobody = db.session.get(User, nobody_id)
        assert [p for g in manager.hook.erp_order_panels(order=order, user=nobody) for p in g] == []


def test_public_panel_shows_what_the_customer_may_see(app):
    order_id, (pen, ink), demo, manual = _setup(app)
    with app.test_request_context():
        order = db.session.get(Order, order_id)
        first = ship(order, db.session.get(Carrier, demo), {pen: 5}, notes="fragile, internal note")
        second = ship(order, db.session.get(Carrier, manual), {ink: 2})
        services.add_staff_event(db.session.get(Shipment, second.id), a.PICKED_UP, None,
                                 "driver Wang owes us money", "Dock 3")
        services.create_replacement(order, {order.lines[0].product_id: 1}, "internal reason", "support_return", 1)
        db.session.commit()
        manager = app.extensions["erp_plugins"]
        panels = [p for group in manager.hook.erp_order_public_panels(order=db.session.get(Order, order_id))
                  for p in group]
        (html,) = [r.html for r in render_contributions(panels)]
    assert first.number in html and second.number in html
    assert "https://carrier.example/t?n=SF" in html  # the manual carrier's link template
    assert "Dock 3" in html and "driver Wang" not in html and "internal note" not in html
    assert "internal reason" not in html and html.count('class="mb-3"') == 2  # the pending replacement is not shown


def test_dashboard_widget(app, admin):
    order_id, _lines, demo, _manual = _setup(app)
    with app.test_request_context():
        late_order = make_order()
        late_order.promised_date = services.utcnow() - timedelta(days=2)
        late_number = late_order.number
        db.session.commit()
        shipment = ship(db.session.get(Order, order_id), db.session.get(Carrier, demo))
        services.raise_exception(db.session.get(Shipment, shipment.id), a.LOST)
        db.session.commit()
    page = admin.get("/dashboard").get_data(as_text=True)
    assert "Shipments needing attention" in page and 'data-testid="logistics-widget"' in page
    assert "Lost" in page and late_number in page
    assert "logistics-widget" not in _client(app, perms=["orders.view"]).get("/dashboard").get_data(as_text=True)


def test_label_download_and_demo_tracking_page(app, admin):
    order_id, _lines, demo, _manual = _setup(app)
    with app.test_request_context():
        shipment = ship(db.session.get(Order, order_id), db.session.get(Carrier, demo))
        shipment = db.session.get(Shipment, shipment.id)
        number, shipment_id = shipment.tracking_number, shipment.id
    label = admin.get(f"/logistics/shipments/{shipment_id}/label")
    assert label.status_code == 200 and label.mimetype == "image/svg+xml"
    assert "attachment" in label.headers["Content-Disposition"]
    assert label.headers["Content-Security-Policy"].startswith("default-src 'none'")
    anonymous = app.test_client()
    page = anonymous.get(f"/logistics/track/demo-express/{number}")
    assert page.status_code == 200 and number in page.get_data(as_text=True)
    assert anonymous.get("/logistics/track/demo-express/DEX000").status_code == 404
    with app.app_context():
        services.set_carrier_enabled(db.session.get(Carrier, demo), False)
        db.session.commit()
    assert anonymous.get(f"/logistics/track/demo-express/{number}").status_code == 404


def test_pages_in_chinese(app, admin):
    _many_shipments(app, 2)
    admin.post("/language", data={"lang": "zh_CN", "next": "/logistics/"})
    page = admin.get("/logistics/").get_data(as_text=True)
    assert "发货单" in page and "运输中" in page and "快递单号" in page
    assert "配送异常" in admin.get("/logistics/exceptions/").get_data(as_text=True)


@pytest.mark.parametrize("url,shown", [("javascript:alert(1)", False), ("//evil.example/x", False),
                                       ("data:text/html,hi", False), ("https://carrier.example/t/1", True),
                                       ("/logistics/track/x", True)])
def test_only_web_links_reach_the_customer(app, monkeypatch, url, shown):
    from plugins.logistics.builtin_adapters import ManualAdapter

    monkeypatch.setattr(ManualAdapter, "tracking_url", lambda self, number: url)
    with app.test_request_context():
        _demo, manual = make_carriers()
        shipment = ship(make_order(), manual)
        assert (services.tracking_link(shipment) == url) is shown


def test_two_clerks_shipping_the_last_units_at_once(app):
    """Both forms were drawn when 5 were left; each ships 3. One wins, the other is told why."""
    import threading

    order_id, (pen, _ink), _demo, manual = _setup(app)
    user_id = make_user(app, roles=["admin"])
    clients = []
    for _ in range(2):
        client = app.test_client()
        login(client, app, user_id)
        clients.append(client)
    barrier = threading.Barrier(2)
    results = [None, None]

    def post(index):
        barrier.wait()
        response = clients[index].post(f"/logistics/orders/{order_id}/ship", data={
            "carrier_id": manual, "carrier_name": "SF", "tracking_number": f"SF-RACE-{index}",
            f"qty-{pen}": "3", "request_key": f"race-{index}"})
        results[index] = (response.status_code, response.get_data(as_text=True))

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(code for code, _page in results)
    assert codes == [200, 302]
    refused = next(page for code, page in results if code == 200)
    assert "only 2 left to ship" in refused
    with app.app_context():
        assert [s.lines[0].quantity for s in db.session.query(Shipment)] == [3]


def test_a_named_manual_carrier_does_not_ask_for_the_carriers_name(app, admin):
    order_id, (pen, ink), _demo, _manual = _setup(app)
    with app.test_request_context():
        named = services.create_carrier("SF Express", "sf", "manual_named", {})
        db.session.commit()
        named_id = named.id
    page = admin.get(f"/logistics/orders/{order_id}/ship").get_data(as_text=True)
    option = re.search(rf'<option value="{named_id}"[^>]*>', page).group(0)
    assert 'data-asks-name="0"' in option and 'data-show-when="asks-name"' in page
    form = {"carrier_id": named_id, "carrier_name": "", "tracking_number": "SF-300400", f"qty-{pen}": "1",
            f"qty-{ink}": "0", "request_key": "named-1", "packages": "1"}
    response = admin.post(f"/logistics/orders/{order_id}/ship", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        shipment = db.session.query(Shipment).one()
        assert shipment.carrier_name == "" and shipment.carrier_display == "SF Express"
