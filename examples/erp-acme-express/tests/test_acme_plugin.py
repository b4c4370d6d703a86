"""The installed package as a site sees it: found by its entry point, listed on the admin page,
switched off and on, and used by logistics end to end against the fake carrier."""

from __future__ import annotations

import json
from datetime import timedelta
from importlib import metadata
from pathlib import Path

from sqlalchemy import select

import erp_acme_express
from acme_fake_server import sign
from erp_core import i18n_tools
from erp_core.extensions import db
from erp_core.testing import assert_catalog_complete, login, make_user
from erp_core.timeutil import utcnow

NAME = "acme_express"


def admin_client(app):
    client = app.test_client()
    login(client, app, make_user(app, roles=["admin"]))
    return client


def test_the_package_declares_its_entry_point():
    [entry] = [ep for ep in metadata.entry_points(group="erp.plugins") if ep.name == NAME]
    assert entry.value == "erp_acme_express" and entry.dist.name == "erp-acme-express"


def test_it_is_discovered_through_the_entry_point_not_the_configuration(make_site):
    app = make_site()
    assert all(NAME not in entry for entry in app.config["PLUGINS"])
    record = app.extensions["erp_plugins"].records[NAME]
    assert record.loaded and not record.builtin
    assert record.source == "entry point erp_acme_express (erp-acme-express 0.1.0)"
    with app.app_context():
        assert NAME in app.extensions["erp_plugins"].enabled()
    without = make_site(LOAD_ENTRY_POINTS=False)  # the same site, entry points off: no ACME
    assert NAME not in without.extensions["erp_plugins"].records


def test_it_needs_logistics(make_site):
    app = make_site(plugins=["orders"])
    [failed] = [r for r in app.extensions["erp_plugins"].failed if r.name == NAME]
    assert "'logistics'" in failed.error


def test_the_admin_page_lists_it_and_switching_it_off_removes_its_adapter(make_site, acme):
    app = make_site()
    client = admin_client(app)
    _add_carrier(client, acme)
    assert client.get("/logistics/carriers/1").status_code == 200
    page = client.get("/admin/plugins").get_data(as_text=True)
    assert f'data-plugin="{NAME}"' in page and "ACME Express" in page and "erp-acme-express 0.1.0" in page
    assert 'data-testid="adapter-acme_express"' in client.get("/logistics/carriers/new").get_data(as_text=True)
    assert "api_url" in client.get("/logistics/carriers/new?adapter=acme_express").get_data(as_text=True)

    assert client.post(f"/admin/plugins/{NAME}/disable").status_code == 302
    page = client.get("/admin/plugins").get_data(as_text=True)
    assert f'data-testid="enable-{NAME}"' in page  # still listed, now off
    choices = client.get("/logistics/carriers/new").get_data(as_text=True)
    assert "adapter-acme_express" not in choices and "adapter-demo_express" in choices
    # asking for its form directly only shows the remaining choices
    assert "api_url" not in client.get("/logistics/carriers/new?adapter=acme_express").get_data(as_text=True)
    # the carrier configured with it stays, but cannot be used until the plugin is back
    edit = client.get("/logistics/carriers/1", follow_redirects=True).get_data(as_text=True)
    assert "uses the adapter acme_express, which is not installed or switched off" in edit

    assert client.post(f"/admin/plugins/{NAME}/enable").status_code == 302
    assert "adapter-acme_express" in client.get("/logistics/carriers/new").get_data(as_text=True)


def test_only_a_plugin_manager_may_switch_it(make_site):
    app = make_site()
    client = app.test_client()
    login(client, app, make_user(app, perms=["logistics.carriers"]))
    assert client.post(f"/admin/plugins/{NAME}/disable").status_code == 403
    with app.app_context():
        assert NAME in app.extensions["erp_plugins"].enabled()


