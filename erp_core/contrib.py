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
