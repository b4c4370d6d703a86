"""The order pages through the web: entry, bad input, editing, actions, timeline, printing."""

import re

import pytest
from sqlalchemy import func, select

from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.models import AuditLog
from plugins.orders import services, states
from plugins.orders.models import Customer, Order, OrderLine
from tests.orders import spy_plugin as spy
from tests.orders.conftest import client_with, make_catalogue, order_form


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _order(app, number=None) -> Order:
    with app.app_context():
        stmt = select(Order).order_by(Order.id.desc())
        if number:
            stmt = stmt.where(Order.number == number)
        order = db.session.scalars(stmt).first()
        if order is not None:
            order.lines  # noqa: B018  (load them before the context ends)
        db.session.expunge_all()
        return order


def _text(response) -> str:
    return response.get_data(as_text=True)


def _create(client, catalogue, *lines, **fields):
    lines = lines or ({"product_id": catalogue.pen_id, "quantity": 2},)
    return client.post("/orders/new", data=order_form(catalogue, *lines, **fields))


# ----------------------------------------------------------------------------- access


def test_pages_need_their_permission(orders_app, catalogue):
    viewer = client_with(orders_app, perms=["orders.view"])
    assert viewer.get("/orders/").status_code == 200
    for url in ("/orders/new", "/orders/export.csv", "/orders/import", "/orders/customers/",
                "/orders/products/", "/orders/api/products?q=pen", "/orders/api/customers?q=li",
                "/orders/products/new", "/orders/customers/new", "/orders/products/import"):
        assert viewer.get(url).status_code == 403, url
    order = _create(client_with(orders_app), catalogue)
    order_id = int(order.headers["Location"].rsplit("/", 1)[1])
    assert viewer.get(f"/orders/{order_id}").status_code == 200
    assert viewer.get(f"/orders/{order_id}/edit").status_code == 403
    # a hand-made post of an action the user may not take
    refused = viewer.post(f"/orders/{order_id}/actions/confirm", data={"version": "1"})
    assert refused.status_code == 403
    assert _order(orders_app).status == states.DRAFT
    nobody = client_with(orders_app, perms=[])
    assert nobody.get("/orders/").status_code == 403
    assert nobody.get(f"/orders/{order_id}").status_code == 403
    assert nobody.get(f"/orders/{order_id}/print").status_code == 403


def test_buttons_follow_permissions(orders_app, catalogue):
    _create(client_with(orders_app), catalogue)
    order = _order(orders_app)
    viewer = client_with(orders_app, perms=["orders.view"])
    page = _text(viewer.get(f"/orders/{order.id}"))
    assert "action-confirm" not in page and "edit-order" not in page and "action-cancel" not in page
    page = _text(client_with(orders_app).get(f"/orders/{order.id}"))
    assert "action-confirm" in page and "edit-order" in page and "action-cancel" in page
    assert "action-mark_shipped" not in page  # only offered once confirmed


# ----------------------------------------------------------------------------- entry


def test_enter_an_order_with_lines_and_see_it(orders_app, catalogue, staff):
    data = order_form(catalogue, {"product_id": catalogue.pen_id, "quantity": 16, "discount": "4"},
                      {"label": "INK-1", "quantity": 3},  # typed code, no picked product (no JavaScript)
                      notes="leave at the door")
    # rows removed in the browser leave gaps in the numbering, and an untouched row is blank
    data["lines-7-label"], data["lines-7-quantity"] = "", ""
    data = {k.replace("lines-1-", "lines-4-"): v for k, v in data.items()}
    response = staff.post("/orders/new", data=data)
    assert response.status_code == 302
    order = _order(orders_app)
    assert response.headers["Location"] == f"/orders/{order.id}"
    assert [(l.sku, l.quantity, l.line_total_minor) for l in order.lines] == [("PEN-1", 16, 535066), ("INK-1", 3, 3600)]
    assert order.total_minor == 538666 and order.status == states.DRAFT
    page = _text(staff.get(response.headers["Location"]))
    assert order.number in page and "saved as a draft" in page
    assert "CN¥5,386.66" in page and "leave at the door" in page
    assert "Created" in page  # the timeline


@pytest.mark.parametrize("currency,product,price,quantity,discount,shown", [
    ("JPY", "jpy_id", "", 1, "10", "¥11,111"),
    ("KWD", "kwd_id", "", 2, "", "KWD235.350"),
    ("CNY", "usd_id", "70", 1, "", "CN¥70.00"),
])
def test_currencies_with_zero_and_three_decimals(orders_app, catalogue, staff, currency, product, price, quantity,
                                                 discount, shown):
    response = _create(staff, catalogue, {"product_id": getattr(catalogue, product), "quantity": quantity,
                                          "unit_price": price, "discount": discount}, currency=currency)
    assert response.status_code == 302, _text(response)
    page = _text(staff.get(response.headers["Location"]))
    assert shown in page