def test_it_speaks_chinese(make_site):
    client = admin_client(make_site())
    page = client.get("/logistics/carriers/new", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "ACME 快递" in page
    form = client.get("/logistics/carriers/new?adapter=acme_express",
                      headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "API 地址" in form


def test_its_catalog_is_complete_compiled_and_agrees_with_the_erps():
    assert_catalog_complete(erp_acme_express, agree_with_erp=True)
    # The agreement is checked on real shared terms: "Account number" and "API key" are logistics' too.
    ours = {m.id for m in i18n_tools.load_po(i18n_tools.po_path(Path(erp_acme_express.__file__).parent, "zh_Hans_CN"),
                                             "zh_Hans_CN") if m.id}
    assert {"Account number", "API key"} <= ours


def test_migrations_run_with_it_installed(make_site):
    """It ships no tables: the ERP's migrations run as before and it loads."""
    app = make_site(migrate=True)
    with app.app_context():
        assert NAME in app.extensions["erp_plugins"].enabled()


# ----------------------------------------------------------------------------- end to end


def _order():
    from plugins.orders import services as orders
    from plugins.orders import states
    from plugins.orders.services import LineInput, OrderInput

    customer = orders.create_customer("韩梅梅", "139 0000 0000")
    product = orders.create_product("TEA-1", "Green tea", "25.00", "CNY")
    order = orders.create_order(OrderInput(customer_id=customer.id, ship_line1="88 Century Avenue",
                                           ship_city="Shanghai", currency="CNY",
                                           lines=[LineInput(product.id, 3)]))
    orders.transition(order, states.CONFIRMED)
    db.session.commit()
    return order


def _add_carrier(client, acme, code="acme"):
    response = client.post("/logistics/carriers/new?adapter=acme_express", data={
        "name": "ACME Express", "code": code, "enabled": "y", "cred_api_url": acme.url + "/",
        "cred_account": acme.credentials()["account"], "cred_api_key": acme.credentials()["api_key"]})
    assert response.status_code == 302, response.get_data(as_text=True)


def _ship(app, order_id):
    from plugins.logistics import services
    from plugins.logistics.models import Carrier
    from plugins.orders.models import Order

    carrier = db.session.scalar(select(Carrier).where(Carrier.code == "acme"))
    order = db.session.get(Order, order_id)
    shipment = services.create_shipment(order, services.ShipmentInput(
        carrier_id=carrier.id, quantities={line.id: str(line.quantity) for line in order.lines}))
    db.session.commit()  # the registration job runs after commit (inline in tests)
    return shipment.id, carrier


def test_a_shipment_is_registered_tracked_and_pushed_through_acme(make_site, acme):
    from plugins.logistics import jobs, services
    from plugins.logistics import public as logistics_public
    from plugins.logistics.models import Shipment

    app = make_site()
    client = admin_client(app)
    _add_carrier(client, acme)
    with app.test_request_context():
        order_id = _order().id
        shipment_id, carrier = _ship(app, order_id)
        shipment = db.session.get(Shipment, shipment_id)
        number = shipment.tracking_number
        assert shipment.registration == "done" and number == "AE100000001CN"
        assert shipment.label_type == "application/pdf" and shipment.label_data.startswith(b"%PDF")
        assert acme.acme.shipments[number]["reference"] == shipment.number
        assert services.tracking_link(shipment) == f"{acme.url}/track/{number}"
        secret = logistics_public.webhook_secret(carrier)

        now = utcnow().replace(microsecond=0)
        acme.acme.add_event(number, "PICKED_UP", now + timedelta(minutes=1), "Picked up", "Shanghai")
        acme.acme.add_event(number, "EXCEPTION", now + timedelta(minutes=2), "Nobody at home", "Pudong",
                            reason="BAD_ADDRESS")
        assert jobs.sync_shipment(shipment_id) == {"new": 3, "duplicate": 0}
        shipment = db.session.get(Shipment, shipment_id)
        assert shipment.status == "exception"

    # ACME pushes the delivery, signed with the carrier's webhook secret
    body = json.dumps({"type": "tracking.updated", "events": [
        {"id": f"{number}-9", "tracking_number": number, "code": "DELIVERED", "reason": None,
         "time": (now + timedelta(minutes=3)).isoformat(), "description": "Signed for", "location": "Pudong"}]}).encode()
    web = app.test_client()
    assert web.post("/logistics/webhooks/acme", data=body, headers={"X-Acme-Signature": sign("wrong", body)}
                    ).status_code == 401
    answer = web.post("/logistics/webhooks/acme", data=body, headers={"X-Acme-Signature": sign(secret, body),
                                                                      "Content-Type": "application/json"})
    assert answer.status_code == 200 and answer.get_json()["new"] == 1
    assert web.post("/logistics/webhooks/acme", data=body, headers={"X-Acme-Signature": sign(secret, body)}
                    ).get_json()["duplicate"] == 1
    with app.app_context():
        assert db.session.get(Shipment, shipment_id).status == "delivered"
    page = client.get(f"/logistics/shipments/{shipment_id}").get_data(as_text=True)
    assert f"{acme.url}/track/{number}" in page and "Signed for" in page
    # its panel on the shipment page (erp_shipment_panels): the card's body is the package's template
    panel = page.split('data-testid="acme-panel"')[1].split("</dl>")[0]
    assert acme.credentials()["account"] in panel and "Registered with ACME" in panel and "PDF ready" in panel


def test_a_carrier_failure_is_shown_on_the_shipment_and_can_be_retried(make_site, acme):
    from plugins.logistics import services
    from plugins.logistics.models import Shipment

    app = make_site()
    client = admin_client(app)
    _add_carrier(client, acme)
    acme.acme.fail_with = "500"
    with app.test_request_context():
        shipment_id, _carrier = _ship(app, _order().id)
        shipment = db.session.get(Shipment, shipment_id)
        assert shipment.registration == "failed" and shipment.tracking_number is None
        assert shipment.registration_error == "ACME Express had a server error (HTTP 500); try again later."
    page = client.get(f"/logistics/shipments/{shipment_id}").get_data(as_text=True)
    assert "ACME Express had a server error (HTTP 500); try again later." in page
    panel = page.split('data-testid="acme-panel"')[1].split("</dl>")[0]
    assert "Failed: ACME Express had a server error" in panel and "Not yet" in panel

    acme.acme.fail_with = None
    assert client.post(f"/logistics/shipments/{shipment_id}/register").status_code == 302
    with app.app_context():
        shipment = db.session.get(Shipment, shipment_id)
        assert shipment.registration == "done" and shipment.tracking_number == "AE100000001CN"
        assert services.tracking_link(shipment).endswith("/track/AE100000001CN")


def test_other_carriers_shipments_get_no_acme_panel(make_site, acme):
    from plugins.logistics import public as logistics_public
    from plugins.logistics.services import ShipmentInput, create_shipment
    from plugins.orders.models import Order

    app = make_site()
    client = admin_client(app)
    with app.test_request_context():
        order = db.session.get(Order, _order().id)
        other = logistics_public.create_carrier("Other", "other", "manual", {})
        shipment = create_shipment(order, ShipmentInput(
            carrier_id=other.id, quantities={line.id: str(line.quantity) for line in order.lines},
            carrier_name="SF Express", tracking_number="SF123456"))
        db.session.commit()
        shipment_id = shipment.id
    page = client.get(f"/logistics/shipments/{shipment_id}").get_data(as_text=True)
    assert "SF123456" in page and "acme-panel" not in page
    # without logistics.view there is no shipment page at all, so no panel either
    plain = app.test_client()
    login(plain, app, make_user(app, perms=["orders.view"]))
    assert plain.get(f"/logistics/shipments/{shipment_id}").status_code == 403
