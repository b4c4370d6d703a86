"""Plugin discovery, dependency order, switching on and off, and failure isolation.

Built-in plugins are the packages ``plugins.<name>`` listed in the ``PLUGINS`` setting;
third-party ones come from the ``erp.plugins`` entry-point group. Each plugin module carries a
``meta`` (:class:`PluginMeta`) and its hook implementations.

Which plugins are switched on lives in the ``core_plugin_state`` table and is read once per
request (or app context), so a switch made by one worker process holds in every other on its
next request, without a restart. Hooks are called through :attr:`PluginManager.hook`, which
skips the implementations of disabled plugins; :meth:`PluginManager.collect` flattens the lists
they answer and :meth:`PluginManager.answerers` says who would answer. A plugin adds the hooks it
owns with ``erp_addhooks`` (its ``hookspecs`` module).
"""

from __future__ import annotations

import importlib
import logging
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from types import ModuleType
from typing import Any

import pluggy
from flask import g, has_app_context

from . import PROJECT, hookspecs

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "erp.plugins"
CORE = "core"


@dataclass(frozen=True)
class PluginMeta:
    """What a plugin says about itself. ``requires`` names the plugins it needs (and may import)."""

    name: str
    version: str
    title: Any
    description: Any = ""
    requires: tuple[str, ...] = ()


@dataclass
class PluginRecord:
    """A plugin the manager knows: loaded (``module`` set) or failed (``error`` set)."""

    name: str
    source: str
    meta: PluginMeta | None = None
    module: Any = None
    error: str | None = None
    builtin: bool = False
    dependents: list[str] = field(default_factory=list)

    @property
    def loaded(self) -> bool:
        return self.error is None and self.module is not None


class PluginError(Exception):
    """A switch refused (dependency) or a plugin unusable; the message names what and why."""


class _HookRelay:
    """``manager.hook.erp_x(...)``: call only the implementations of enabled plugins."""

    def __init__(self, manager: PluginManager):
        self._manager = manager

    def __getattr__(self, name: str):
        return self._manager.caller(name)


def _no_answer(*_args, **_kwargs) -> list:
    """The caller of a hook nobody declared (its owning plugin is not installed): no answers."""
    return []


