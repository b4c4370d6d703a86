"""The header search's answer of support: tickets by number."""

from __future__ import annotations

from erp_core.extensions import db
from plugins.support import services
from plugins.support.services import TicketInput
from tests.helpers import login, make_user


def _page(app, perms, query):
    client = app.test_client()
    login(client, app, make_user(app, perms=perms))
    return client.get("/search", query_string={"q": query}).get_data(as_text=True)


def test_tickets_are_found_by_number(support_app):
    with support_app.test_request_context():
        ticket = services.open_ticket(TicketInput(subject="<script>alert(1)</script> parcel", body="Hello"))
        db.session.commit()
        number, ticket_id = ticket.number, ticket.id
    page = _page(support_app, ["support.tickets.view"], number.lower())
    assert f'/support/tickets/{ticket_id}"' in page and 'data-testid="search-group-ticket"' in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    page = _page(support_app, ["orders.view"], number)
    assert 'data-testid="search-group-ticket"' not in page
