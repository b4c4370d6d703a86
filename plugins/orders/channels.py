"""Sales channels (销售渠道) of orders: where an order came from (shop, phone, WeChat, Taobao...).

The list is the site setting ``orders.channels``: one channel a line, ``code`` or
``code = Label``. The built-in codes below have translated labels; any other code shows the
label as the admin typed it (or the code itself). Codes are lower-case letters, digits, ``-``
and ``_`` (at most 24). An order keeps its code even when it leaves the list later.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from erp_core import settings

SETTING = "orders.channels"
DEFAULT_CHANNEL = "shop"  # existing orders and orders entered without a channel
BUILTIN = {
    "shop": _l("Shop"), "phone": _l("Phone"), "wechat": _l("WeChat"), "taobao": _l("Taobao"),
    "jd": _l("JD.com"), "website": _l("Website"), "api": _l("API"), "import": _l("Import"),
}
DEFAULT_LIST = "\n".join(BUILTIN)
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,23}$")
MAX_REF = 100  # characters of an external reference


def parse(text: str) -> tuple[dict[str, str], list[str]]:
    """``({code: typed label or ""}, [problems])`` of the setting's text."""
    result: dict[str, str] = {}
    problems = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        code, _sep, label = line.partition("=")
        code = code.strip().lower()
        if not _CODE.match(code):
            problems.append(_("%(code)s is not a usable channel code: lower-case letters, digits, - and _, "
                              "at most 24.", code=code or line))
            continue
        result[code] = label.strip()[:60]
    return result, problems


def check_setting(value) -> str | None:
    """The settings page's check of ``orders.channels``: every line usable, at least one channel."""
    codes, problems = parse(str(value or ""))
    if problems:
        return problems[0]
    if not codes:
        return _("Give at least one channel.")
    return None


def channels() -> dict[str, str]:
    """``{code: label in the reader's language}`` of the channels offered, in the setting's order."""
    codes, _problems = parse(settings.get(SETTING) or DEFAULT_LIST)
    return {code: label or str(BUILTIN.get(code, code)) for code, label in (codes or {DEFAULT_CHANNEL: ""}).items()}


def label(code: str | None, offered: dict[str, str] | None = None) -> str:
    """The label of ``code`` (one no longer offered still reads well)."""
    offered = channels() if offered is None else offered
    if not code:
        return ""
    return offered.get(code) or str(BUILTIN.get(code, code))


def choices() -> list[tuple[str, str]]:
    """``(code, label)`` pairs for a select."""
    return list(channels().items())


def check_channel(raw: str | None, default: str = DEFAULT_CHANNEL) -> str:
    """The channel code of ``raw`` (empty: ``default``, or the first offered one); raises
    ``ValueError`` with a translated message for a code not in the list."""
    code = (raw or "").strip().lower()
    offered = channels()
    if not code:
        return default if default in offered else next(iter(offered))
    if code not in offered:
        raise ValueError(_("Unknown channel %(code)s; choose one of: %(codes)s.", code=code[:30],
                           codes=", ".join(offered)))
    return code


def check_external_ref(raw: str | None) -> str | None:
    """The external reference stripped (``None`` when empty); ``ValueError`` when too long."""
    ref = (raw or "").strip()
    if len(ref) > MAX_REF:
        raise ValueError(_("An external reference has at most %(n)d characters.", n=MAX_REF))
    return ref or None


def form_context(form) -> dict:
    """Fill the entry form's channel menu (a channel no longer offered stays choosable on the
    order that has it) and name what the template needs: ``channel_label`` and the order a
    refused external reference belongs to (``duplicate_of``)."""
    offered = channels()
    current = form.channel.data
    options = list(offered.items())
    if current and current not in offered:
        options.append((current, label(current, offered)))
    form.channel.choices = options
    if not form.channel.data:
        form.channel.data = check_channel("")
    return {"channel_label": lambda code: label(code, offered), "duplicate_of": getattr(form, "duplicate_of", None)}


def audit_vocabulary() -> list:
    """How tags, re-orders, channels and external references read in an order's history."""
    from erp_core.contrib import AuditVocabulary, HistoryField

    fields = {"tag": _l("Tag"), "from": _l("Copied from"),
              "channel": HistoryField(_l("Channel"), "custom", format=lambda v, _vals: label(v)),
              "external_ref": _l("External reference")}
    actions = {"tag_added": _l("Tag added"), "tag_removed": _l("Tag removed"), "duplicated": _l("Created as a re-order")}
    return [AuditVocabulary("order", _l("Order"), actions, fields)]
