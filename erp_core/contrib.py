"""The small value types plugins return from contribution hooks."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Permission:
    """A permission code a plugin declares, e.g. ``orders.view``.

    ``roles`` names the built-in roles that receive it by default (``admin`` has every
    permission anyway): ``customer_service``, ``warehouse``, ``finance``, ``support_agent``.
    """

    code: str  # "<plugin>.<what>", e.g. "loyalty.view"; checked with requires(code) and user.can(code)
    label: Any  # shown in the role editor (a lazy translation)
    roles: tuple[str, ...] = ()  # built-in roles granted it by `erp db upgrade` / `erp init`


@dataclass(frozen=True)
class NavItem:
    """An entry of the main menu. Shown when ``permission`` is held (or is ``None``)."""

    label: Any  # the menu text (a lazy translation)
    endpoint: str  # the view it opens, e.g. "loyalty.index"
    permission: str | None = None  # hidden from users without it
    icon: str = "circle"  # a Bootstrap Icons name
    order: int = 100  # position: lower comes first
    group: str | None = None  # "admin" puts it under Administration


@dataclass
class Widget:
    """A dashboard card: ``template`` is rendered with ``context`` (or what ``context()`` returns)."""

    title: Any  # the card's header
    template: str  # rendered as the card's body, e.g. "loyalty/_widget.html"
    context: dict | Callable[[], dict] = field(default_factory=dict)  # a callable is called only when shown
    permission: str | None = None  # hidden from users without it
    order: int = 100  # position: lower comes first
    width: int = 6  # Bootstrap columns out of 12 on wide screens


@dataclass
class SetupItem:
    """One step of the administrator's "set up your company" checklist on the dashboard.

    ``done`` is a bool or a callable answering one; ``endpoint`` (with ``values``) is the page
    where the step is done. ``key`` names the step (unique)."""

    key: str
    label: Any
    done: bool | Callable[[], bool]
    endpoint: str
    values: dict = field(default_factory=dict)
    help: Any = ""
    order: int = 100


@dataclass
class Panel:
    """A block on a record page (``erp_order_panels``, ``erp_customer_panels``, ...) or the public
    home page (``erp_public_blocks``): a card whose header is ``title`` and whose body is
    ``template`` rendered with ``context`` (the template renders the card body only, not the card).
    A panel whose context or template raises is replaced by an error note and logged."""

    title: Any  # the card's header
    template: str  # rendered as the card's body, e.g. "loyalty/_customer_panel.html"
    context: dict | Callable[[], dict] = field(default_factory=dict)  # a callable is called only when shown
    permission: str | None = None  # left out for users without it
    order: int = 100  # position among the page's panels: lower comes first


@dataclass(frozen=True)
class SettingField:
    """A site setting shown on the settings page and stored in ``core_setting``.

    ``kind`` is one of ``string``, ``text``, ``integer``, ``boolean``, ``choice``, ``email_list``,
    ``timezone``, ``currency``, ``secret``. Secrets are never shown back in full (left empty on
    the form, the stored value is kept). ``default`` may be a callable (evaluated on use).

    ``validate(value) -> str | None`` is called when the settings page is saved, with the value
    as the form gives it: an ``int`` (or ``None`` when empty) for ``integer``, a ``bool`` for
    ``boolean``, the text as typed for ``secret``, and for the other kinds the text stripped of
    spaces (``currency`` upper-cased, ``email_list`` normalised to ``"a@x.cn, b@y.cn"`` after
    each address was checked). It returns a false value when the value is fine, else an error
    message (a translated string) shown under the field; nothing is saved while a field has one.

    On the settings page (``/admin/settings``) each field's form input is named after its key
    with the dots replaced by two underscores: ``loyalty.rate`` is posted as ``loyalty__rate``.
    Read a value with ``erp_core.settings.get("loyalty.rate")``.

    ``page``: the endpoint of a page of its own that edits the setting (Admin > Mail); the
    general settings page leaves such fields out.
    """

    key: str  # "<plugin>.<name>", e.g. "loyalty.rate"
    label: Any  # the field's label (a lazy translation)
    kind: str = "string"  # see above
    default: Any = ""  # a value, or a callable returning one
    section: Any = None  # the heading it is grouped under
    help: Any = ""  # a line of help under the field
    choices: tuple[tuple[str, Any], ...] = ()  # (value, label) pairs for kind "choice"
    required: bool = False  # refuse an empty value
    validate: Callable[[Any], Any] | None = None  # validate(value) -> None or an error message
    page: str | None = None  # the endpoint of its own settings page, if any


@dataclass(frozen=True)
class Schedule:
    """Periodic work: ``job`` (a dotted path to a function) runs once per ``every_seconds``
    across every process of the site. ``title`` names it for people (a lazy translated string,
    shown on the Background work page and in the dashboard's warning); the ``name`` is the key."""

    name: str  # unique across the site, e.g. "loyalty.expire"
    every_seconds: int  # the interval
    job: str  # "package.module:function", called with no arguments in an app context
    title: Any = ""  # what it does, for people, e.g. _l("Expire old loyalty points")


@dataclass(frozen=True)
class ScriptUrl:
    """A script added to pages by ``erp_extra_js_urls``: a same-origin ``url``, loaded as an ES
    module when ``module`` is true."""

    url: str  # a path on this site, e.g. url_for("loyalty.static", filename="points.js")
    module: bool = False  # load with type="module"


@dataclass
class DemoContext:
    """Shared state while demo data is generated; plugins read what earlier ones stored."""

    rng: random.Random  # seeded: use it for every random choice so demo data is repeatable
    scale: int = 1  # multiply the amounts of records made
    admin: Any = None  # the admin user (a User), for work done in someone's name
    data: dict = field(default_factory=dict)  # what earlier plugins made, e.g. data["orders"]
    log: Callable[[str], None] = print  # report progress


# Kinds of :class:`HistoryField` (how a value of an audit entry is shown).
HISTORY_KINDS = ("text", "number", "money", "date", "datetime", "reference", "code", "boolean", "list",
                 "custom")


@dataclass(frozen=True)
class HistoryField:
    """How one field of an audit entry's before/after values is shown to people.

    ``kind``: ``text``; ``number``; ``money`` (minor units; the currency is the entry's
    ``currency_field`` value, else ``currency``, else the company's); ``date`` / ``datetime`` (ISO
    text, shown in the reader's time zone); ``reference`` (an id of the record type ``ref``,
    shown as its number or name with a link, resolved by that type's :class:`AuditVocabulary`
    ``resolve`` in one query per page); ``code`` (translated through ``choices``, a mapping of
    code to label); ``boolean`` (Yes/No); ``list`` (a short readable list); ``custom``
    (``format(value, values)`` returns the text, ``values`` being the entry's whole dict).
    ``hidden`` leaves the field out of the history (it stays in the raw record).
    """

    label: Any
    kind: str = "text"
    choices: Any = None
    ref: str | None = None
    currency_field: str | None = None
    currency: str | None = None
    format: Callable[[Any, dict], str] | None = None
    hidden: bool = False

    def __post_init__(self):
        if self.kind not in HISTORY_KINDS:
            raise ValueError(f"unknown history field kind {self.kind!r}")


@dataclass(frozen=True)
class AuditVocabulary:
    """How the audit entries of one ``object_type`` read: the record type's name, its actions'
    labels and its fields (:class:`HistoryField`, or a bare label for plain text).

    ``resolve(ids)`` (optional) answers ``{id: (text, url or None)}`` for a list of object ids
    (strings) in one query: the audit log shows records by number or name with a link, and
    ``reference`` fields of other types point here. ``fields`` may also hold the key ``value``
    for entries whose before/after is not a mapping (a list of permission codes, say).
    """

    object_type: str
    label: Any
    actions: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    resolve: Callable[[list[str]], dict] | None = None


@dataclass(frozen=True)
class SearchResult:
    """One record found by the header search (``erp_search``): its ``kind`` (a stable code such
    as ``"order"``), the group heading ``kind_label`` (a lazy translation), the record's
    ``title`` (its number or name) and ``url``, an optional ``detail`` line (customer, status...)
    and ``order`` (groups with lower values come first). Titles and details are plain text: pages
    escape them."""

    kind: str
    kind_label: Any
    title: str
    url: str
    detail: str = ""
    order: int = 100
