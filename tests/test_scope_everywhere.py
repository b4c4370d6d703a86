"""The "own customers only" scope (``orders.scope.own``) beyond the orders pages: the header
search (orders, customers, shipments, tickets), bulk actions and the other plugins' lists."""

from __future__ import annotations

import pytest
from flask import url_for

from erp_core.extensions import db
from plugins.orders import services as orders
from plugins.orders import states as order_states
from plugins.orders.testing import make_order
from tests.helpers import login, make_user

SCOPED = ["orders.view", "orders.edit", "orders.export", "orders.create", "orders.customers.view", "logistics.view",
          "support.tickets.view", "support.returns.view", "orders.scope.own"]


@pytest.fixture
def app(make_app):
    return make_app(plugins=["orders", "logistics", "support"])


@pytest.fixture
def world(app):
    """Seller owns "Mine Ltd" (an order, a shipment, a ticket); "Theirs Co" has the same."""
    from plugins.logistics import services as logistics
    from plugins.support import returns
    from plugins.support.services.tickets import TicketInput, open_ticket
    from tests.logistics.conftest import make_carriers, ship

    seller = make_user(app, perms=SCOPED)
    ids = {"seller": seller}
    with app.test_request_context():
        _demo, manual = make_carriers()
        for key, name in (("mine", "Mine Ltd"), ("theirs", "Theirs Co")):
            customer = orders.create_customer(name, "", "")
            if key == "mine":
                orders.set_owner(customer, seller)
            order = make_order(customer=customer, status=order_states.CONFIRMED)
            shipment = ship(order, manual)
            ticket = open_ticket(TicketInput(subject=f"Help {name}", body="Where?", order_id=order.id,
                                             customer_id=customer.id, contact_name=name))
            delivered = make_order(customer=customer, status=order_states.DELIVERED)
            rma = returns.create_return(delivered, "refund", "damaged", "", {delivered.lines[0].id: 1})
            db.session.commit()
            ids[key] = {"return": rma.number, "return_id": rma.id,"customer": customer.id, "order": order.id, "number": order.number,
                        "shipment": shipment.number, "shipment_id": shipment.id, "ticket": ticket.number, "ticket_id": ticket.id,
                        "links": {"number": url_for("orders.detail", order_id=order.id),
                                  "shipment": url_for("logistics.shipment", shipment_id=shipment.id),
                                  "ticket": url_for("support.ticket", ticket_id=ticket.id),
                                  "customer": url_for("orders_customers.detail", customer_id=customer.id)}}
        assert logistics  # imported for its models
    return ids


def _client(app, user_id):
    client = app.test_client()
    login(client, app, user_id)
    return client


def _search(client, query):
    page = client.get("/search", query_string={"q": query})
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_the_header_search_shows_a_scoped_user_only_own_records(app, world):
    client = _client(app, world["seller"])
    other = _client(app, make_user(app, perms=[p for p in SCOPED if p != "orders.scope.own"]))
    mine, theirs = world["mine"], world["theirs"]
    for key in ("number", "shipment", "ticket"):
        assert f'{mine["links"][key]}"' in _search(client, mine[key])
        assert f'{theirs["links"][key]}"' not in _search(client, theirs[key])
        assert f'{theirs["links"][key]}"' in _search(other, theirs[key])
    assert f'{mine["links"]["customer"]}"' in _search(client, "Mine")
    page = _search(client, "Theirs")
    assert f'{theirs["links"]["customer"]}"' not in page and f'{theirs["links"]["number"]}"' not in page
    page = _search(other, "Theirs")
    assert f'{theirs["links"]["customer"]}"' in page and f'{theirs["links"]["number"]}"' in page


def _tagged(app, order_id):
    with app.app_context():
        return orders.tags_of([order_id]).get(order_id, [])


