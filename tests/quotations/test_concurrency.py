"""Under concurrency, on SQLite and PostgreSQL: two acceptances of one quotation at the same
instant (the customer's link and a staff member) make exactly one order; numbers stay gap-free."""

import re

import pytest

from erp_core.errors import Conflict
from erp_core.extensions import db
from plugins.orders.public import Order
from plugins.quotations import services, states
from plugins.quotations.models import Quotation
from tests.helpers import in_threads
from tests.quotations.common import PLUGINS, make_quotation, quote_input, setup_data

THREADS = 6


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS)


def test_simultaneous_acceptances_make_exactly_one_order(app):
    with app.test_request_context():
        data = setup_data()
        quotation = make_quotation(data)
        quotation_id, token = quotation.id, services.token_of(quotation)

    def accept(i):
        if i % 2:  # the customer's link
            return services.accept(services.find_by_token(quotation_id, token), by_customer=True).number
        return services.accept(services.get_quotation(quotation_id)).number  # staff

    results = in_threads(app, THREADS, accept)
    made = [r for r in results.values() if isinstance(r, str)]
    refused = [r for r in results.values() if isinstance(r, Conflict)]
    assert len(made) == 1 and len(refused) == THREADS - 1, results
    with app.app_context():
        assert db.session.query(Order).count() == 1
        quotation = db.session.get(Quotation, quotation_id)
        assert quotation.status == states.ACCEPTED and quotation.order_id is not None


def test_concurrent_quotations_get_distinct_consecutive_numbers(app):
    with app.test_request_context():
        data = setup_data()

    results = in_threads(app, THREADS, lambda _i: services.create_quotation(quote_input(data)).number)
    numbers = sorted(results.values())
    assert [int(re.fullmatch(r"QUO-\d{4}-(\d{6})", n).group(1)) for n in numbers] == list(range(1, THREADS + 1))
