"""The administrator's "set up your company" checklist on the dashboard: steps from the core and
the enabled plugins, ticked when done, each linking to its page; gone when everything is done."""

from __future__ import annotations

import re

from erp_core import settings
from erp_core.extensions import db
from tests.helpers import login, make_user

ALL = ["orders", "inventory", "logistics", "finance", "support"]


def _steps(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-testid="setup-step-([a-z_]+)" data-done="(yes|no)"', page))


def _admin(app):
    client = app.test_client()
    login(client, app, make_user(app, roles=["admin"]))
    return client


def test_admin_sees_what_is_left_to_set_up_with_links(make_app):
    app = make_app(plugins=ALL)
    page = _admin(app).get("/dashboard").get_data(as_text=True)
    assert 'data-testid="setup-checklist"' in page
    assert _steps(page) == {"company": "no", "mail": "no", "payment_methods": "yes", "carriers": "no",
                            "support_hours": "no"}
    assert 'href="/logistics/carriers/"' in page and 'href="/admin/settings"' in page


def test_staff_without_the_settings_permission_do_not_see_it(make_app):
    app = make_app(plugins=ALL)
    client = app.test_client()
    login(client, app, make_user(app, perms=["orders.view"]))
    assert 'data-testid="setup-checklist"' not in client.get("/dashboard").get_data(as_text=True)


def test_hook_erp_setup_checklist(make_app):
    """Each enabled plugin adds its steps; the steps of a switched-off plugin are left out."""
    app = make_app(plugins=ALL, enabled=["orders", "support"])
    page = _admin(app).get("/dashboard").get_data(as_text=True)
    assert set(_steps(page)) == {"company", "mail", "support_hours"}


def test_steps_tick_when_done_and_the_card_goes_when_all_are(make_app):
    from plugins.logistics import services as logistics

    app = make_app(plugins=ALL, MAIL_SERVER="127.0.0.1", MAIL_FROM="shop@example.com")
    with app.test_request_context():
        settings.set_many({"company.legal_name": "茗香茶具有限公司", "company.address": "上海市黄浦区南京东路1号",
                           "company.phone": "021-12345678"})
        logistics.create_carrier("Demo Express", "demo-express", "demo_express",
                                 {"account": "DEMO-1", "api_key": "test-api-key"})
        db.session.commit()
    admin = _admin(app)
    steps = _steps(admin.get("/dashboard").get_data(as_text=True))
    assert steps["company"] == "no" and steps["mail"] == "yes"  # the e-mail is still missing
    assert steps["carriers"] == "no"  # the simulated carrier does not count
    with app.test_request_context():
        settings.set_many({"company.email": "info@example.com", "support.hours_text.zh_CN": "每天 8:00-22:00"})
        logistics.create_carrier("SF Express", "sf", "manual", {"tracking_url_template": "https://sf.example/{number}"})
        db.session.commit()
    assert 'data-testid="setup-checklist"' not in admin.get("/dashboard").get_data(as_text=True)


def test_demo_gateway_alone_does_not_count_as_a_payment_method(make_app):
    app = make_app(plugins=ALL)
    with app.test_request_context():
        settings.set_many({"finance.method.cash": False, "finance.method.bank_transfer": False,
                           "finance.method.demo_gateway": True})
        db.session.commit()
    assert _steps(_admin(app).get("/dashboard").get_data(as_text=True))["payment_methods"] == "no"