def test_bulk_actions_and_reorder_leave_others_orders_alone(app, world):
    client = _client(app, world["seller"])
    mine, theirs = world["mine"]["order"], world["theirs"]["order"]
    ids = [str(mine), str(theirs)]
    page = client.post("/orders/bulk", data={"action": "tag_add", "ids": ids, "tag": "vip"})
    assert page.status_code == 200 and world["theirs"]["number"] not in page.get_data(as_text=True)
    assert _tagged(app, mine) == ["vip"] and _tagged(app, theirs) == []
    client.post("/orders/bulk", data={"action": "tag_add", "all": "1", "tag": "all"})
    assert "all" in _tagged(app, mine) and _tagged(app, theirs) == []
    export = client.post("/orders/bulk", data={"action": "export", "ids": ids}).get_data(as_text=True)
    assert world["mine"]["number"] in export and world["theirs"]["number"] not in export
    with app.test_request_context():
        from erp_core.auth.models import User

        user = db.session.get(User, world["seller"])
        from plugins.orders.models import Order
        from plugins.orders.services.bulk import may

        assert not may(user, "orders.edit", db.session.get(Order, theirs))
    assert client.post(f"/orders/{theirs}/reorder").status_code == 404
    # An unscoped user still acts on both.
    other = _client(app, make_user(app, perms=[p for p in SCOPED if p != "orders.scope.own"]))
    other.post("/orders/bulk", data={"action": "tag_add", "ids": ids, "tag": "both"})
    assert "both" in _tagged(app, theirs) and "both" in _tagged(app, mine)
    assert other.post(f"/orders/{theirs}/reorder").status_code == 302


def _report_orders(client) -> int:
    text = client.get("/orders/reports/channels?format=csv").get_data(as_text=True)
    return sum(int(line.split(",")[4]) for line in text.lstrip("\ufeff").splitlines()[1:])


def test_sales_by_channel_counts_only_own_customers_orders(app, world):
    assert _report_orders(_client(app, world["seller"])) == 2  # two orders each
    assert _report_orders(_client(app, make_user(app, perms=[p for p in SCOPED if p != "orders.scope.own"]))) == 4


def _token(app, user_id) -> dict:
    from erp_core.api.tokens import create_token
    from erp_core.auth.models import User

    with app.app_context():
        _row, clear = create_token(db.session.get(User, user_id), "test")
        db.session.commit()
    return {"Authorization": f"Bearer {clear}"}


def test_support_tickets_and_returns_of_others_customers_are_hidden(app, world):
    client = _client(app, world["seller"])
    other_id = make_user(app, perms=[p for p in SCOPED if p != "orders.scope.own"])
    other = _client(app, other_id)
    mine, theirs = world["mine"], world["theirs"]
    for path, key in (("/support/?queue=all", "ticket"), ("/support/returns", "return")):
        page = client.get(path).get_data(as_text=True)
        assert mine[key] in page and theirs[key] not in page
        assert theirs[key] in other.get(path).get_data(as_text=True)
    for path in (f"/support/tickets/{theirs['ticket_id']}", f"/support/returns/{theirs['return_id']}"):
        assert client.get(path).status_code == 404, path
        assert other.get(path).status_code == 200, path
    api, scoped_key, other_key = app.test_client(), _token(app, world["seller"]), _token(app, other_id)
    for path in ("/api/v1/tickets", "/api/v1/returns"):
        kind = "ticket_id" if "tickets" in path else "return_id"
        listed = {item["id"] for item in api.get(path, headers=scoped_key).get_json()["items"]}
        assert mine[kind] in listed and theirs[kind] not in listed
        assert theirs[kind] in {item["id"] for item in api.get(path, headers=other_key).get_json()["items"]}
        assert api.get(f"{path}/{theirs[kind]}", headers=scoped_key).status_code == 404
        assert api.get(f"{path}/{theirs[kind]}", headers=other_key).status_code == 200
    assert client.get(f"/support/tickets/{mine['ticket_id']}").status_code == 200
    assert client.get(f"/support/returns/{mine['return_id']}").status_code == 200


def test_dashboard_counts_only_own_customers_orders(app, world):
    from flask_login import login_user

    from erp_core.auth.models import User
    from plugins.orders import queries

    other = make_user(app, perms=[p for p in SCOPED if p != "orders.scope.own"])
    for user_id, expected in ((world["seller"], 2), (other, 4)):
        with app.test_request_context():
            login_user(db.session.get(User, user_id))
            assert queries.today_summary()["count"] == expected
            assert sum(n for _day, n in queries.daily_counts(2)) == expected
            assert sum(queries.status_counts().values()) == expected
    page = _client(app, world["seller"]).get("/")
    assert page.status_code == 200