def test_new_customer_inline_and_likely_duplicate(orders_app, catalogue, staff):
    lines = ({"product_id": catalogue.pen_id, "quantity": 1},)
    same_phone = dict(customer_id="", new_customer_name="Lei Li", new_customer_phone="13800138000")
    response = _create(staff, catalogue, *lines, **same_phone)
    assert response.status_code == 422
    assert "looks like a customer you already have" in _text(response) and "Li Lei" in _text(response)
    assert _count(orders_app, Customer) == 1 and _count(orders_app, Order) == 0
    response = _create(staff, catalogue, *lines, new_customer_confirm="y", **same_phone)
    assert response.status_code == 302
    assert _count(orders_app, Customer) == 2
    assert _order(orders_app).contact_name == "Li Lei"  # the contact typed on the form is kept


BAD_LINES = [
    ({"quantity": "0"}, "more than zero"),
    ({"quantity": "-2"}, "more than zero"),
    ({"quantity": "1.5"}, "whole number"),
    ({"quantity": "9" * 30}, "cannot exceed"),
    ({"product_id": "987654"}, "Unknown product"),
    ({"product_id": "", "label": "NO-SUCH"}, "No product has the code NO-SUCH"),
    ({"unit_price": "99999999999999999"}, "too large"),
    ({"unit_price": "-5"}, "must not be negative"),
    ({"unit_price": "1.001"}, "2 decimals at most"),
    ({"discount": "150"}, "between 0 and 100"),
]


@pytest.mark.parametrize("change,message", BAD_LINES)
def test_bad_lines_are_shown_beside_the_field_and_nothing_is_saved(orders_app, catalogue, staff, change, message):
    line = {"product_id": catalogue.pen_id, "quantity": 1}
    line.update(change)
    response = _create(staff, catalogue, line)
    assert response.status_code == 422
    page = _text(response)
    field = next(iter(k for k in change if k != "label"), "product_id")
    field = "product_id" if field == "label" else field
    # the message sits in the row of the line, right after its field
    row = page[page.index('name="lines-0-line_id"'):page.index("data-action=\"remove-line\"")]
    assert message in row and "is-invalid" in row
    assert _count(orders_app, Order) == 0 and _count(orders_app, OrderLine) == 0


def test_bad_header_fields_and_empty_order(orders_app, catalogue, staff):
    response = staff.post("/orders/new", data=order_form(catalogue, customer_id="", ship_line1="",
                                                         contact_email="not-an-email"))
    page = _text(response)
    assert response.status_code == 422
    assert "Choose a customer or enter a new one." in page
    assert "The shipping address needs a street line." in page
    assert "is not a valid e-mail address" in page
    assert "Add at least one line." in page
    response = _create(staff, catalogue, {"product_id": catalogue.usd_id, "quantity": 1})
    assert response.status_code == 422
    assert "priced in USD but the order is in CNY" in _text(response)
    response = _create(staff, catalogue, currency="ZZZ")
    assert response.status_code == 422
    assert _count(orders_app, Order) == 0 and _count(orders_app, Customer) == 1


def test_form_keeps_what_was_typed_after_an_error(orders_app, catalogue, staff):
    response = _create(staff, catalogue, {"product_id": catalogue.pen_id, "label": "PEN-1 — Pen", "quantity": 0},
                       {"product_id": catalogue.ink_id, "label": "INK-1 — Ink", "quantity": 4, "discount": "5"},
                       notes="call first")
    page = _text(response)
    assert 'value="PEN-1 — Pen"' in page and 'value="INK-1 — Ink"' in page
    assert 'name="lines-1-discount" value="5"' in page and "call first" in page


def test_a_double_posted_entry_form_makes_one_order(orders_app, catalogue, staff):
    data = order_form(catalogue, {"product_id": catalogue.pen_id, "quantity": 1}, entry_key="k" * 32)
    first = staff.post("/orders/new", data=data)
    second = staff.post("/orders/new", data=data)
    assert first.status_code == 302 and second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert "already sent" in _text(staff.get(second.headers["Location"]))
    assert _count(orders_app, Order) == 1


def test_save_and_confirm(orders_app, catalogue, staff):
    response = _create(staff, catalogue, then="confirm")
    assert response.status_code == 302
    assert _order(orders_app).status == states.CONFIRMED


