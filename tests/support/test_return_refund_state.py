"""A return's refund is shown as finance tells it: requested, paid, failed or rejected, with the
amount and "partial" when less than the goods were worth, on the staff return page, the returns
list, the order's support panel and the customer's page; by hand when finance is off."""

import re

import pytest

from erp_core.extensions import db
from erp_core.models import AuditLog
from erp_core.money import format_money
from plugins.support import public, returns, returns_refunds
from plugins.support.models import ReturnRefund, ReturnRequest
from tests.helpers import QueryCounter, login, make_user
from tests.support.helpers import make_order

finance_services = pytest.importorskip("plugins.finance.services")


@pytest.fixture
def money_app(make_app):
    return make_app(plugins=["orders", "finance", "support"])


def _refunded_return(payments=("200",), quantity=1, amount="60"):
    """A delivered order of 2 x 100.00 paid by ``payments``, ``quantity`` returned and ``amount``
    asked back through finance (in the caller's request context); the return and its refunds."""
    from plugins.finance.models import Refund

    order = make_order(lines=((2, "100.00"),))
    for paid in payments:
        finance_services.record_payment(order, "cash", paid)
    request = returns.create_return(order, "refund", "damaged", "Dented tin", {order.lines[0].id: quantity})
    returns.decide(request, True, "")
    returns.receive(request, True, "Back on the shelf")
    returns.refund(request, amount)
    db.session.commit()
    refunds = list(db.session.query(Refund).filter_by(source_id=str(request.id)).order_by(Refund.id))
    return request, refunds


def _client(app, perms=(), roles=()):
    client = app.test_client()
    login(client, app, make_user(app, perms=list(perms), roles=list(roles)))
    return client


def _actions(request_id):
    return [e.action for e in db.session.query(AuditLog).filter_by(object_type="return", object_id=str(request_id))
            .order_by(AuditLog.id)]


# ----------------------------------------------------------------------------- the rules


@pytest.mark.parametrize("refunds,expected", [
    ([], (None, 0)),
    ([("requested", 100)], ("requested", 0)),
    ([("paid", 100), ("requested", 50)], ("requested", 100)),
    ([("paid", 100), ("failed", 50)], ("failed", 100)),
    ([("paid", 100), ("paid", 50)], ("paid", 150)),
    ([("paid", 100), ("rejected", 50)], ("paid", 100)),
    ([("rejected", 100), ("rejected", 50)], ("rejected", 0)),
])
def test_the_refunds_of_a_return_make_one_state(refunds, expected):
    assert returns_refunds.combine(refunds) == expected


def test_a_requested_refund_is_not_shown_as_paid_until_finance_pays_it(money_app):
    with money_app.test_request_context():
        request, [refund] = _refunded_return()
        info = request.refund_info
        assert (request.status, info.state, info.requested_minor, info.paid_minor) == ("refunded", "requested", 6000, 0)
        assert info.partial and info.goods_minor == 10000  # 60.00 back for goods worth 100.00
        assert str(info.label) == "Refund requested"
        assert finance_services.approve_refund(refund) is True
        db.session.commit()
        db.session.refresh(request)
        info = request.refund_info
        assert (info.state, info.paid_minor, info.amount_text()) == ("paid", 6000, format_money(6000, "CNY"))
        assert info.partial_text() == f"Partial refund: the goods are worth {format_money(10000, 'CNY')}"
        assert _actions(request.id)[-2:] == ["refund_linked", "refund_paid"]
        assert db.session.query(ReturnRefund).filter_by(return_id=request.id).one().status == "paid"


def test_the_whole_value_is_not_partial(money_app):
    with money_app.test_request_context():
        request, [refund] = _refunded_return(amount="100")
        finance_services.approve_refund(refund)
        info = request.refund_info
        assert info.state == "paid" and not info.partial and info.partial_text() == ""


def test_a_rejected_refund_says_no_money_was_paid(money_app):
    with money_app.test_request_context():
        request, [refund] = _refunded_return()
        finance_services.reject_refund(refund, "Paid in cash at the shop already")
        db.session.commit()
        info = request.refund_info
        assert (info.state, info.paid_minor, info.partial) == ("rejected", 0, False)
        assert _actions(request.id)[-1] == "refund_rejected"