class PluginManager:
    """Loads plugins for one app and answers which are enabled."""

    def __init__(self, config: dict):
        self.config = config
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        self.order: list[str] = []
        self._callers: dict[tuple[str, frozenset], Any] = {}
        self.hook = _HookRelay(self)
        self.blueprint_owner: dict[str, str] = {}
        # Historic: each plugin's erp_addhooks runs as it registers, however late.
        self.pm.hook.erp_addhooks.call_historic(kwargs={"pluginmanager": self})

    def add_hookspecs(self, module_or_class: Any) -> None:
        """Declare hooks a plugin owns (called from its ``erp_addhooks``)."""
        self.pm.add_hookspecs(module_or_class)
        self._callers.clear()

    # ------------------------------------------------------------------ discovery

    def load(self, core_module: ModuleType) -> None:
        """Import and register the core's own hooks, the configured built-ins and entry points."""
        self.pm.register(core_module, name=CORE)
        self.records[CORE] = PluginRecord(
            name=CORE, source="core", module=core_module, builtin=True,
            meta=PluginMeta(CORE, "", "Core", "", ()))
        candidates: list[PluginRecord] = []
        known = set()
        for entry in self.config.get("PLUGINS", []):
            # "orders" is the built-in plugins.orders; "name=package.module" a local plugin.
            name, _, module_name = entry.partition("=")
            name = name.strip()
            if name in known:
                continue
            known.add(name)
            if module_name:
                candidates.append(self._import(name, module_name.strip(), f"module {module_name.strip()}"))
            else:
                candidates.append(self._import(name, f"plugins.{name}", "built-in", builtin=True))
        if self.config.get("LOAD_ENTRY_POINTS", True):
            for ep in _entry_points():
                if ep.name in known or ep.name == CORE:
                    candidates.append(PluginRecord(
                        name=ep.name, source=_ep_source(ep),
                        error=f"the name {ep.name!r} is already taken by another plugin"))
                    continue
                known.add(ep.name)
                candidates.append(self._load_entry_point(ep))
        for record in candidates:
            key = record.name if record.name not in self.records else f"{record.name} [{record.source}]"
            self.records[key] = record
            if not record.loaded:
                log.error("plugin %s could not be loaded: %s", record.name, record.error)
        self._resolve_order()

    def _import(self, name: str, module_name: str, source: str, builtin: bool = False) -> PluginRecord:
        record = PluginRecord(name=name, source=source, builtin=builtin)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                record.error = (f"no plugin named {name!r} is installed: install its package or take it out "
                                f"of the PLUGINS setting")
            else:
                record.error = f"import failed: {exc}"
            return record
        except Exception as exc:  # a broken plugin must not take the site down
            record.error = _import_failure(name, exc)
            return record
        return self._check_module(record, module)

    def _load_entry_point(self, ep) -> PluginRecord:
        record = PluginRecord(name=ep.name, source=_ep_source(ep))
        try:
            module = ep.load()
        except Exception as exc:
            record.error = _import_failure(ep.name, exc)
            return record
        return self._check_module(record, module)

    def _check_module(self, record: PluginRecord, module: Any) -> PluginRecord:
        meta = getattr(module, "meta", None)
        if not isinstance(meta, PluginMeta):
            record.error = "the module has no `meta = PluginMeta(...)`"
            return record
        if meta.name != record.name:
            record.error = f"its meta names it {meta.name!r}, but it was installed as {record.name!r}"
            return record
        record.meta = meta
        record.module = module
        return record

    def _resolve_order(self) -> None:
        """Register loaded plugins in dependency order; refuse those with missing dependencies."""
        pending = {n: r for n, r in self.records.items() if r.loaded and n != CORE}
        ordered: list[str] = []
        placed = {CORE}
        progress = True
        while pending and progress:
            progress = False
            for name in sorted(pending, key=lambda n: (not pending[n].builtin, self._builtin_rank(n), n)):
                record = pending[name]
                missing = [dep for dep in record.meta.requires if dep not in self.records or not self.records[dep].loaded]
                if missing:
                    record.error = "requires " + ", ".join(repr(m) for m in missing) + ", which is not installed or failed to load"
                    record.module = None
                    log.error("plugin %s could not be loaded: %s", name, record.error)
                    del pending[name]
                    progress = True
                    break
                if all(dep in placed for dep in record.meta.requires):
                    ordered.append(name)
                    placed.add(name)
                    del pending[name]
                    progress = True
                    break
        for record in pending.values():  # a dependency cycle
            record.error = "its requirements form a cycle: " + ", ".join(sorted(pending))
            record.module = None
        for name in ordered:
            record = self.records[name]
            try:
                self.pm.register(record.module, name=name)
            except Exception as exc:
                record.error = f"registration failed: {type(exc).__name__}: {exc}"
                record.module = None
                log.error("plugin %s could not be registered: %s", name, record.error)
                continue
            self.order.append(name)
        for name in self.order:
            for dep in self.records[name].meta.requires:
                self.records[dep].dependents.append(name)

    def _builtin_rank(self, name: str) -> int:
        plugins = [entry.partition("=")[0].strip() for entry in self.config.get("PLUGINS", [])]
        return plugins.index(name) if name in plugins else len(plugins)

    # ------------------------------------------------------------------ queries

    @property
    def loaded_names(self) -> list[str]:
        """Loaded plugins (excluding the core) in dependency order."""
        return list(self.order)

    @property
    def failed(self) -> list[PluginRecord]:
        """Plugins that could not be imported or registered, with the reason."""
        return [r for r in self.records.values() if not r.loaded]

    def default_enabled(self) -> set[str]:
        """Plugins switched on when the database holds no switch for them."""
        wanted = self.config.get("PLUGINS_ENABLED") or self.order
        unknown = [n for n in wanted if n not in self.records]
        for name in unknown:
            log.warning("PLUGINS_ENABLED names %r, which is not installed; ignoring it", name)
        return {n for n in wanted if n in self.order}

    def effective_enabled(self, switches: dict[str, bool]) -> frozenset[str]:
        """The plugins that run, given the stored switches: on, and every requirement running."""
        defaults = self.default_enabled()
        enabled: set[str] = set()
        for name in self.order:
            wanted = switches.get(name, name in defaults)
            if wanted and all(dep in enabled for dep in self.records[name].meta.requires):
                enabled.add(name)
        return frozenset(enabled)

    def enabled(self) -> frozenset[str]:
        """Enabled plugins for the current request/app context (read once, then cached in ``g``)."""
        if not has_app_context():
            return frozenset(self.default_enabled())
        cached = g.get("_erp_enabled_plugins")
        if cached is None:
            cached = self.effective_enabled(read_switches())
            g._erp_enabled_plugins = cached
        return cached

    def refresh(self) -> None:
        """Forget the cached enabled set (after a switch in this request)."""
        if has_app_context():
            g.pop("_erp_enabled_plugins", None)

    def is_enabled(self, name: str) -> bool:
        return name == CORE or name in self.enabled()

    def caller(self, hook_name: str, enabled: Iterable[str] | None = None):
        """A hook caller restricted to the enabled plugins (plus the core).

        A hook that no installed plugin declares or implements (its owner is not installed)
        answers an empty list, so a plugin may fire another's hook without requiring it.
        """
        enabled_set = frozenset(self.enabled() if enabled is None else enabled)
        key = (hook_name, enabled_set)
        caller = self._callers.get(key)
        if caller is None:
            if getattr(self.pm.hook, hook_name, None) is None:
                return _no_answer
            removed = [self.records[n].module for n in self.order if n not in enabled_set]
            caller = self.pm.subset_hook_caller(hook_name, remove_plugins=removed)
            self._callers[key] = caller
        return caller

    def answerers(self, hook_name: str) -> list[str]:
        """Names of the enabled plugins (and the core) that implement ``hook_name``."""
        hook = getattr(self.pm.hook, hook_name, None)
        if hook is None:
            return []
        enabled = self.enabled()
        return [impl.plugin_name for impl in hook.get_hookimpls()
                if impl.plugin_name == CORE or impl.plugin_name in enabled]

    def collect(self, hook_name: str, **kwargs) -> list:
        """Call ``hook_name`` on the enabled plugins and flatten the lists they answer.

        ``None`` answers are skipped; a non-list answer counts as one item.
        """
        items: list = []
        for answer in self.caller(hook_name)(**kwargs):
            if answer is None:
                continue
            if isinstance(answer, (list, tuple)):
                items.extend(answer)
            else:
                items.append(answer)
        return items

    def call_each(self, hook_name: str, *, only_enabled: bool = True, **kwargs) -> list[tuple[str, Any]]:
        """Call a hook plugin by plugin in dependency order, returning ``(plugin_name, result)``.

        Use it where the owner of each contribution matters (blueprints, CLI commands, demo data).
        """
        enabled = self.enabled() if only_enabled else frozenset(self.order)
        results = []
        hook = getattr(self.pm.hook, hook_name, None)
        impls = {impl.plugin_name: impl for impl in (hook.get_hookimpls() if hook else [])}
        for name in [CORE, *self.order]:
            impl = impls.get(name)
            if impl is None or (name != CORE and name not in enabled):
                continue
            results.append((name, impl.function(**{a: kwargs[a] for a in impl.argnames})))
        return results

    def call_isolated(self, hook_name: str, **kwargs) -> list[tuple[str, Any, Exception | None]]:
        """Call a hook on each enabled plugin (and the core) on its own, in dependency order.

        Returns ``(plugin_name, answer, error)``: a plugin whose implementation raises gives
        ``(name, None, exception)`` (logged here) and the others still answer. Used where one
        plugin's failure must not break a page (record-page panels, extra template variables).
        """
        results: list[tuple[str, Any, Exception | None]] = []
        hook = getattr(self.pm.hook, hook_name, None)
        if hook is None:
            return results
        enabled = self.enabled()
        impls = {impl.plugin_name: impl for impl in hook.get_hookimpls()}
        for name in [CORE, *self.order]:
            impl = impls.get(name)
            if impl is None or (name != CORE and name not in enabled):
                continue
            try:
                results.append((name, impl.function(**{a: kwargs[a] for a in impl.argnames}), None))
            except Exception as exc:  # isolation is the point: log it and let the others answer
                log.exception("plugin %s failed in %s", name, hook_name)
                results.append((name, None, exc))
        return results

    def title_of(self, name: str) -> str:
        """The plugin's title for people (its name when it has none)."""
        record = self.records.get(name)
        return str(record.meta.title) if record is not None and record.meta is not None else name

    def owner_of_blueprint(self, blueprint_name: str | None) -> str | None:
        if not blueprint_name:
            return None
        return self.blueprint_owner.get(blueprint_name.split(".")[0])

    def check_switch(self, name: str, enable: bool, switches: dict[str, bool]) -> None:
        """Raise :class:`PluginError` when switching ``name`` would break a dependency."""
        from flask_babel import gettext as _

        record = self.records.get(name)
        if name == CORE:
            raise PluginError(_("The core cannot be switched off."))
        if record is None:
            raise PluginError(_("No plugin named %(name)s is installed.", name=name))
        if not record.loaded:
            raise PluginError(_("Plugin %(name)s cannot be used: %(error)s", name=name, error=record.error))
        current = self.effective_enabled(switches)
        if enable:
            off = [dep for dep in record.meta.requires if dep not in current]
            if off:
                raise PluginError(_("Cannot enable %(name)s: it needs %(deps)s, which is switched off. Enable %(deps)s first.",
                                    name=name, deps=", ".join(off)))
        else:
            users = [n for n in record.dependents if n in current]
            if users:
                raise PluginError(_("Cannot disable %(name)s: %(users)s needs it. Disable %(users)s first.",
                                    name=name, users=", ".join(users)))