def test_new_order_for_a_customer_is_prefilled(orders_app, catalogue, staff):
    page = _text(staff.get(f"/orders/new?customer={catalogue.customer_id}"))
    assert 'value="1 Main Road"' in page and 'value="138 0013 8000"' in page and 'value="Li"' in page


# ----------------------------------------------------------------------------- editing


def _edit_data(order, catalogue, lines, **fields):
    data = order_form(catalogue, *lines, version=order.version, **fields)
    data.pop("entry_key")
    return data


def test_edit_a_confirmed_order_and_see_what_changed(orders_app, catalogue, staff):
    _create(staff, catalogue, {"product_id": catalogue.pen_id, "quantity": 2}, {"product_id": catalogue.ink_id, "quantity": 1})
    order = _order(orders_app)
    staff.post(f"/orders/{order.id}/actions/confirm", data={"version": order.version})
    order = _order(orders_app)
    assert order.status == states.CONFIRMED
    pen_line, ink_line = order.lines
    response = staff.post(f"/orders/{order.id}/edit", data=_edit_data(order, catalogue, [
        {"line_id": pen_line.id, "product_id": catalogue.pen_id, "quantity": 5, "unit_price": "348.35"},
        {"product_id": catalogue.ink_id, "quantity": 4},
    ], ship_line1="9 New Road", contact_name="Mr Li"))
    assert response.status_code == 302
    order = _order(orders_app)
    assert order.status == states.CONFIRMED and order.ship_line1 == "9 New Road"
    assert [(l.sku, l.quantity) for l in order.lines] == [("PEN-1", 5), ("INK-1", 4)]
    page = _text(staff.get(f"/orders/{order.id}"))
    timeline = page[page.index('data-testid="order-timeline"'):]
    assert "Street address" in timeline and "1 Main Road" in timeline and "9 New Road" in timeline
    assert "PEN-1: 2 × CN¥348.35 → 5 × CN¥348.35" in timeline
    assert "INK-1 added: 4 × CN¥12.00" in timeline and "INK-1 removed" in timeline
    assert "Status changed" in timeline and "Draft → Confirmed" in timeline
    for raw in ("None", "{'", "\\u00", "status_changed", "ship_line1"):
        assert raw not in timeline


def test_a_stale_edit_form_is_refused_and_changes_nothing(orders_app, catalogue, staff):
    _create(staff, catalogue)
    order = _order(orders_app)
    line = order.lines[0]
    data = _edit_data(order, catalogue, [{"line_id": line.id, "product_id": catalogue.pen_id, "quantity": 7}])
    assert staff.post(f"/orders/{order.id}/edit", data=data).status_code == 302
    data["lines-0-quantity"] = "9"  # the same (old) form, posted again
    response = staff.post(f"/orders/{order.id}/edit", data=data)
    assert response.status_code == 409
    assert "was changed by someone else meanwhile" in _text(response)
    assert _order(orders_app).lines[0].quantity == 7


def test_edit_refuses_bad_input_beside_the_field(orders_app, catalogue, staff):
    _create(staff, catalogue)
    order = _order(orders_app)
    line = order.lines[0]
    response = staff.post(f"/orders/{order.id}/edit", data=_edit_data(
        order, catalogue, [{"line_id": line.id, "product_id": catalogue.pen_id, "quantity": "-1"}], ship_line1=""))
    assert response.status_code == 422
    page = _text(response)
    assert "more than zero" in page and "needs a street line" in page
    after = _order(orders_app)
    assert after.version == order.version and after.lines[0].quantity == 2 and after.ship_line1 == "1 Main Road"


def test_shipped_orders_cannot_be_edited(orders_app, catalogue, staff):
    _create(staff, catalogue, then="confirm")
    order = _order(orders_app)
    staff.post(f"/orders/{order.id}/actions/mark_shipped", data={"version": order.version})
    assert _order(orders_app).status == states.SHIPPED
    response = staff.get(f"/orders/{order.id}/edit")
    assert response.status_code == 302
    assert "can no longer be changed" in _text(staff.get(response.headers["Location"]))
    response = staff.post(f"/orders/{order.id}/edit", data=_edit_data(order, catalogue, []))
    assert response.status_code == 302 and _order(orders_app).lines[0].quantity == 2


# ----------------------------------------------------------------------------- actions


