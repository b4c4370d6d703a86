"""Buyers' invoicing details (开票信息): the checks, the customer's set, the order's copy taken at
entry, changing it on the order until it is invoiced, the pages (both languages, escaping, 403)."""

import pytest
from sqlalchemy import func, select

from erp_core.extensions import db
from erp_core.models import AuditLog
from plugins.orders import services, states
from plugins.orders.invoicing_details import (
    CustomerInvoicing,
    customer_invoicing_details,
    order_invoicing_details,
)
from plugins.orders.models import Customer, Order
from plugins.orders.services import LineInput, OrderInput
from tests.orders.conftest import client_with

TENCENT = {"title": "深圳市腾讯计算机系统有限公司", "taxpayer_id": "91440300708461136T",
           "address": "深圳市南山区高新区科技中一路腾讯大厦", "phone": "0755-86013388",
           "bank": "招商银行深圳分行", "account": "8159 9999 1001", "invoice_type": "special"}
XSS = "<script>alert(1)</script>"


@pytest.fixture
def lock_app(make_app):
    from tests.orders import invoice_lock_plugin

    invoice_lock_plugin.INVOICED.clear()
    yield make_app(plugins=["orders", "invoicelock=tests.orders.invoice_lock_plugin"])
    invoice_lock_plugin.INVOICED.clear()


def _customer_and_product(details=None, name="Tencent"):
    customer = services.create_customer(name, "0755 1234 5678")
    if details is not None:
        services.set_customer_invoicing(customer, details)
    product = services.create_product(f"P-{name[:3]}", "Paper", "10", "CNY")
    return customer, product


def _order(customer, product) -> Order:
    return services.create_order(OrderInput(customer_id=customer.id, ship_line1="1 Road",
                                            lines=[LineInput(product.id, 2)]))


def _invalid(data) -> dict:
    with pytest.raises(services.InvoicingInvalid) as caught:
        services.check_invoicing(data)
    return caught.value.errors


# ----------------------------------------------------------------------------- checks


def test_a_special_vat_invoice_needs_every_field(orders_app):
    with orders_app.test_request_context():
        details = services.check_invoicing(dict(TENCENT, taxpayer_id="9144 0300 7084 6113 6t"))
        assert details.taxpayer_id == "91440300708461136T" and details.wants_invoice
        errors = _invalid({"invoice_type": "special", "title": "ACME"})
        assert set(errors) == {"taxpayer_id", "address", "phone", "bank", "account"}
        assert errors["bank"] == ["A special VAT invoice needs the buyer's bank."]
        assert errors["taxpayer_id"] == ["A special VAT invoice needs the buyer's taxpayer ID."]
        for name in ("title", "address", "phone", "account"):
            assert set(_invalid(dict(TENCENT, **{name: "  "}))) == {name}


def test_an_ordinary_invoice_needs_a_title_and_no_invoice_needs_nothing(orders_app):
    with orders_app.test_request_context():
        assert _invalid({"invoice_type": "ordinary"}) == {"title": ["An invoice needs a title (the buyer's name on it)."]}
        assert services.check_invoicing({"invoice_type": "ordinary", "title": "王芳"}).title == "王芳"
        assert services.check_invoicing({}).is_empty
        assert services.check_invoicing({"invoice_type": "none", "title": "kept"}).title == "kept"


def test_bad_values_are_refused_whatever_the_type(orders_app):
    with orders_app.test_request_context():
        errors = _invalid({"taxpayer_id": "91440300708461136X", "phone": "call me", "account": "ABC-123",
                           "invoice_type": "fapiao"})
        assert set(errors) == {"taxpayer_id", "phone", "account", "invoice_type"}
        assert "last character does not match" in errors["taxpayer_id"][0]
        assert "Choose no invoice, an ordinary invoice or a special VAT invoice." in errors["invoice_type"]
        # a wrong ID under a special invoice says what is wrong with it, not that it is missing
        errors = _invalid(dict(TENCENT, taxpayer_id="123"))
        assert list(errors) == ["taxpayer_id"] and "has 18 characters" in errors["taxpayer_id"][0]


