"""Support (客服): tickets with SLA, returns and exchanges, satisfaction surveys, the customer's
tracking page and contact entries, and 24/7 coverage across teams."""

from flask_babel import lazy_gettext as _l

from erp_core import hookimpl
from erp_core.contrib import NavItem, Panel, Permission, Schedule, SettingField
from erp_core.plugins import PluginMeta

from . import models  # noqa: F401  (registers the tables)

meta = PluginMeta(
    name="support",
    version="0.1.0",
    title=_l("Support"),
    description=_l("Tickets with SLA, returns and exchanges, satisfaction surveys, the customer's tracking "
                   "page and round-the-clock coverage."),
    requires=("orders",),
)

AGENTS = ("support_agent", "customer_service")

# Outgoing webhook events of support, emitted by its services where they happen.
WEBHOOK_EVENTS = {
    "ticket.created": _l("Ticket opened"),
    "ticket.message_added": _l("Ticket reply to or message from the customer"),
    "ticket.status_changed": _l("Ticket status changed"),
    "return.status_changed": _l("Return request status changed"),
}


@hookimpl
def erp_addhooks(pluginmanager):
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def erp_webhook_events():
    return WEBHOOK_EVENTS


@hookimpl
def erp_blueprints():
    from .notifications.views import bp as notify_bp
    from .public_views import bp as public_bp
    from .views import bp

    return [bp, public_bp, notify_bp]


@hookimpl
def erp_api_blueprints():
    from .rest_api import BLUEPRINTS

    return list(BLUEPRINTS)


@hookimpl
def erp_permissions():
    return [
        Permission("support.tickets.view", _l("See support tickets and queues"), AGENTS),
        Permission("support.tickets.reply", _l("Open, answer and resolve tickets"), AGENTS),
        Permission("support.tickets.assign", _l("Assign tickets to any team or agent (team lead)"), ()),
        Permission("support.returns.view", _l("See return requests"), AGENTS + ("warehouse",)),
        Permission("support.returns.manage", _l("Approve, refund, exchange and close returns"), AGENTS),
        Permission("support.returns.receive", _l("Receive returned goods"), AGENTS + ("warehouse",)),
        Permission("support.tracking.manage", _l("Renew or switch off customers' tracking links"), AGENTS),
        Permission("support.reports.view", _l("See satisfaction (CSAT) reports (team lead)"), ()),
        Permission("support.teams.manage", _l("Manage support teams and their hours (team lead)"), ()),
        Permission("support.canned.manage", _l("Manage canned replies (team lead)"), ()),
    ]


@hookimpl
def erp_nav_items():
    return [
        NavItem(_l("Support tickets"), "support.queue", "support.tickets.view", icon="headset", order=50),
        NavItem(_l("Returns"), "support.returns_list", "support.returns.view", icon="arrow-return-left", order=51),
        NavItem(_l("Satisfaction"), "support.csat", "support.reports.view", icon="emoji-smile", order=52),
        NavItem(_l("Support coverage"), "support.coverage", "support.tickets.view", icon="clock-history", order=53),
        NavItem(_l("Support teams"), "support.teams", "support.teams.manage", icon="people", order=800, group="admin"),
        NavItem(_l("Canned replies"), "support.canned_list", "support.canned.manage", icon="chat-square-text",
                order=810, group="admin"),
    ]


@hookimpl
def erp_dashboard_widgets(user):
    from . import widgets

    return widgets.dashboard(user)


@hookimpl
def erp_public_blocks():
    from . import widgets

    return widgets.public_blocks()


@hookimpl
def erp_order_panels(order, user):
    from . import widgets

    return [Panel(_l("Support"), "support/_order_panel.html", lambda: widgets.order_panel(order, user),
                  permission="support.tickets.view", order=60),
            Panel(_l("Messages to the customer"), "support/_notifications_panel.html",
                  lambda: widgets.notifications_panel(order), order=61)]


def _check_phones(value):
    from .services import check_phone_list

    return check_phone_list(value)


def _check_url(value):
    if value and not (value.startswith("https://") or value.startswith("http://")):
        return _l("Start the address with https:// (or http://).")
    return None


def _check_positive(value):
    if value is not None and value != "" and int(value) <= 0:
        return _l("Use a number above zero.")
    return None


