"""Demo data of support: two teams in two time zones (with gaps in the week, so the coverage page
and the dashboard have something to show), agents and a team lead, canned replies, tickets in
every state with replies and notes, surveys with answers, and returns in every state.

Uses ``ctx.data["orders"]`` and ``ctx.data["customers"]`` from the orders demo (see
plugins/orders/demo.py); everything is done through the services, so every hook fires, and the
audit entries carry the demo's points in time.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import timedelta

from flask import current_app, g
from flask_login import login_user
from sqlalchemy import event, select

from erp_core import settings
from erp_core.auth import services as auth_services
from erp_core.auth.models import Role, User
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.models import AuditLog
from erp_core.timeutil import utcnow
from plugins.orders.public import Order

from . import returns, services, states, surveys
from .models import Survey

log = logging.getLogger(__name__)

AGENTS = [
    ("li.na", "李娜", "Asia/Shanghai"), ("wang.lei", "王磊", "Asia/Shanghai"),
    ("zhang.min", "张敏", "Asia/Shanghai"), ("emma.clark", "Emma Clark", "Europe/London"),
    ("oliver.king", "Oliver King", "Europe/London"),
]
LEADS = ("zhang.min", "oliver.king")
LEAD_PERMISSIONS = ["support.tickets.assign", "support.reports.view", "support.teams.manage", "support.canned.manage"]
CANNED = [
    ("问候 Greeting", "{customer}，您好！感谢联系我们，我是客服{agent}。关于工单 {ticket}，"),
    ("物流延误 Delivery delay", "{customer}，您好！订单 {order} 的包裹在途中有延误，我们已联系快递公司加急处理，预计 1-2 天内送达。"),
    ("退货说明 Return instructions", "{customer}，您好！退货申请已通过。请将商品连同原包装寄回，并在包裹内附上订单号 {order}。"),
    ("Closing", "Thank you, {customer}. I am marking {ticket} as resolved; just reply if anything else comes up."),
]
SUBJECTS = {
    "order_question": ["能否修改收货地址？", "发票怎么开？", "Can I add an item to my order?", "订单什么时候发货？"],
    "delivery": ["快递一直没有更新", "包裹显示已签收但没收到", "Parcel delayed", "能否指定送货时间？"],
    "return": ["茶叶罐有破损", "收到的规格不对", "I want to exchange the cup", "想退货"],
    "complaint": ["客服回复太慢", "包装很差", "Wrong item again"],
    "other": ["有没有实体店？", "Wholesale prices?", "能否定制礼盒？"],
}
REPLIES = ["我们已经查到您的订单，正在处理。", "已为您联系仓库，请稍候。", "Thanks for your patience, we are on it.",
           "请问方便提供一下照片吗？", "问题已经解决，如有其他问题请随时联系。"]
CUSTOMER_LINES = ["好的，谢谢！", "照片已经拍好了。", "Still nothing arrived.", "请尽快处理，谢谢。"]
COMMENTS = {5: ["非常满意，回复很快！", "Great help, thanks!", ""], 4: ["不错", "Good, a little slow", ""],
            3: ["一般", "OK"], 2: ["等了太久", "Answer did not solve it"], 1: ["很失望", "Terrible service"]}


@contextmanager
def _at(when):
    """Date every audit entry written inside the block at ``when`` (the demo's clock)."""
    session = db.session()

    def stamp(sess, _context, _instances):
        for obj in sess.new:
            if isinstance(obj, AuditLog):
                obj.at = when

    event.listen(session, "before_flush", stamp)
    try:
        yield
        session.flush()
    finally:
        event.remove(session, "before_flush", stamp)


@contextmanager
def _as(user):
    """Act as ``user`` (replies carry their name, the audit log their account)."""
    with current_app.test_request_context(method="POST"):
        g.pop("_login_user", None)  # g belongs to the app context, shared with the previous step
        try:
            if user is not None:
                login_user(user)
            yield
        finally:
            g.pop("_login_user", None)


def load(ctx) -> None:
    rng = ctx.rng
    now = utcnow()
    _settings()
    password = auth_services.random_password()  # printed once; never a fixed demo password
    agents = _agents(password)
    teams = _teams(agents)
    for title, body in CANNED:
        services.save_canned(None, title, body, True)
    orders = [o for o in ctx.data.get("orders", []) if isinstance(o, Order)]
    tickets = _tickets(ctx, rng, now, orders, agents)
    answered = _surveys(rng, now)
    made_returns = _returns(ctx, rng, now, orders, agents)
    ctx.data["support_tickets"] = tickets
    ctx.log(f"  {len(teams)} teams, {len(agents)} agents (password {password}), {len(tickets)} tickets, "
            f"{answered} survey answers, {made_returns} returns")


def _settings() -> None:
    values = {}
    if not settings.get("support.phones"):
        values["support.phones"] = "400-820-1234, +86 21 5555 0100"
    if not settings.get("support.emails"):
        values["support.emails"] = "help@example.com"
    if not settings.get("support.hours_text.zh_CN") and not settings.get("support.hours_text.en"):
        values["support.hours_text.zh_CN"] = "每天 8:00–20:00（北京时间）\n伦敦客服：周一至周五 08:00–17:00（英国时间）"
        values["support.hours_text.en"] = "Every day 8:00–20:00 (Beijing time)\nLondon desk: Mon–Fri 08:00–17:00 (UK time)"
    if values:
        settings.set_many(values)


def _agents(password: str) -> list[User]:
    role = db.session.scalar(select(Role).where(Role.name == "support_lead"))
    if role is None:
        role = auth_services.create_role("support_lead", "Support team lead", LEAD_PERMISSIONS)
    made = []
    for username, display, tz in AGENTS:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            roles = ["support_agent"] + (["support_lead"] if username in LEADS else [])
            user = auth_services.create_user(username, password, display_name=display, roles=roles,
                                             email=f"{username}@example.com")
            user.timezone = tz
        made.append(user)
    db.session.flush()
    return made


def _teams(agents: list[User]):
    by_name = {u.username: u for u in agents}
    shanghai = services.save_team(
        None, "上海客服 Shanghai desk", "Asia/Shanghai", True,
        {d: "08:00-20:00" for d in range(6)},
        [by_name["li.na"].id, by_name["wang.lei"].id, by_name["zhang.min"].id], [by_name["zhang.min"].id])
    london = services.save_team(
        None, "London desk", "Europe/London", True, {d: "08:00-17:00" for d in range(5)},
        [by_name["emma.clark"].id, by_name["oliver.king"].id], [by_name["oliver.king"].id])
    return [shanghai, london]


def _pick_orders(orders, statuses):
    ids = [o.id for o in orders]
    if not ids:
        return []
    return list(db.session.scalars(select(Order).where(Order.id.in_(ids), Order.status.in_(statuses))
                                   .order_by(Order.id)))


def _tickets(ctx, rng, now, orders, agents):
    plan = (["open"] * 8 + ["pending"] * 5 + ["resolved"] * 10 + ["closed"] * 12 + ["reopened"] * 2)
    candidates = _pick_orders(orders, ("confirmed", "shipped", "delivered", "completed")) or orders
    customers = ctx.data.get("customers", [])
    made = []
    for index, target in enumerate(plan):
        age_hours = rng.uniform(2, 24 * 60) if target in ("resolved", "closed") else rng.uniform(1, 24 * 6)
        opened = now - timedelta(hours=age_hours)
        data, agent = _ticket_input(rng, index, candidates, customers, agents)
        with _as(None), _at(opened):
            ticket = services.open_ticket(data, now=opened)
        if not (target == "open" and index % 3 == 0):  # else untouched, unassigned: some are overdue
            _work_on(ticket, target, rng, agent, opened, now)
        made.append(ticket)
    return made


def _ticket_input(rng, index, candidates, customers, agents):
    """A random request (about an order, a known customer or from a guest) and the agent for it."""
    category = rng.choice(states.CATEGORIES)
    order = rng.choice(candidates) if candidates and rng.random() < 0.75 else None
    customer = None if order is not None or not customers else rng.choice(customers)
    agent = rng.choice(agents)
    guest = order is None and customer is None
    data = services.TicketInput(
        subject=rng.choice(SUBJECTS[category]), body=rng.choice(SUBJECTS[category]) + "\n" + rng.choice(CUSTOMER_LINES),
        category=category, priority=rng.choice(["low", "normal", "normal", "normal", "high", "urgent"]),
        channel=rng.choice(["web", "web", "phone", "email", "chat", "walk_in"]),
        order_id=order.id if order is not None else None,
        customer_id=customer.id if customer is not None else None,
        contact_email=f"guest{index}@example.com" if guest else "",
        contact_name=f"访客 {index}" if guest else "")
    return data, agent


def _work_on(ticket, target: str, rng, agent, opened, now) -> None:
    """The agent's answers and status changes that bring a ticket to ``target``."""
    step = opened + timedelta(minutes=rng.uniform(10, 600))
    with _as(agent), _at(min(step, now)):
        services.assign(ticket, ticket.team_id, agent.id)
        services.add_message(ticket, "note", "已核对订单信息。" if rng.random() < 0.5 else "Checked the order.",
                             now=min(step, now))
        services.add_message(ticket, "reply", rng.choice(REPLIES), now=min(step, now))
    if target == "open":
        return
    step += timedelta(hours=rng.uniform(1, 20))
    if target == "pending":
        with _as(agent), _at(min(step, now)):
            services.change_status(ticket, states.PENDING, now=min(step, now))
        return
    with _as(agent), _at(min(step, now)):
        services.change_status(ticket, states.RESOLVED, now=min(step, now))
    if target in ("closed", "reopened"):
        step += timedelta(hours=rng.uniform(24, 72))
        with _as(agent), _at(min(step, now)):
            services.change_status(ticket, states.CLOSED, now=min(step, now))
    if target == "reopened":
        step += timedelta(hours=rng.uniform(1, 24))
        with _as(agent), _at(min(step, now)):
            services.change_status(ticket, states.OPEN, note="客户再次来电", now=min(step, now))


def _surveys(rng, now) -> int:
    answered = 0
    pending = db.session.scalars(select(Survey).where(Survey.answered_at.is_(None)).order_by(Survey.id)).all()
    for survey in pending:
        if rng.random() < 0.3:
            continue
        score = rng.choices([5, 4, 3, 2, 1], weights=[55, 30, 10, 3, 2])[0]
        if survey.kind == "order":
            # issued when the demo delivered the order, i.e. just now: spread them over the past
            survey.issued_at = now - timedelta(days=rng.uniform(0.5, 80))
            survey.expires_at = survey.issued_at + timedelta(days=surveys.valid_days())
            db.session.flush()
        when = survey.issued_at + (min(survey.expires_at, now) - survey.issued_at) * rng.uniform(0.05, 0.95)
        with _as(None), _at(when):
            surveys.answer(survey, score, rng.choice(COMMENTS[score]), now=when)
        answered += 1
    return answered


def _returns(ctx, rng, now, orders, agents) -> int:
    delivered = _pick_orders(orders, tuple(states.DELIVERED_ORDER_STATUSES))
    targets = ["requested", "requested", "approved", "rejected", "received", "refunded", "exchanged", "closed"]
    made = 0
    agent = agents[0]
    candidates = list(reversed(delivered))
    for target in targets:
        for _attempt in range(5):  # another order when a module refuses a step (e.g. nothing paid to refund)
            if not candidates:
                return made
            order = candidates.pop(0)
            lines = returns.returnable_lines(order)
            quantities = {item.line.id: max(1, item.available // 2) for item in lines[:2] if item.available}
            when = now - timedelta(days=rng.uniform(1, 20))
            try:
                with db.session.begin_nested():
                    with _as(None), _at(when):
                        rr = returns.create_return(order, "exchange" if target == "exchanged" else "refund",
                                                   rng.choice(list(states.REASONS)), "茶叶罐有凹痕 / the tin is dented",
                                                   quantities, source="customer", now=when)
                    with _as(agent), _at(when + timedelta(hours=3)):
                        _walk(rr, target, rng)
            except DomainError as exc:
                log.debug("demo: return on %s stopped at a step, trying another order: %s", order.number, exc)
                continue
            made += 1
            break
    return made


def _walk(rr, target: str, rng) -> None:
    if target == "requested":
        return
    if target == "rejected":
        returns.decide(rr, False, "超过退货期限 / outside the return period")
        return
    returns.decide(rr, True, "请寄回商品 / please send the goods back")
    if target == "approved":
        return
    returns.receive(rr, restock=rng.random() < 0.7, note="仓库已签收 / checked in by the warehouse")
    if target == "received":
        return
    if target == "exchanged":
        returns.exchange(rr, note="顺丰 SF1234567890")
        return
    returns.refund(rr, "", note="原路退回 / back to the original payment")
    if target == "closed":
        returns.close(rr, "")