def test_actions_through_the_whole_life_of_an_order(orders_app, catalogue, staff):
    _create(staff, catalogue)
    order = _order(orders_app)
    for action, status in (("confirm", states.CONFIRMED), ("mark_shipped", states.SHIPPED),
                           ("mark_delivered", states.DELIVERED), ("complete", states.COMPLETED)):
        version = _order(orders_app).version
        response = staff.post(f"/orders/{order.id}/actions/{action}", data={"version": version})
        assert response.status_code == 302
        assert _order(orders_app).status == status
    page = _text(staff.get(f"/orders/{order.id}"))
    for step in ("Draft → Confirmed", "Confirmed → Shipped", "Shipped → Delivered", "Delivered → Completed"):
        assert step in page
    assert 'data-testid="action-' not in page  # nothing left to do


def test_a_forbidden_transition_posted_by_hand_is_refused(orders_app, catalogue, staff):
    _create(staff, catalogue)
    order = _order(orders_app)
    response = staff.post(f"/orders/{order.id}/actions/mark_delivered", data={"version": order.version},
                          follow_redirects=True)
    assert "An order that is Draft cannot become Delivered." in _text(response)
    assert _order(orders_app).status == states.DRAFT and _order(orders_app).version == order.version
    assert staff.post(f"/orders/{order.id}/actions/explode", data={"version": 1}).status_code == 404
    response = staff.post(f"/orders/{order.id}/actions/confirm", data={}, follow_redirects=True)
    assert "reload the page" in _text(response) and _order(orders_app).status == states.DRAFT


def test_cancel_needs_a_reason_and_shows_it(orders_app, catalogue, staff):
    _create(staff, catalogue, then="confirm")
    order = _order(orders_app)
    response = staff.post(f"/orders/{order.id}/actions/cancel", data={"version": order.version, "note": "  "})
    assert response.status_code == 422
    page = _text(response)
    assert "Give a reason to cancel the order." in page and "erp-open" in page
    assert _order(orders_app).status == states.CONFIRMED
    response = staff.post(f"/orders/{order.id}/actions/cancel",
                          data={"version": order.version, "note": "customer changed their mind"}, follow_redirects=True)
    page = _text(response)
    assert _order(orders_app).status == states.CANCELLED
    assert "Confirmed → Cancelled" in page and "customer changed their mind" in page


def test_a_double_posted_action_is_refused_the_second_time(orders_app, catalogue, staff):
    _create(staff, catalogue)
    order = _order(orders_app)
    staff.post(f"/orders/{order.id}/actions/confirm", data={"version": order.version})
    response = staff.post(f"/orders/{order.id}/actions/confirm", data={"version": order.version}, follow_redirects=True)
    assert "changed by someone else" in _text(response)
    with orders_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "status_changed")) == 1


def test_print_pages(orders_app, catalogue, staff):
    _create(staff, catalogue, {"product_id": catalogue.pen_id, "quantity": 16, "discount": "4"})
    order = _order(orders_app)
    page = _text(staff.get(f"/orders/{order.id}/print"))
    assert "Order confirmation" in page and order.number in page and "CN¥5,350.66" in page
    assert "@media print" not in page and "print.css" in page
    slip = _text(staff.get(f"/orders/{order.id}/print?kind=packing"))
    assert "Packing slip" in slip and "PEN-1" in slip and "CN¥" not in slip


# ----------------------------------------------------------------------------- other plugins on the order page

def test_hook_erp_order_actions(spy_app):
    catalogue = make_catalogue(spy_app)
    staff = client_with(spy_app)
    spy.BEHAVIOUR["actions"] = lambda order, user: [
        {"label": "Create shipment", "url": f"/spy/ship/{order.id}", "icon": "truck", "style": "success"}
    ] if order.status == states.CONFIRMED and user.can("orders.view") else []
    _create(staff, catalogue)
    order = _order(spy_app)
    page = _text(staff.get(f"/orders/{order.id}"))
    assert "Create shipment" not in page and ("actions", order.number) in spy.CALLS
    staff.post(f"/orders/{order.id}/actions/confirm", data={"version": order.version})
    page = _text(staff.get(f"/orders/{order.id}"))
    button = re.search(r'<a class="btn btn-success" href="/spy/ship/(\d+)" data-testid="plugin-action">.*?</a>', page, re.S)
    assert button and button.group(1) == str(order.id)
    assert "bi-truck" in button.group(0) and "Create shipment" in button.group(0)


def test_panels_of_other_plugins_are_shown_with_their_permission(spy_app):
    from erp_core.contrib import Panel

    catalogue = make_catalogue(spy_app)
    spy.BEHAVIOUR["panels"] = lambda order, user: [
        Panel("Stock", "spy_panel.html", lambda: {"number": order.number}),
        Panel("Secret", "spy_panel.html", {"number": "hidden"}, permission="finance.view"),
    ]
    staff = client_with(spy_app)
    _create(staff, catalogue)
    order = _order(spy_app)
    page = _text(staff.get(f"/orders/{order.id}"))
    assert f"spy panel for {order.number}" in page and "Stock" in page
    assert "Secret" not in page and "spy panel for hidden" not in page