def current_manager() -> PluginManager:
    """The plugin manager of the current app."""
    from flask import current_app

    return current_app.extensions["erp_plugins"]


def hooks() -> _HookRelay:
    """``hooks().erp_x(...)``: call a hook on the enabled plugins of the current app."""
    return current_manager().hook


def _import_failure(name: str, exc: Exception) -> str:
    """One line saying why a plugin failed to import and where; the traceback goes to the debug log.

    ``load()`` logs that line as an error, so the admin page, the log and every ``erp`` command
    show the same single line rather than a traceback.
    """
    log.debug("plugin %s failed to import", name, exc_info=exc)
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({frames[-1].filename}, line {frames[-1].lineno})" if frames else ""
    return f"import failed: {type(exc).__name__}: {exc}{where}"


def read_switches() -> dict[str, bool]:
    """The stored on/off switches, or an empty dict when the table does not exist yet."""
    from sqlalchemy import inspect, select
    from sqlalchemy.exc import DBAPIError

    from .extensions import db
    from .models import PluginState

    try:
        rows = db.session.execute(select(PluginState.name, PluginState.enabled)).all()
    except DBAPIError:
        db.session.rollback()
        # Only a missing table means "no switches yet"; an unreachable database must not pass
        # for one with every plugin at its default (inspecting it raises the connection error).
        if PluginState.__tablename__ in inspect(db.engine).get_table_names():
            raise
        return {}
    return {name: bool(enabled) for name, enabled in rows}


