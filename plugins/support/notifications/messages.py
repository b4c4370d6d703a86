"""Writing a notification: its facts (taken from the order and the event) and its subject,
plain text, HTML and text-message versions, in the customer's language.

The facts are a plain dict, so an admin's preview can use a sample order that is not stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from erp_core import settings
from erp_core.i18n import filter_money

from . import kinds


@dataclass(frozen=True)
class Message:
    """One notification written out in one language."""

    subject: str
    text: str
    html: str
    sms: str


def order_facts(order) -> dict[str, Any]:
    """What every notification may say about ``order`` (the customer's link included)."""
    from ..public import tracking_url

    customer = order.customer
    return {
        "order_number": order.number,
        "customer_name": order.contact_name or (customer.name if customer is not None else ""),
        "currency": order.currency,
        "lines": [{"name": line.name, "spec": line.spec, "quantity": line.quantity, "unit": line.unit,
                   "amount_minor": line.line_total_minor} for line in order.lines],
        "discount_minor": order.discount_minor,
        "total_minor": order.total_minor,
        "tracking_url": tracking_url(order) or "",
    }


def sample_facts(kind: str) -> dict[str, Any]:
    """Facts of a made-up order, for the preview when the site has no order yet."""
    return {
        "order_number": "SO-0000-0001", "customer_name": _("Sample Customer"), "currency": settings.company_currency(),
        "lines": [{"name": _("Sample product"), "spec": "", "quantity": 2, "unit": "pcs", "amount_minor": 12800},
                  {"name": _("Another product"), "spec": "", "quantity": 1, "unit": "pcs", "amount_minor": 5600}],
        "discount_minor": 0, "total_minor": 18400, "tracking_url": "https://shop.example.com/help/t/1/sample",
        **sample_event(kind),
    }


def sample_event(kind: str) -> dict[str, Any]:
    """Made-up facts of the event of ``kind`` (carrier, return number, refund...)."""
    return {
        kinds.SHIPPED: {"carrier": "SF Express", "tracking_number": "SF1234567890"},
        kinds.DELIVERY_PROBLEM: {"carrier": "SF Express", "tracking_number": "SF1234567890"},
        kinds.DELIVERED: {"survey_url": "https://shop.example.com/help/survey/1/sample"},
        kinds.RETURN_APPROVED: {"return_number": "RT-0001"},
        kinds.RETURN_RECEIVED: {"return_number": "RT-0001"},
        kinds.REFUND_PAID: {"refund_minor": 5600, "refund_currency": settings.company_currency()},
    }.get(kind, {})


def _company() -> dict[str, Any]:
    phones = [p.strip() for p in (settings.get("support.phones") or "").split(",") if p.strip()]
    emails = [e.strip() for e in (settings.get("support.emails") or "").split(",") if e.strip()]
    return {"company_name": settings.get("company.name") or "", "support_phones": phones, "support_emails": emails}


def _subject(kind: str, facts: dict) -> str:
    number = facts["order_number"]
    subjects = {
        kinds.ORDER_CONFIRMED: lambda: _("Your order %(number)s is confirmed", number=number),
        kinds.SHIPPED: lambda: _("Your order %(number)s has shipped", number=number),
        kinds.DELIVERED: lambda: _("Your order %(number)s has been delivered", number=number),
        kinds.DELIVERY_PROBLEM: lambda: _("A problem with the delivery of your order %(number)s", number=number),
        kinds.RETURN_APPROVED: lambda: _("Your return %(ret)s is approved", ret=facts.get("return_number", "")),
        kinds.RETURN_RECEIVED: lambda: _("We received your return %(ret)s", ret=facts.get("return_number", "")),
        kinds.REFUND_PAID: lambda: _("Your refund for order %(number)s is paid", number=number),
    }
    return subjects[kind]()


def _sms(kind: str, facts: dict, company: str) -> str:
    number = facts["order_number"]
    link = facts.get("tracking_url") or ""
    texts = {
        kinds.ORDER_CONFIRMED: lambda: _("[%(company)s] Your order %(number)s is confirmed, total %(total)s. "
                                         "Track it: %(link)s", company=company, number=number, link=link,
                                         total=filter_money(facts["total_minor"], facts["currency"])),
        kinds.SHIPPED: lambda: _("[%(company)s] Your order %(number)s has shipped with %(carrier)s, tracking "
                                 "number %(tracking)s. %(link)s", company=company, number=number, link=link,
                                 carrier=facts.get("carrier", ""), tracking=facts.get("tracking_number", "")),
        kinds.DELIVERED: lambda: _("[%(company)s] Your order %(number)s has been delivered. Tell us how we did: "
                                   "%(survey)s", company=company, number=number, survey=facts.get("survey_url", "")),
        kinds.DELIVERY_PROBLEM: lambda: _("[%(company)s] There is a problem with the delivery of your order "
                                          "%(number)s; we are on it and will contact you. %(link)s",
                                          company=company, number=number, link=link),
        kinds.RETURN_APPROVED: lambda: _("[%(company)s] Your return %(ret)s for order %(number)s is approved.",
                                         company=company, ret=facts.get("return_number", ""), number=number),
        kinds.RETURN_RECEIVED: lambda: _("[%(company)s] We received the goods of your return %(ret)s.",
                                         company=company, ret=facts.get("return_number", "")),
        kinds.REFUND_PAID: lambda: _("[%(company)s] A refund of %(amount)s for order %(number)s has been paid.",
                                     company=company, number=number,
                                     amount=filter_money(facts.get("refund_minor", 0), facts.get("refund_currency"))),
    }
    return texts[kind]()


def render(kind: str, facts: dict[str, Any], language: str) -> Message:
    """The notification ``kind`` about ``facts`` written in ``language``."""
    with force_locale(language):
        context = {**_company(), **facts, "kind": kind, "language": language, "subject": _subject(kind, facts)}
        # Straight from the environment: no page context (no signed-in user in a job or the CLI).
        env = current_app.jinja_env
        text = env.get_template(f"support/notify/{kind}.txt").render(context)
        html = env.get_template(f"support/notify/{kind}.html").render(context)
        sms = _sms(kind, facts, context["company_name"])
    text = re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", text)  # the templates' optional parts leave blank runs
    return Message(context["subject"], text.strip() + "\n", html, sms)
