"""Defects found by the security review of the stock pages that show goods on order."""

import pytest

from tests.helpers import login, make_user
from tests.purchasing.common import PLUGINS


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS)


@pytest.mark.parametrize("value", ["9" * 30, "²"])
@pytest.mark.parametrize("page", ["/inventory/", "/inventory/alerts", "/inventory/replenishment"])
def test_a_warehouse_filter_naming_no_warehouse_is_no_500(app, page, value):
    client = app.test_client()
    login(client, app, make_user(app, roles=("admin",)))
    assert client.get(f"{page}?warehouse={value}").status_code == 200
