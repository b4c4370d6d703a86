"""Hostile review: a price-list manager whose own discount is limited may not lift the limit of
their own role, nor give another role more than they may give themselves."""

from decimal import Decimal

from sqlalchemy import select

from erp_core.auth.models import Role, User
from erp_core.extensions import db
from plugins.orders.models_pricing import RoleDiscountLimit
from tests.helpers import login, make_user


def _limited_manager(app):
    user_id = make_user(app, perms=["orders.pricelists.manage"])
    with app.app_context():
        own = db.session.get(User, user_id).roles[0].id
        other = db.session.scalar(select(Role.id).where(Role.name == "customer_service"))
        db.session.add(RoleDiscountLimit(role_id=own, max_percent=Decimal(5)))
        db.session.commit()
    client = app.test_client()
    login(client, app, user_id)
    return client, own, other


def _limit(app, role_id):
    with app.app_context():
        row = db.session.get(RoleDiscountLimit, role_id)
        return None if row is None else row.max_percent


def test_limited_manager_cannot_raise_or_clear_limits(orders_app):
    client, own, other = _limited_manager(orders_app)
    url = "/orders/pricing/discount-limits"
    for data in ({f"role-{own}": ""}, {f"role-{own}": "50"}, {f"role-{own}": "5", f"role-{other}": "60"}):
        response = client.post(url, data=data)
        assert response.status_code == 422, data
        assert "more than the 5%" in response.get_data(as_text=True)
    assert _limit(orders_app, own) == Decimal(5) and _limit(orders_app, other) is None
    # Lowering or keeping is fine; a role left without a limit stays so.
    assert client.post(url, data={f"role-{own}": "3", f"role-{other}": "4"}).status_code == 302
    assert _limit(orders_app, own) == Decimal(3) and _limit(orders_app, other) == Decimal(4)


def test_unlimited_manager_may_set_any_limit(orders_app, staff):
    with orders_app.app_context():
        other = db.session.scalar(select(Role.id).where(Role.name == "customer_service"))
    assert staff.post("/orders/pricing/discount-limits", data={f"role-{other}": "60"}).status_code == 302
    assert staff.post("/orders/pricing/discount-limits", data={f"role-{other}": ""}).status_code == 302
    assert _limit(orders_app, other) is None