@hookimpl
def erp_settings_fields():
    section = _l("Support")
    fields = [
        SettingField("support.phones", _l("Support phone numbers"), "string", "", section,
                     help=_l("Separate several numbers with commas. Shown on the home page, the tracking page and "
                             "the order page."), validate=_check_phones),
        SettingField("support.emails", _l("Support e-mail addresses"), "email_list", "", section,
                     help=_l("Separate several addresses with commas.")),
        SettingField("support.hours_text.zh_CN", _l("Support hours in Chinese (as customers read them)"), "text", "",
                     section, help=_l("For example: 每天 8:00–22:00（北京时间），邮件一天内回复。 Shown to readers of "
                                      "Chinese pages, and to everyone when the English text is empty.")),
        SettingField("support.hours_text.en", _l("Support hours in English (as customers read them)"), "text", "",
                     section, help=_l("For example: Every day 8:00-22:00 (Beijing time); e-mail answered within a day. "
                                      "Shown to readers of English pages, and to everyone when the Chinese text is empty.")),
        SettingField("support.public_url", _l("Address of this site for customers"), "string", "", section,
                     help=_l("Used in links sent by e-mail from background jobs, e.g. https://shop.example.com"),
                     validate=_check_url),
        SettingField("support.survey_valid_days", _l("Days a survey link stays valid"), "integer", 14, section,
                     validate=_check_positive),
        SettingField("support.survey_low_score", _l("Scores up to this open a follow-up ticket"), "integer", 2,
                     section),
        SettingField("support.attachment_max_mb", _l("Largest attachment (MB)"), "integer", 5, section,
                     validate=_check_positive),
    ]
    from .services import SLA_DEFAULTS
    from .states import PRIORITY_LABELS

    fields.extend(_notification_fields())
    for priority, (first, resolve) in SLA_DEFAULTS.items():
        label = PRIORITY_LABELS[priority]
        fields.append(SettingField(f"support.sla.{priority}.first", _l("SLA %(priority)s: first response (working hours)",
                                                                       priority=label),
                                   "integer", first, section, validate=_check_positive))
        fields.append(SettingField(f"support.sla.{priority}.resolve", _l("SLA %(priority)s: resolution (working hours)",
                                                                         priority=label),
                                   "integer", resolve, section, validate=_check_positive))
    return fields


def _notification_fields() -> list[SettingField]:
    from .notifications import kinds, sms

    section = _l("Customer notifications")
    fields = [SettingField(kinds.setting_key(kind), _l("Tell the customer: %(kind)s", kind=kinds.KIND_LABELS[kind]),
                           "boolean", True, section) for kind in kinds.KINDS]
    choices = (("", _l("Off")), *((key, adapter.label) for key, adapter in sms.adapters().items()))
    fields.append(SettingField(kinds.SMS_SETTING, _l("Text messages (SMS)"), "choice", "", section, choices=choices,
                               help=_l("Also send the notifications above by text message, through this "
                                       "provider. \"Record only\" keeps the text on the order's page.")))
    return fields


@hookimpl
def erp_schedules():
    return [
        Schedule("support.sla_scan", 300, "plugins.support.jobs:scan_sla", _l("Flag tickets past their response times")),
        Schedule("support.send_surveys", 600, "plugins.support.jobs:send_surveys",
                 _l("Send satisfaction surveys")),
        Schedule("support.purge", 86400, "plugins.support.jobs:purge", _l("Clear old rate-limit records")),
    ]


@hookimpl
def erp_demo_data(ctx):
    from . import demo

    demo.load(ctx)


@hookimpl
def erp_order_created(order):
    from . import public

    public.create_access(order)


@hookimpl
def erp_order_status_changed(order, old_status, new_status, note):
    from . import notifications

    survey = None
    if new_status == "delivered":
        from . import surveys

        survey = surveys.issue_for_order(order)
    notifications.order_status_changed(order, new_status, survey)


@hookimpl
def erp_shipment_status_changed(shipment, old_status, new_status):
    from . import notifications

    notifications.shipment_status_changed(shipment, old_status, new_status)


@hookimpl
def erp_return_status_changed(return_request, old_status, new_status):
    from . import notifications

    notifications.return_status_changed(return_request, new_status)


@hookimpl
def erp_refund_recorded(refund):
    from . import notifications, returns_refunds

    returns_refunds.refund_recorded(refund)
    notifications.refund_recorded(refund)


@hookimpl
def erp_refund_failed(refund, message):
    from . import returns_refunds

    returns_refunds.refund_failed(refund, message)


@hookimpl
def erp_sms_adapters():
    from .notifications import RecordingAdapter

    return [RecordingAdapter]


@hookimpl
def erp_ticket_requested(order, subject, body, category, source_type, source_id):
    from . import services

    ticket = services.ticket_requested(order, subject, body, category, source_type, source_id)
    return [{"id": ticket.id, "label": ticket.number, "url": services.path_for("support.ticket", ticket_id=ticket.id)}]


@hookimpl
def erp_setup_checklist():
    from erp_core import settings
    from erp_core.contrib import SetupItem

    return [SetupItem("support_hours", _l("Support hours: when customers can reach you"),
                      lambda: any(str(settings.get(f"support.hours_text.{lang}") or "").strip()
                                  for lang in ("zh_CN", "en")), "admin.settings_page",
                      help=_l("Shown on the home page and the customers' tracking page."), order=50)]


@hookimpl
def erp_audit_vocabulary():
    from .display import audit_vocabulary

    return audit_vocabulary()


@hookimpl
def erp_system_texts():
    from .display import SYSTEM_TEXTS

    return SYSTEM_TEXTS


@hookimpl
def erp_source_labels(sources):
    from . import returns

    return returns.source_labels(sources)


@hookimpl
def erp_search(query, user, limit):
    from .search import search

    return search(query, user, limit)