def test_logistics_records_of_others_customers_answer_404_by_id(app, world):
    """A shipment (page, packing slip, label, API item) or delivery exception opened by URL."""
    from plugins.logistics import services as logistics
    from plugins.orders.public import Customer

    extra = ["logistics.exceptions"]
    scoped_id = make_user(app, perms=SCOPED + extra)
    with app.test_request_context():
        orders.set_owner(db.session.get(Customer, world["mine"]["customer"]), scoped_id)
        exceptions = {}
        for key in ("mine", "theirs"):
            shipment = logistics.get_shipment(world[key]["shipment_id"])
            shipment.label_data, shipment.label_type = b"%PDF-1.4 label", "application/pdf"
            exceptions[key] = logistics.raise_exception(shipment, "lost", "Gone").id
        db.session.commit()
    client = _client(app, scoped_id)
    other_id = make_user(app, perms=[p for p in SCOPED if p != "orders.scope.own"] + extra)
    other = _client(app, other_id)
    api, scoped_key, other_key = app.test_client(), _token(app, scoped_id), _token(app, other_id)
    shipment, exception = world["theirs"]["shipment_id"], exceptions["theirs"]
    for path in (f"/logistics/shipments/{shipment}", f"/logistics/shipments/{shipment}/packing-slip",
                 f"/logistics/shipments/{shipment}/label", f"/logistics/exceptions/{exception}"):
        assert client.get(path).status_code == 404, path
        assert other.get(path).status_code == 200, path
    for path in (f"/api/v1/logistics/shipments/{shipment}", f"/api/v1/logistics/shipments/{shipment}/events",
                 f"/api/v1/logistics/exceptions/{exception}"):
        assert api.get(path, headers=scoped_key).status_code == 404, path
        assert api.get(path, headers=other_key).status_code == 200, path
    page = client.get("/logistics/exceptions/").get_data(as_text=True)
    assert f"/logistics/exceptions/{exceptions['mine']}\"" in page and f"/logistics/exceptions/{exception}\"" not in page
    assert client.get(f"/logistics/shipments/{world['mine']['shipment_id']}").status_code == 200
    listed = api.get("/api/v1/logistics/exceptions", headers=scoped_key).get_json()["items"]
    assert [item["id"] for item in listed] == [exceptions["mine"]]


def test_support_counts_and_reports_count_only_visible_tickets_and_returns(app, world):
    """The queue tabs (and the dashboard's queue widget), the returns widget's counts and the
    satisfaction report count only the tickets, returns and surveys a scoped user may see."""
    from datetime import timedelta

    from flask_login import login_user

    from erp_core.auth.models import User
    from erp_core.timeutil import utcnow
    from plugins.support import surveys
    from plugins.support.models import Ticket
    from plugins.support.returns import status_counts
    from plugins.support.services import queue_counts

    with app.test_request_context():
        for key in ("mine", "theirs"):
            ticket = db.session.get(Ticket, world[key]["ticket_id"])
            surveys.answer(surveys.issue_for_ticket(ticket), 5, "")
            surveys.answer(surveys.issue_for_order(orders.get_order(world[key]["order"])), 4, "")  # no follow-up
        db.session.commit()
    other = make_user(app, perms=[p for p in SCOPED if p != "orders.scope.own"])
    today = utcnow().date()
    window = surveys.ReportFilters(start=today - timedelta(days=1), end=today + timedelta(days=1))
    for user_id, n in ((world["seller"], 1), (other, 2)):
        with app.test_request_context():
            login_user(db.session.get(User, user_id))
            assert queue_counts(user_id)["unassigned"] == n
            assert status_counts() == {"requested": n}
            assert surveys.summary(window, "UTC").responses == 2 * n
            assert sum(s.responses for s in surveys.by_period(window, "UTC")) == 2 * n
            assert len(db.session.scalars(surveys.answered_query(window, "UTC")).all()) == 2 * n
