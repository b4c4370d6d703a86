"""Logistics names the delivery exceptions other plugins' records were caused by
(``erp_source_labels``): a ticket opened to contact the customer says which exception asked."""

import re

import pytest

from erp_core.extensions import db
from plugins.logistics import adapters as a
from plugins.logistics import services
from plugins.orders.public import source_labels
from plugins.support.models import Ticket
from tests.helpers import login, make_user
from tests.logistics.conftest import make_carriers, make_order, ship


@pytest.fixture
def both_app(make_app):
    return make_app(plugins=["orders", "logistics", "support"])


def _ticket_for_exception(app):
    with app.test_request_context():
        _demo, manual = make_carriers()
        order = make_order(lines=((5, "PEN"),))
        shipment = ship(order, manual, {order.lines[0].id: 5})
        exception = services.raise_exception(shipment, a.ADDRESS_PROBLEM, "house number missing")
        db.session.commit()
        services.contact_customer(exception, "Please ask for the house number.")
        db.session.commit()
        ticket = db.session.query(Ticket).one()
        return ticket.id, exception.id, shipment.number


@pytest.mark.parametrize("lang, words", [("en", "Delivery exception on"), ("zh_CN", "的配送异常")])
def test_the_ticket_links_the_exception_that_asked(both_app, lang, words):
    ticket_id, exception_id, number = _ticket_for_exception(both_app)
    client = both_app.test_client()
    login(client, both_app, make_user(both_app, roles=["admin"]))
    client.post("/language", data={"lang": lang})
    html = client.get(f"/support/tickets/{ticket_id}").get_data(as_text=True)
    cell = re.search(r'data-testid="ticket-source"><a href="([^"]+)">([^<]+)</a>', html)
    assert cell and words in cell.group(2) and number in cell.group(2), html
    assert cell.group(1) == f"/logistics/exceptions/{exception_id}" and "logistics_exception" not in html
    assert client.get(cell.group(1)).status_code == 200


def test_hook_erp_source_labels(both_app):
    """Each plugin answers for its own source type only; ids that are not its records (not a
    number, too large, missing, another type's) are left unanswered."""
    _ticket, exception_id, _number = _ticket_for_exception(both_app)
    with both_app.test_request_context():
        answer = source_labels([("logistics_exception", exception_id), ("logistics_exception", "x1"),
                                ("logistics_exception", 10 ** 30), ("logistics_exception", None),
                                ("support_return", exception_id)])
    assert list(answer) == [("logistics_exception", str(exception_id))]