def test_a_refund_spread_over_two_payments_is_paid_when_both_are(money_app):
    with money_app.test_request_context():
        request, refunds = _refunded_return(payments=("100", "100"), quantity=2, amount="150")
        assert [r.amount_minor for r in refunds] == [10000, 5000]
        finance_services.approve_refund(refunds[0])
        info = request.refund_info
        assert (info.state, info.partly_paid, info.amount_text()) == (
            "requested", True, f"{format_money(10000, 'CNY')} of {format_money(15000, 'CNY')} paid")
        finance_services.approve_refund(refunds[1])
        info = request.refund_info
        assert (info.state, info.paid_minor, info.partial) == ("paid", 15000, True)  # 150 of 200


def test_a_provider_refusal_shows_as_failed_until_it_is_paid(money_app):
    with money_app.test_request_context():
        request, [refund] = _refunded_return()
        finance_services.finish_remote_refund(refund.id, "failed", None, "<script>alert(1)</script> card closed")
        db.session.commit()
        assert request.refund_info.state == "failed"
        assert _actions(request.id)[-1] == "refund_failed"
        finance_services.approve_refund(refund)  # finance sends it again: cash pays at once
        db.session.commit()
        assert request.refund_info.state == "paid"


def test_refunds_of_other_sources_are_not_learnt(money_app):
    with money_app.test_request_context():
        order = make_order(lines=((2, "100.00"),))
        payment = finance_services.record_payment(order, "cash", "200")
        refund = finance_services.request_refund(payment, "5", "Goodwill")
        finance_services.approve_refund(refund)
        db.session.commit()
        assert db.session.query(ReturnRefund).count() == 0
        assert returns_refunds.refund_recorded(type("R", (), {"source_type": "support_return", "source_id": "99x",
                                                              "status": "refunded"})()) is None


def test_with_finance_off_the_money_is_paid_back_by_hand(make_app):
    app = make_app(plugins=["orders", "support"])
    with app.test_request_context():
        order = make_order(lines=((2, "100.00"),))
        request = returns.create_return(order, "refund", "damaged", "", {order.lines[0].id: 1})
        returns.decide(request, True, "")
        returns.receive(request, True, "Back on the shelf")
        returns.refund(request, "", "Bank transfer 42")
        db.session.commit()
        info = request.refund_info
        assert (info.state, info.paid_minor, info.partial) == ("manual", 10000, False)
        assert str(info.label) == "Refunded by hand"


def test_a_return_without_refund_has_no_refund_state(make_app):
    app = make_app(plugins=["orders", "support"])
    with app.test_request_context():
        order = make_order()
        request = returns.create_return(order, "exchange", "damaged", "", {order.lines[0].id: 1})
        assert request.refund_info is None


# ----------------------------------------------------------------------------- the pages