# ----------------------------------------------------------------------------- customers and the order's copy


def test_customer_details_are_kept_audited_and_empty_ones_make_no_row(orders_app):
    with orders_app.test_request_context():
        customer, _product = _customer_and_product(TENCENT)
        plain, _p = _customer_and_product({}, name="Walk-in")
        db.session.commit()
        assert customer_invoicing_details(customer).bank == "招商银行深圳分行"
        assert db.session.get(CustomerInvoicing, plain.id) is None
        assert customer_invoicing_details(plain).invoice_type == "none"
        entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "invoicing_changed")).one()
        assert entry.object_id == str(customer.id) and entry.after["taxpayer_id"] == "91440300708461136T"


def test_an_order_copies_the_details_at_entry_and_keeps_them(orders_app):
    with orders_app.test_request_context():
        customer, product = _customer_and_product(TENCENT)
        order = _order(customer, product)
        db.session.commit()
        assert order_invoicing_details(order) == customer_invoicing_details(customer)
        services.set_customer_invoicing(customer, dict(TENCENT, title="腾讯（新名）", invoice_type="ordinary"))
        db.session.commit()
        db.session.expire_all()
        order = db.session.get(Order, order.id)
        assert order_invoicing_details(order).title == "深圳市腾讯计算机系统有限公司"
        assert order_invoicing_details(order).invoice_type == "special"
        plain, other = _customer_and_product(None, name="Walk-in")
        assert order_invoicing_details(_order(plain, other)).is_empty


def test_a_draft_moved_to_another_customer_takes_its_details(orders_app):
    with orders_app.test_request_context():
        customer, product = _customer_and_product(TENCENT)
        other = services.create_customer("王芳")
        services.set_customer_invoicing(other, {"invoice_type": "ordinary", "title": "王芳"})
        order = _order(customer, product)
        db.session.commit()
        services.update_order(order, OrderInput(customer_id=other.id, ship_line1="1 Road",
                                                lines=[LineInput(product.id, 2, line_id=order.lines[0].id)]),
                              order.version)
        db.session.commit()
        assert order_invoicing_details(order).title == "王芳"
        assert order_invoicing_details(order).invoice_type == "ordinary"


def test_changing_the_orders_copy_leaves_the_customer_alone(orders_app):
    with orders_app.test_request_context():
        customer, product = _customer_and_product(TENCENT)
        order = _order(customer, product)
        db.session.commit()
        version = order.version
        services.set_order_invoicing(order, dict(TENCENT, title="腾讯科技（深圳）有限公司"), version)
        db.session.commit()
        assert order_invoicing_details(order).title == "腾讯科技（深圳）有限公司"
        assert customer_invoicing_details(customer).title == "深圳市腾讯计算机系统有限公司"
        assert order.version == version + 1
        entry = db.session.scalars(select(AuditLog).where(AuditLog.object_type == "order",
                                                          AuditLog.action == "invoicing_changed")).one()
        assert entry.before == {"invoice_title": "深圳市腾讯计算机系统有限公司"}


def test_a_stale_or_cancelled_order_refuses_the_change(orders_app):
    from erp_core.errors import Conflict

    with orders_app.test_request_context():
        customer, product = _customer_and_product(TENCENT)
        order = _order(customer, product)
        db.session.commit()
        with pytest.raises(Conflict) as caught:
            services.set_order_invoicing(order, {}, order.version - 1 if order.version > 1 else 99)
        assert caught.value.code == "stale"
        db.session.rollback()
        services.transition(order, states.CANCELLED, note="duplicate")
        db.session.commit()
        with pytest.raises(Conflict) as caught:
            services.set_order_invoicing(order, {}, order.version)
        assert caught.value.code == "invoicing_locked" and "is cancelled" in str(caught.value)
        db.session.rollback()
        assert order_invoicing_details(db.session.get(Order, order.id)).invoice_type == "special"