def _entry_points():
    try:
        return list(importlib_metadata.entry_points(group=ENTRY_POINT_GROUP))
    except Exception:  # pragma: no cover - broken metadata on the machine
        log.exception("could not read the %s entry points", ENTRY_POINT_GROUP)
        return []


def _ep_source(ep) -> str:
    dist = getattr(ep, "dist", None)
    return f"entry point {ep.value}" + (f" ({dist.name} {dist.version})" if dist else "")


def switch_plugin(name: str, enable: bool) -> None:
    """Switch a plugin on or off for every process, in the caller's transaction.

    Refuses (PluginError) a switch that breaks a dependency, and enabling a plugin whose tables
    are missing (``erp db upgrade`` has not run since it was installed). Audited.
    """
    from flask import current_app
    from flask_babel import gettext as _

    from . import audit
    from .extensions import db
    from .models import PluginState
    from .timeutil import utcnow

    manager: PluginManager = current_app.extensions["erp_plugins"]
    switches = read_switches()
    manager.check_switch(name, enable, switches)
    if enable:
        missing = missing_tables(name)
        if missing:
            raise PluginError(_("%(name)s has no tables yet (%(tables)s): run `erp db upgrade` first.",
                                name=name, tables=", ".join(missing[:3])))
    before = name in manager.effective_enabled(switches)
    _actor_id, actor_name = audit.current_actor()
    row = db.session.get(PluginState, name)
    if row is None:
        row = PluginState(name=name, enabled=enable, changed_at=utcnow(), changed_by=actor_name)
        db.session.add(row)
    else:
        row.enabled, row.changed_at, row.changed_by = enable, utcnow(), actor_name
    audit.record("plugin", name, "enabled" if enable else "disabled", before={"enabled": before},
                 after={"enabled": enable})
    db.session.flush()
    manager.refresh()


def plugin_tables(name: str) -> list[str]:
    """Tables a plugin owns: by convention their names start with ``<plugin>_``."""
    from .extensions import db

    return [t for t in db.metadata.tables if t.startswith(name + "_")]


def missing_tables(name: str) -> list[str]:
    """Tables of ``name`` that the database does not have."""
    return missing_tables_of([name])[name]


def missing_tables_of(names) -> dict[str, list[str]]:
    """``{plugin: [tables the database does not have]}`` for each plugin named (one inspection)."""
    from sqlalchemy import inspect

    from .extensions import db

    present = set(inspect(db.session.connection()).get_table_names())
    return {name: [t for t in plugin_tables(name) if t not in present] for name in names}
