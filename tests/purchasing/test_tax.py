"""Tax on purchase order lines: each line takes its product's VAT rate and stores the amounts of
the orders plugin's one rule (unit prices include tax); the page, the print and the API show them."""

from decimal import Decimal

import pytest

from erp_core import settings as site_settings
from erp_core.extensions import db
from plugins.orders import services as orders
from plugins.orders import tax
from plugins.orders.models import TaxRate
from plugins.orders.tax import line_amounts
from plugins.purchasing import services
from tests.helpers import login, make_user
from tests.purchasing.common import PLUGINS, setup_data
from tests.purchasing.test_rest_api import API, PERMS, token_for


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS)


def _rate(percent, exempt=False) -> TaxRate:
    return db.session.query(TaxRate).filter_by(percent=Decimal(percent), exempt=exempt).one()


def _po_with_rates(data: dict):
    """P-001 at 13 %, P-002 exempt, P-003 without a rate of its own (the default: 6 %)."""
    tax.seed_rates()
    products = [orders.get_product(pid) for pid in data["products"]]
    products[0].tax_rate_id = _rate("13").id
    products[1].tax_rate_id = _rate("0", exempt=True).id
    site_settings.set_many({"orders.default_tax_rate": str(_rate("6").id)})
    supplier = services.get_supplier(data["supplier"])
    lines = [services.LineInput("P-001", 3, "9.99"), services.LineInput("P-002", 2, "10"),
             services.LineInput("P-003", 1, "10.60")]
    po = services.create_po(supplier, data["warehouse"], lines)
    db.session.commit()
    return po


def test_lines_take_the_products_rate_and_the_one_rule(app):
    with app.test_request_context():
        po = _po_with_rates(setup_data())
        got = [(line.tax_rate_percent, line.tax_exempt, line.net_minor, line.tax_minor, line.gross_minor)
               for line in po.lines]
        assert got == [(Decimal("13"), False, 2652, 345, 2997), (Decimal("0"), True, 2000, 0, 2000),
                       (Decimal("6"), False, 1000, 60, 1060)]
        assert line_amounts(3, 999, 0, 13, True).tax == po.lines[0].tax_minor
        assert (po.tax_minor, po.total_minor) == (405, 2997 + 2000 + 1060)
        assert services.totals_of([po.id]) == {po.id: 6057}


def test_without_a_rate_a_line_carries_no_tax_and_a_draft_change_takes_the_new_rate(app):
    with app.test_request_context():
        data = setup_data()
        site_settings.set_many({"orders.default_tax_rate": ""})
        supplier = services.get_supplier(data["supplier"])
        po = services.create_po(supplier, data["warehouse"], [services.LineInput("P-001", 2, "5")])
        assert (po.lines[0].tax_rate_percent, po.lines[0].tax_minor, po.lines[0].gross_minor) == (0, 0, 1000)
        tax.seed_rates()
        orders.get_product(data["products"][0]).tax_rate_id = _rate("9").id
        services.update_draft(po, data["warehouse"], [services.LineInput("P-001", 2, "5")])
        assert (po.lines[0].tax_rate_percent, po.lines[0].tax_minor, po.tax_minor) == (Decimal("9"), 83, 83)


def test_a_deactivated_default_rate_no_longer_applies(app):
    with app.test_request_context():
        data = setup_data()
        tax.seed_rates()
        six = _rate("6")
        site_settings.set_many({"orders.default_tax_rate": str(six.id)})
        six.active = False
        po = services.create_po(services.get_supplier(data["supplier"]), data["warehouse"],
                                [services.LineInput("P-003", 1, "10")])
        assert (po.lines[0].tax_rate_percent, po.lines[0].tax_minor) == (0, 0)


@pytest.mark.parametrize("language,exempt", [("en", "Exempt"), ("zh_CN", "免税")])
def test_page_and_print_show_rate_and_tax(app, language, exempt):
    with app.test_request_context():
        po_id = _po_with_rates(setup_data()).id
    client = app.test_client()
    login(client, app, make_user(app, roles=("admin",)))
    for url in (f"/purchasing/orders/{po_id}", f"/purchasing/orders/{po_id}/print?lang={language}"):
        body = client.get(url, headers={"Accept-Language": language}).get_data(as_text=True)
        assert "13%" in body and "6%" in body and exempt in body, url
        assert "3.45" in body and "4.05" in body and "60.57" in body, url
        assert "None" not in body


def test_api_gives_rate_and_tax_like_orders(app):
    with app.test_request_context():
        po_id = _po_with_rates(setup_data()).id
    client = app.test_client()
    body = client.get(f"{API}/purchase-orders/{po_id}", headers=token_for(app, PERMS)).json
    assert [(line["tax_rate"], line["net_minor"], line["tax_minor"], line["gross_minor"]) for line in body["lines"]] == [
        ("13", 2652, 345, 2997), ("exempt", 2000, 0, 2000), ("6", 1000, 60, 1060)]
    assert (body["tax_minor"], body["total_minor"], body["total"]) == (405, 6057, "60.57")