def test_a_veto_of_another_plugin_is_shown(spy_app):
    catalogue = make_catalogue(spy_app)
    spy.BEHAVIOUR["validate"] = lambda order, old, new: ["Not enough stock of PEN-1: 2 ordered, 0 available."] \
        if new == states.CONFIRMED else []
    staff = client_with(spy_app)
    _create(staff, catalogue)
    order = _order(spy_app)
    response = staff.post(f"/orders/{order.id}/actions/confirm", data={"version": order.version}, follow_redirects=True)
    assert "Confirm refused: Not enough stock of PEN-1: 2 ordered, 0 available." in _text(response)
    assert _order(spy_app).status == states.DRAFT


def test_a_refusal_raised_while_editing_is_shown_and_nothing_changes(spy_app):
    catalogue = make_catalogue(spy_app)

    def refuse(order, changes):
        if any(delta > 10 for delta in changes["quantity_delta"].values()):
            raise DomainError("Not enough stock to reserve 20 more.")

    spy.BEHAVIOUR["changed"] = refuse
    staff = client_with(spy_app)
    _create(staff, catalogue)
    order = _order(spy_app)
    line = order.lines[0]
    data = _edit_data(order, catalogue, [{"line_id": line.id, "product_id": catalogue.pen_id, "quantity": 22}])
    response = staff.post(f"/orders/{order.id}/edit", data=data)
    assert response.status_code == 400 and "Not enough stock to reserve 20 more." in _text(response)
    assert _order(spy_app).lines[0].quantity == 2


def test_hook_erp_order_goods_shipped(spy_app):
    catalogue = make_catalogue(spy_app)
    staff = client_with(spy_app)
    _create(staff, catalogue, {"product_id": catalogue.pen_id, "quantity": 2}, {"product_id": catalogue.ink_id, "quantity": 1},
            {"product_id": catalogue.pen_id, "quantity": 3}, then="confirm")
    order = _order(spy_app)
    staff.post(f"/orders/{order.id}/actions/mark_shipped", data={"version": order.version})
    assert ("shipped", {catalogue.pen_id: 5, catalogue.ink_id: 1}, order.number) in spy.CALLS
    # a plugin that refuses the shipment undoes it
    spy.BEHAVIOUR["shipped"] = lambda order, quantities, reference: (_ for _ in ()).throw(DomainError("scanner offline"))
    _create(staff, catalogue, then="confirm")
    second = _order(spy_app)
    response = staff.post(f"/orders/{second.id}/actions/mark_shipped", data={"version": second.version},
                          follow_redirects=True)
    assert "scanner offline" in _text(response)
    assert _order(spy_app).status == states.CONFIRMED


def test_logistics_style_plugin_hides_manual_shipping(spy_app):
    catalogue = make_catalogue(spy_app)
    spy.BEHAVIOUR["manual_shipping"] = lambda order: False
    staff = client_with(spy_app)
    _create(staff, catalogue, then="confirm")
    order = _order(spy_app)
    assert "action-mark_shipped" not in _text(staff.get(f"/orders/{order.id}"))
    response = staff.post(f"/orders/{order.id}/actions/mark_shipped", data={"version": order.version},
                          follow_redirects=True)
    assert "create a shipment instead" in _text(response)
    assert _order(spy_app).status == states.CONFIRMED


# ----------------------------------------------------------------------------- language


def test_pages_in_chinese(orders_app, catalogue, staff):
    _create(staff, catalogue)
    order = _order(orders_app)
    headers = {"Accept-Language": "zh-CN"}
    page = _text(staff.get(f"/orders/{order.id}", headers=headers))
    assert "草稿" in page and "确认" in page
    response = staff.post("/orders/new", data=order_form(catalogue, {"product_id": catalogue.pen_id, "quantity": 0}),
                          headers=headers)
    assert "数量必须大于零" in _text(response)


def test_services_stay_consistent_with_the_pages(orders_app, catalogue):
    # the page helpers and the services agree on who may do what
    with orders_app.test_request_context():
        order = services.create_order(services.OrderInput(customer_id=catalogue.customer_id, ship_line1="x",
                                                          lines=[services.LineInput(catalogue.pen_id, 1)]))
        admin = type("Admin", (), {"can": staticmethod(lambda code: True)})()
        assert [a.name for a in services.available_actions(order, admin)] == ["confirm", "cancel"]