def test_hook_erp_order_invoicing_locked(lock_app):
    """A plugin that invoiced the order (here a test plugin) locks its invoicing details."""
    from erp_core.errors import Conflict
    from tests.orders.invoice_lock_plugin import INVOICED

    with lock_app.test_request_context():
        customer, product = _customer_and_product(TENCENT)
        order = _order(customer, product)
        db.session.commit()
        INVOICED[order.id] = "INV-2026-000001"
        with pytest.raises(Conflict) as caught:
            services.set_order_invoicing(order, {}, order.version)
        assert "It was invoiced as INV-2026-000001." in str(caught.value)
        db.session.rollback()
        order_id = order.id
    client = client_with(lock_app)
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "深圳市腾讯计算机系统有限公司" in page and 'data-testid="edit-invoicing"' not in page
    assert "It was invoiced as INV-2026-000001." in page
    response = client.get(f"/orders/{order_id}/invoicing")
    assert response.status_code == 302
    response = client.post(f"/orders/{order_id}/invoicing", data={"invoice_type": "none", "version": "9"},
                           follow_redirects=True)
    assert "can no longer change" in response.get_data(as_text=True)


# ----------------------------------------------------------------------------- pages


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _prefixed(details: dict) -> dict:
    return {f"invoicing-{k}": v for k, v in details.items()}


def test_customer_form_keeps_the_details_and_the_page_shows_them(orders_app, staff):
    response = staff.post("/orders/customers/new", data={"name": "Tencent", **_prefixed(TENCENT)})
    assert response.status_code == 302
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    for value in ("Special VAT invoice", "91440300708461136T", "招商银行深圳分行", "8159 9999 1001",
                  "Registered address", "Bank account"):
        assert value in page
    with orders_app.app_context():
        customer_id = db.session.scalar(select(Customer.id))
    form = staff.get(f"/orders/customers/{customer_id}/edit").get_data(as_text=True)
    assert 'value="91440300708461136T"' in form and '<option selected value="special">' in form
    response = staff.post(f"/orders/customers/{customer_id}/edit",
                          data={"name": "Tencent", "language": "en", **_prefixed(dict(TENCENT, invoice_type="none"))})
    assert response.status_code == 302
    assert "No invoice" in staff.get(f"/orders/customers/{customer_id}").get_data(as_text=True)


