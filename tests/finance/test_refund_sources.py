"""A refund's cause is named and linked by the plugin owning it (``erp_source_labels``): a return's
refund reads "Return RMA-…" linking to the return, in one query for the whole refunds list."""

import re

import pytest

from erp_core.extensions import db
from plugins.finance import services
from plugins.finance.models import Refund
from plugins.support import returns
from tests.finance.conftest import make_order as make_finance_order
from tests.helpers import QueryCounter, login, make_user
from tests.support.helpers import make_order


@pytest.fixture
def money_app(make_app):
    return make_app(plugins=["orders", "finance", "support"])


def _refunded_returns(app, count, reason="Dented tin"):
    """``count`` delivered, paid orders each with a return refunded through finance; their numbers."""
    numbers = []
    with app.test_request_context():
        for _ in range(count):
            order = make_order(lines=((2, "100.00"),))
            services.record_payment(order, "cash", "200")
            request = returns.create_return(order, "refund", "damaged", reason, {order.lines[0].id: 1})
            returns.decide(request, True, "")
            returns.receive(request, True, "Back on the shelf")
            returns.refund(request, "60")
            db.session.commit()
            numbers.append((request.id, request.number))
    return numbers


def _client(app, *perms, roles=()):
    client = app.test_client()
    login(client, app, make_user(app, perms=list(perms), roles=list(roles)))
    return client


@pytest.mark.parametrize("lang, word", [("en", "Return"), ("zh_CN", "退货")])
def test_the_refunds_list_names_and_links_the_return(money_app, lang, word):
    [(return_id, number)] = _refunded_returns(money_app, 1)
    client = _client(money_app, roles=["admin"])
    client.post("/language", data={"lang": lang})
    html = client.get("/finance/refunds?status=all").get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)" data-testid="refund-source">([^<]+)</a>', html)
    assert link and link.group(2) == f"{word} {number}" and "support_return" not in html
    assert link.group(1) == f"/support/returns/{return_id}"
    assert client.get(link.group(1)).status_code == 200
    with money_app.app_context():
        refund = db.session.query(Refund).one()
        payment_id, order_id = refund.payment_id, refund.order_id
    for page in (f"/finance/payments/{payment_id}", f"/finance/orders/{order_id}"):
        html = client.get(page).get_data(as_text=True)
        assert f'data-testid="refund-source">{word} {number}</a>' in html, page


def test_the_refunds_list_asks_once_whatever_the_rows(money_app):
    client = _client(money_app, "finance.view", "finance.refunds.manage")
    _refunded_returns(money_app, 2)
    with money_app.app_context():
        engine = db.engine
    url = "/finance/refunds?status=all"
    client.get(url)
    with QueryCounter(engine) as small:
        assert client.get(url).status_code == 200
    _refunded_returns(money_app, 6)
    with QueryCounter(engine) as large:
        html = client.get(url).get_data(as_text=True)
    assert large.count == small.count, large.statements
    assert html.count('data-testid="refund-source"') == 8


def test_without_support_the_cause_keeps_finance_wording(make_app):
    app = make_app(plugins=["orders", "finance"])
    with app.test_request_context():
        order = make_order(lines=((1, "50.00"),))
        payment = services.record_payment(order, "cash", "50")
        services.request_refund(payment, "5", "<script>alert(1)</script>", source_type="support_return", source_id=9)
        db.session.commit()
    html = _client(app, "finance.view").get("/finance/refunds?status=all").get_data(as_text=True)
    assert "refund-source" not in html and "#9" in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def _money_line(html):
    """The summary's headline figure and its explanation, tags stripped."""
    summary = html[html.index('data-testid="finance-summary"'):]
    summary = summary[:summary.index("</dl>")]
    text = lambda testid: re.sub(r"\s+", " ", re.search(  # noqa: E731
        rf'data-testid="{testid}">(.*?)</dd>', summary, re.S).group(1)).strip() if testid in summary else None
    return text("finance-due"), text("finance-credit"), text("finance-balance"), text("finance-explain")


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_order_summary_gives_one_figure_and_says_why(make_app, lang):
    app = make_app(plugins=["orders", "finance"])
    with app.test_request_context():
        due = make_finance_order()
        services.record_payment(due, "cash", "40")
        refunded = make_finance_order()
        services.request_refund(services.record_payment(refunded, "cash", "100"), "30", "Dented tin")
        db.session.commit()
        services.approve_refund(db.session.query(Refund).one())
        over = make_finance_order()
        services.record_payment(over, "cash", "120", as_credit=True)
        db.session.commit()
        ids = due.id, refunded.id, over.id
    client = _client(app, "finance.view")
    client.post("/language", data={"lang": lang})
    pages = [client.get(f"/finance/orders/{i}").get_data(as_text=True) for i in ids]
    en = lang == "en"
    y = "CN¥" if en else "¥"
    assert _money_line(pages[0]) == (f"{y}60.00", None, f"{y}40.00", "Still due is the order total less the payments received."
                                     if en else "尚欠金额＝订单总额减去已收款项。")
    assert _money_line(pages[1]) == (f"{y}0.00", None, f"{y}70.00", "Paid in full. Refunds (of returned goods, say) do not "
                                     "make the order due again." if en else "已全额付款。退款（例如退货的退款）不会使订单重新欠款。")
    assert _money_line(pages[2])[:3] == (None, f"{y}20.00", f"{y}120.00")
    assert ("Overpaid: to refund or keep as credit" if en else "多收：待退还或记为客户余额") in pages[2]
    assert "Balance (paid less refunded)" not in pages[1] and "余额（已收减已退）" not in pages[1]