def _text(html):
    """The words of a page, without the admins' raw records."""
    html = re.sub(r'<details class="small erp-raw-record">.*?</details>', "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _part(html, url):
    """The part about returns: the support panel of the order page, else the whole page."""
    if url.startswith("/orders/"):
        html = html.split('data-testid="support-panel"', 1)[1].split('data-testid="tracking-link"', 1)[0]
    return _text(html)


@pytest.mark.parametrize("lang,requested,paid,partial", [
    ("en", "Refund requested", "Refund paid", "Partial refund: the goods are worth CN¥100.00"),
    ("zh_CN", "已申请退款", "退款已支付", "部分退款：商品价值 ¥100.00"),
])
def test_staff_return_page_list_and_order_panel_show_requested_then_paid(money_app, lang, requested, paid, partial):
    with money_app.test_request_context():
        request, [refund] = _refunded_return()
        request_id, order_id = request.id, request.order_id
    client = _client(money_app, roles=["admin"])
    client.post("/language", data={"lang": lang})
    pages = (f"/support/returns/{request_id}", "/support/returns", f"/orders/{order_id}")
    for url in pages:
        page = client.get(url)
        assert page.status_code == 200, url
        text = _part(page.get_data(as_text=True), url)
        assert requested in text and "¥60.00" in text and partial in text, url
        assert paid not in text and "已退款" not in text and "Refunded" not in text, url
    with money_app.test_request_context():
        finance_services.approve_refund(db.session.get(type(refund), refund.id))
        db.session.commit()
    for url in pages:
        text = _part(client.get(url).get_data(as_text=True), url)
        assert paid in text and "¥60.00" in text and partial in text and requested not in text, url


@pytest.mark.parametrize("lang,requested,paid,help_text", [
    ("en", "Refund requested", "Refund paid", "Asked for; not paid out yet."),
    ("zh_CN", "已申请退款", "退款已支付", "已申请，尚未支付。"),
])
def test_the_customer_page_shows_requested_then_paid_and_partial(money_app, lang, requested, paid, help_text):
    with money_app.test_request_context():
        request, [refund] = _refunded_return()
        url = public.tracking_url(request.order)
    client = money_app.test_client()
    client.post("/language", data={"lang": lang})
    text = _text(client.get(url).get_data(as_text=True))
    assert requested in text and help_text in text and "¥60.00" in text and "¥100.00" in text
    assert paid not in text and "已退款" not in text
    with money_app.test_request_context():
        finance_services.approve_refund(db.session.get(type(refund), refund.id))
        db.session.commit()
    text = _text(client.get(url).get_data(as_text=True))
    assert paid in text and requested not in text


def test_the_timeline_tells_the_refund_in_words_and_escapes_the_provider(money_app):
    with money_app.test_request_context():
        request, [refund] = _refunded_return()
        finance_services.finish_remote_refund(refund.id, "failed", None, "<script>alert(1)</script>")
        db.session.commit()
        request_id = request.id
    client = _client(money_app, roles=["admin"])
    html = client.get(f"/support/returns/{request_id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    text = _text(html)
    assert "Refund payment failed" in text and "refund_failed" not in text and "None" not in text


def test_the_returns_list_runs_the_same_statements_with_refund_states(money_app):
    with money_app.test_request_context():
        _refunded_return()
    client = _client(money_app, perms=["support.returns.view"])

    def count():
        with money_app.app_context():
            engine = db.engine
        with QueryCounter(engine) as counter:
            assert client.get("/support/returns").status_code == 200
        return counter.count

    few = count()
    with money_app.test_request_context():
        for _i in range(6):
            _request, refunds = _refunded_return()
            finance_services.approve_refund(refunds[0])
            db.session.commit()
    page = client.get("/support/returns").get_data(as_text=True)
    assert page.count('data-testid="refund-amount"') == 7
    assert count() == few


def test_the_returns_list_still_needs_its_permission(money_app):
    client = _client(money_app, perms=["support.tickets.view"])
    assert client.get("/support/returns").status_code == 403


def test_support_without_finance_shows_the_refund_by_hand(make_app):
    app = make_app(plugins=["orders", "support"])
    with app.test_request_context():
        order = make_order(lines=((2, "100.00"),))
        request = returns.create_return(order, "refund", "damaged", "", {order.lines[0].id: 1})
        returns.decide(request, True, "")
        returns.receive(request, True, "Back on the shelf")
        returns.refund(request, "50", "Bank transfer 42")
        db.session.commit()
        request_id, url = request.id, public.tracking_url(request.order)
        assert db.session.get(ReturnRequest, request_id).refund_state == "manual"
    client = _client(app, roles=["admin"])
    for page in (f"/support/returns/{request_id}", "/support/returns"):
        text = _text(client.get(page).get_data(as_text=True))
        assert "Refunded by hand" in text and "¥50.00" in text and "Refund requested" not in text
    text = _text(app.test_client().get(url).get_data(as_text=True))
    assert "Refunded by hand" in text and "Partial refund" in text



def test_the_api_tells_the_refund_state(money_app):
    from tests.support.test_rest_api import _auth, _token

    with money_app.test_request_context():
        request, [refund] = _refunded_return()
        request_id = request.id
    token = _token(money_app, make_user(money_app, roles=["admin"]))

    def read():
        return money_app.test_client().get(f"/api/v1/returns/{request_id}", headers=_auth(token)).get_json()

    body = read()
    assert "refund_state" in body, body
    assert (body["refund_state"], body["refund_paid_minor"], body["refund_amount_minor"]) == ("requested", 0, 6000)
    with money_app.test_request_context():
        finance_services.approve_refund(db.session.get(type(refund), refund.id))
        db.session.commit()
    body = read()
    assert (body["refund_state"], body["refund_paid_minor"]) == ("paid", 6000)
