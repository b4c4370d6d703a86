"""Purchasing's payables report under Finance > Reports (finance's ``erp_finance_reports``),
still reachable from Purchasing; links only for readers who may open them."""

import pytest

from erp_core.contrib import NavItem
from tests.helpers import login, make_user
from tests.purchasing.common import PLUGINS


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS + ["finance"])


def _client(app, perms=None, locale=None):
    client = app.test_client()
    login(client, app, make_user(app, perms=perms or (), roles=() if perms else ("admin",), locale=locale))
    return client


def test_hook_erp_finance_reports(app):
    with app.test_request_context():
        answers = app.extensions["erp_plugins"].hook.erp_finance_reports()
    items = [item for answer in answers for item in answer]
    assert [(type(i), i.endpoint, i.permission) for i in items] == [(NavItem, "purchasing.payables", "purchasing.view")]


@pytest.mark.parametrize(("language", "word"), [("en", "Payables"), ("zh_CN", "应付账款")])
def test_payables_appear_in_finance_reports(app, language, word):
    client = _client(app, locale=language)
    for url in ("/finance/reports", "/finance/reports/takings"):
        body = client.get(url).get_data(as_text=True)
        assert 'data-testid="other-report"' in body and 'href="/purchasing/payables"' in body and word in body, url
    assert client.get("/purchasing/payables").status_code == 200
    assert 'href="/purchasing/payables"' in client.get("/purchasing/").get_data(as_text=True)


def test_readers_without_purchasing_view_see_no_link_and_get_403(app):
    client = _client(app, perms=("finance.reports.view",))
    body = client.get("/finance/reports").get_data(as_text=True)
    assert "/purchasing/payables" not in body and 'data-testid="other-report"' not in body
    assert client.get("/purchasing/payables").status_code == 403
    assert client.get("/purchasing/payables.csv").status_code == 403
    assert _client(app, perms=("purchasing.view",)).get("/finance/reports").status_code == 403


def test_without_purchasing_finance_reports_are_unchanged(app, erp_plugin_off):
    erp_plugin_off(app, "purchasing")
    client = _client(app)
    body = client.get("/finance/reports").get_data(as_text=True)
    assert client.get("/purchasing/payables").status_code == 404
    assert "/purchasing/payables" not in body and 'data-testid="other-report"' not in body