def test_customer_form_refuses_bad_details_and_saves_nothing(orders_app, staff):
    data = {"name": "ACME", "phone": "138 0013 8000",
            **_prefixed({"invoice_type": "special", "title": "ACME", "taxpayer_id": "91350100M000100Y44",
                         "phone": "call me"})}
    response = staff.post("/orders/customers/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "last character does not match" in page and "call me is not a phone number" in page
    assert "A special VAT invoice needs the buyer&#39;s bank." in page
    assert 'id="invoicing-phone"' in page and 'class="form-control is-invalid ' in page
    assert _count(orders_app, Customer) == 0 and _count(orders_app, CustomerInvoicing) == 0
    # on the edit form too, the registered phone's error is beside it (not beside the customer's phone)
    assert staff.post("/orders/customers/new", data={"name": "ACME"}).status_code == 302
    with orders_app.app_context():
        customer_id = db.session.scalar(select(Customer.id))
    response = staff.post(f"/orders/customers/{customer_id}/edit",
                          data={"name": "ACME 2", "language": "en", **_prefixed({"phone": "call me"})})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "call me is not a phone number" in page
    assert 'id="phone" maxlength="40" name="phone" type="text" value=""' in page.replace('class="form-control  " ', '')
    with orders_app.app_context():
        assert db.session.get(Customer, customer_id).name == "ACME"


def test_customer_pages_in_chinese(orders_app, staff):
    staff.post("/language", data={"lang": "zh_CN"})
    page = staff.get("/orders/customers/new").get_data(as_text=True)
    assert "开票信息" in page and "纳税人识别号" in page and "增值税专用发票" in page
    response = staff.post("/orders/customers/new", data={"name": "某公司", **_prefixed({"invoice_type": "ordinary"})})
    assert response.status_code == 422 and "发票需要抬头" in response.get_data(as_text=True)


def _order_of(app, details):
    with app.test_request_context():
        customer, product = _customer_and_product(details)
        order = _order(customer, product)
        db.session.commit()
        return order.id, order.version


def test_order_page_shows_the_copy_and_it_changes_on_its_own_page(orders_app, staff):
    order_id, version = _order_of(orders_app, TENCENT)
    page = staff.get(f"/orders/{order_id}").get_data(as_text=True)
    assert 'data-testid="order-invoicing"' in page and "91440300708461136T" in page
    assert f'href="/orders/{order_id}/invoicing"' in page
    form = staff.get(f"/orders/{order_id}/invoicing").get_data(as_text=True)
    assert 'value="8159 9999 1001"' in form and f'name="version" type="hidden" value="{version}"' in form
    response = staff.post(f"/orders/{order_id}/invoicing",
                          data=dict(TENCENT, invoice_type="ordinary", bank="", account="", version=str(version)))
    assert response.status_code == 302
    page = staff.get(f"/orders/{order_id}").get_data(as_text=True)
    card = page.split('data-testid="order-invoicing"')[1].split("</section>")[0]
    assert "Ordinary invoice" in card and "招商银行深圳分行" not in card
    assert "Invoicing details of order" in page  # the flash
    history = page.split('data-testid="order-timeline"')[1]
    assert "Invoicing details changed" in history and "Invoice wanted" in history
    assert "Special VAT invoice → Ordinary invoice" in history


def test_order_invoicing_page_refuses_bad_and_stale_posts(orders_app, staff):
    order_id, version = _order_of(orders_app, TENCENT)
    response = staff.post(f"/orders/{order_id}/invoicing", data=dict(TENCENT, bank="", version=str(version)))
    assert response.status_code == 422 and "needs the buyer&#39;s bank" in response.get_data(as_text=True)
    response = staff.post(f"/orders/{order_id}/invoicing", data=dict(TENCENT, version=str(version - 1 or 99)))
    assert response.status_code == 409 and "changed by someone else" in response.get_data(as_text=True)
    response = staff.post(f"/orders/{order_id}/invoicing", data=dict(TENCENT))
    assert response.status_code == 422 and "The form is incomplete" in response.get_data(as_text=True)
    with orders_app.app_context():
        assert db.session.get(Order, order_id).version == version


def test_the_customers_current_details_can_be_taken_again(orders_app, staff):
    order_id, version = _order_of(orders_app, None)
    page = staff.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "No invoice" in page and "No invoicing details." in page
    with orders_app.test_request_context():
        order = db.session.get(Order, order_id)
        services.set_customer_invoicing(order.customer, TENCENT)
        db.session.commit()
    form = staff.get(f"/orders/{order_id}/invoicing").get_data(as_text=True)
    assert 'data-testid="from-customer"' in form and 'value="91440300708461136T"' not in form
    form = staff.get(f"/orders/{order_id}/invoicing?from=customer").get_data(as_text=True)
    assert 'value="91440300708461136T"' in form


def test_order_pages_in_chinese(orders_app, staff):
    order_id, _version = _order_of(orders_app, TENCENT)
    staff.post("/language", data={"lang": "zh_CN"})
    page = staff.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "开票信息" in page and "注册地址" in page and "增值税专用发票" in page
    form = staff.get(f"/orders/{order_id}/invoicing").get_data(as_text=True)
    assert "开户银行" in form and "银行账号" in form


def test_changing_needs_the_edit_permission(orders_app):
    order_id, version = _order_of(orders_app, TENCENT)
    viewer = client_with(orders_app, perms=["orders.view", "orders.customers.view"])
    assert viewer.get(f"/orders/{order_id}/invoicing").status_code == 403
    assert viewer.post(f"/orders/{order_id}/invoicing", data={"version": str(version)}).status_code == 403
    page = viewer.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "91440300708461136T" in page and 'data-testid="edit-invoicing"' not in page


def test_every_field_is_escaped_on_every_page(orders_app, staff):
    payload = {name: f"{name}{XSS}" for name in ("title", "address", "bank")}
    with orders_app.test_request_context():
        customer, product = _customer_and_product({"invoice_type": "ordinary", **payload})
        # phone, account and taxpayer ID are checked; stored text cannot carry markup, so try the
        # order's copy with everything set behind the checks' back as well
        order = _order(customer, product)
        order.invoicing.phone, order.invoicing.account = f"phone{XSS}", f"account{XSS}"
        order.invoicing.taxpayer_id = "<b>x</b>"
        db.session.commit()
        customer_id, order_id = customer.id, order.id
    pages = [f"/orders/customers/{customer_id}", f"/orders/customers/{customer_id}/edit", f"/orders/{order_id}",
             f"/orders/{order_id}/invoicing", f"/orders/{order_id}/edit"]
    for url in pages:
        page = staff.get(url).get_data(as_text=True)
        assert XSS not in page and "<b>x</b>" not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url
    page = staff.get(f"/orders/{order_id}").get_data(as_text=True)
    for name in ("title", "address", "bank", "phone", "account"):
        assert f"{name}&lt;script&gt;" in page, name
    # typed into the forms, the checked fields refuse it and show it back escaped
    response = staff.post(f"/orders/customers/{customer_id}/edit",
                          data={"name": "X", "language": "en", **_prefixed({"phone": XSS, "account": XSS,
                                                                              "taxpayer_id": XSS})})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and XSS not in page


def test_demo_companies_ask_for_invoices_with_valid_taxpayer_ids(orders_app):
    import random

    from plugins.orders.demo_invoicing import add_invoicing_details
    from plugins.orders.taxpayer_id import check_taxpayer_id

    with orders_app.test_request_context():
        customers = [services.create_customer(f"公司{i}", address={"line1": "科技园南路1号", "city": "深圳"})
                     for i in range(6)] + [services.create_customer(f"个人{i}") for i in range(20)]
        given = add_invoicing_details(random.Random(3), customers, companies=6)
        db.session.commit()
        rows = db.session.scalars(select(CustomerInvoicing)).all()
        assert len(rows) == given and given > 6
        companies = [r for r in rows if r.taxpayer_id]
        assert len(companies) == 6 and {r.invoice_type for r in companies} == {"special", "ordinary"}
        for row in companies:
            assert check_taxpayer_id(row.taxpayer_id) == row.taxpayer_id and row.taxpayer_id[2:8] == "440305"
            services.check_invoicing({name: getattr(row, name) for name in
                                      ("title", "taxpayer_id", "address", "phone", "bank", "account",
                                       "invoice_type")})
        assert all(r.invoice_type == "ordinary" and r.title.startswith("个人") for r in rows if not r.taxpayer_id)


def test_the_entry_page_says_the_details_follow_and_the_edit_page_shows_the_copy(orders_app, staff):
    page = staff.get("/orders/new").get_data(as_text=True)
    assert "invoicing details are copied onto the order when it is saved" in page
    order_id, _version = _order_of(orders_app, TENCENT)
    page = staff.get(f"/orders/{order_id}/edit").get_data(as_text=True)
    card = page.split('data-testid="entry-invoicing"')[1].split("</section>")[0]
    assert "Special VAT invoice" in card and "91440300708461136T" in card
    staff.post("/language", data={"lang": "zh_CN"})
    assert "保存订单时会复制客户的开票信息" in staff.get("/orders/new").get_data(as_text=True)
