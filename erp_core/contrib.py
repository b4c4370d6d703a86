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

    code: str
    label: Any
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class NavItem:
    """An entry of the main menu. Shown when ``permission`` is held (or is ``None``)."""

    label: Any
    endpoint: str
    permission: str | None = None
    icon: str = "circle"
    order: int = 100
    group: str | None = None


@dataclass
class Widget:
    """A dashboard card: ``template`` is rendered with ``context`` (or what ``context()`` returns)."""

    title: Any
    template: str
    context: dict | Callable[[], dict] = field(default_factory=dict)
    permission: str | None = None
    order: int = 100
    width: int = 6  # Bootstrap columns out of 12 on wide screens


@dataclass
class Panel:
    """A block on the order page (stock, shipments, payments, support...)."""

    title: Any
    template: str
    context: dict | Callable[[], dict] = field(default_factory=dict)
    permission: str | None = None
    order: int = 100


@dataclass(frozen=True)
class SettingField:
    """A site setting shown on the settings page and stored in ``core_setting``.

    ``kind`` is one of ``string``, ``text``, ``integer``, ``boolean``, ``choice``, ``email_list``,
    ``timezone``, ``currency``, ``secret``. A ``validate`` callable may return an error message.
    Secrets are never shown back in full. ``default`` may be a callable (evaluated on use).
    """

    key: str
    label: Any
    kind: str = "string"
    default: Any = ""
    section: Any = None
    help: Any = ""
    choices: tuple[tuple[str, Any], ...] = ()
    required: bool = False
    validate: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class Schedule:
    """Periodic work: ``job`` (a dotted path to a function) runs once per ``every_seconds``
    across every process of the site."""

    name: str
    every_seconds: int
    job: str


@dataclass
class DemoContext:
    """Shared state while demo data is generated; plugins read what earlier ones stored."""

    rng: random.Random
    scale: int = 1
    admin: Any = None
    data: dict = field(default_factory=dict)
    log: Callable[[str], None] = print


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
