"""docs/reference.md, the plugin author's reference, generated from docstrings and type hints.

One page for everything a plugin author uses: the hooks (each spec's docstring, see
:mod:`erp_core.hookdocs`), the value types of :mod:`erp_core.contrib`, the core functions plugins
call, and each built-in plugin's declared surface: by convention its ``public``, ``adapters`` and
``testing`` modules (their ``__all__``, or the public names they define). The code is the one
source: ``python -m erp_core.refdocs`` (or ``python -m erp_core.hookdocs``) rewrites the page and
a test fails when it is not current or when a documented item has no docstring.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from . import hookdocs
from .config import BUILTIN_PLUGINS

PATH = Path(__file__).resolve().parent.parent / "docs" / "reference.md"
HEADER = ("<!-- Generated from the code's docstrings and type hints by `python -m erp_core.refdocs`; "
          "do not edit by hand. -->")

# The core's modules plugins call, and the names of each a plugin author needs.
CORE_SURFACE: list[tuple[str, list[str]]] = [
    ("erp_core.contrib", ["Permission", "NavItem", "Widget", "Panel", "SettingField", "Schedule", "ScriptUrl",
                          "DemoContext", "SearchResult"]),
    ("erp_core.search", ["prefix", "contains", "create_search_indexes", "drop_search_indexes"]),
    ("erp_core.errors", ["DomainError", "NotFound", "Conflict", "ValidationProblems"]),
    ("erp_core.security", ["requires", "login_only", "public", "has_permission", "safe_next"]),
    ("erp_core.forms", ["attempt", "Outcome", "show_domain_error"]),
    ("erp_core.money", ["currency_exponent", "is_currency", "parse_amount", "format_money", "format_plain",
                        "to_decimal", "line_total", "round_half_up", "MoneyError"]),
    ("erp_core.settings", ["get", "company_currency", "company_timezone"]),
    ("erp_core.jobs", ["enqueue"]),
    ("erp_core.webhooks", ["emit", "verify"]),
    ("erp_core.audit", ["record", "timeline", "current_actor"]),
    ("erp_core.web.templating", ["record_panels", "render_contributions"]),
]
PLUGIN_MODULES = ("public", "adapters", "testing")

INTRO = """\
# Plugin author reference

{header}

Everything a plugin (a module such as loyalty points, or a carrier or payment adapter package)
may use, generated from the code. How to build a plugin step by step: [plugins.md](plugins.md).

- [Hooks](#hooks): what the core and each plugin call, with what, and what they expect back.
- [Value types](#value-types-erp_corecontrib): what contribution hooks return.
- [Core functions](#core-functions): errors, access marks, forms, money, settings, jobs,
  webhooks, the audit log, record panels.
- [The plugins' public surface](#the-plugins-public-surface): what other code may import of
  each built-in plugin (records, services, adapter interfaces, contract kits). Anything else in a
  plugin's package may change without notice.

Contexts: the services work in the caller's database transaction and need an application
context (the `erp` command and jobs run in one). Use a request context
(`app.test_request_context()` in tests) when the work should be done as the signed-in user (the
audit log names them, else "system") or fires hooks whose answers build links with `url_for`
(refund, replacement shipment and ticket requests; panels). Commit or roll back yourself.
"""


# ----------------------------------------------------------------------------- formatting


def _ann(annotation: Any) -> str:
    if annotation is inspect.Parameter.empty:
        return ""
    if isinstance(annotation, str):
        return annotation
    return getattr(annotation, "__name__", None) or repr(annotation).replace("typing.", "")


def signature(fn) -> str:
    """``(a: int, b: str = 'x') -> bool`` of ``fn`` with its annotations as written."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return "(...)"
    parts, star_done = [], False
    for param in sig.parameters.values():
        if param.name in ("self", "cls"):
            continue
        if param.kind is param.KEYWORD_ONLY and not star_done:
            parts.append("*")
            star_done = True
        prefix = {param.VAR_POSITIONAL: "*", param.VAR_KEYWORD: "**"}.get(param.kind, "")
        star_done = star_done or param.kind is param.VAR_POSITIONAL
        text = prefix + param.name + (f": {_ann(param.annotation)}" if _ann(param.annotation) else "")
        if param.default is not param.empty:
            text += f" = {_default(param.default)}"
        parts.append(text)
    ret = _ann(sig.return_annotation)
    return f"({', '.join(parts)})" + (f" -> {ret}" if ret and ret != "None" else "")


def _stable(value: Any) -> str:
    """``repr`` with the items of sets sorted, so the page does not change between runs."""
    if isinstance(value, (set, frozenset)):
        inner = ", ".join(sorted(_stable(v) for v in value))
        return f"frozenset({{{inner}}})" if isinstance(value, frozenset) else f"{{{inner}}}"
    if isinstance(value, tuple):
        items = [_stable(v) for v in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_stable(k)}: {_stable(v)}" for k, v in value.items()) + "}"
    return repr(str(value)) if type(value).__name__.startswith("Lazy") else repr(value)


def _simple(value: Any) -> bool:
    if isinstance(value, (str, int)):
        return True
    return isinstance(value, (tuple, frozenset)) and all(_simple(v) for v in value)


def _default(value: Any) -> str:
    if callable(value) and hasattr(value, "__name__"):
        return value.__name__
    text = _stable(value)
    return text if len(text) <= 60 else text[:57] + "..."


def markdown(doc: str) -> str:
    """A docstring as markdown: roles become code, ``x`` becomes `x`, ``::`` blocks are fenced."""
    out, lines, i = [], doc.splitlines(), 0
    while i < len(lines):
        line = lines[i]
        if line.rstrip().endswith("::"):
            head = line.rstrip()[:-2].rstrip()
            if head:
                out.append(hookdocs._markdown(head) + ":")
            block, i = [], i + 1
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "\t"))):
                block.append(lines[i])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            out += ["", "```python", inspect.cleandoc("\n".join(block)), "```", ""]
            continue
        out.append(hookdocs._markdown(line))
        i += 1
    return "\n".join(out).strip()


def own_doc(obj) -> str:
    """The object's own docstring ('' when it has none; a dataclass's generated one counts as none)."""
    doc = obj.__doc__ if isinstance(obj, type) else inspect.getdoc(obj)
    doc = inspect.cleandoc(doc or "")
    if isinstance(obj, type) and dataclasses.is_dataclass(obj) and doc.startswith(f"{obj.__name__}("):
        return ""
    return doc


def _field_comments(cls: type) -> dict[str, str]:
    """``{field: comment}`` from ``name: type = default  # comment`` lines of a class's source."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    found = re.findall(r"^\s{4}(\w+)\s*:[^#\n]*#\s*(.+)$", source, re.M)
    return {name: comment.strip() for name, comment in found}


def _fields_table(cls: type) -> str:
    comments = _field_comments(cls)
    rows = ["| Field | Type | Default | Meaning |", "|---|---|---|---|"]
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            default = _default(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            default = _default(f.default_factory())
        else:
            default = "required"
        rows.append(_row(f.name, _ann(f.type), default, comments.get(f.name, "")))
    return "\n".join(rows)


def _row(name: str, annotation: str, default: str, meaning: str) -> str:
    cells = [f"`{name}`", f"`{annotation}`", f"`{default}`", hookdocs._markdown(meaning)]
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _class_attributes(cls: type) -> str:
    annotations = vars(cls).get("__annotations__", {})
    comments = _field_comments(cls)
    rows = ["| Attribute | Type | Default | Meaning |", "|---|---|---|---|"]
    for name, annotation in annotations.items():
        if name.startswith("_"):
            continue
        value = vars(cls).get(name, inspect.Parameter.empty)
        default = "required" if value is inspect.Parameter.empty else _default(value)
        rows.append(_row(name, _ann(annotation), default, comments.get(name, "")))
    return "\n".join(rows) if len(rows) > 2 else ""


def _columns(cls: type) -> str:
    cols = [f"`{c.name}` ({c.type.__class__.__name__.lower()}{'' if c.nullable else ', required'})"
            for c in cls.__table__.columns]
    return f"Table `{cls.__table__.name}`; columns: " + ", ".join(cols) + "."


def public_methods(cls: type) -> list[tuple[str, Any]]:
    """The public methods and properties ``cls`` itself defines (in source order)."""
    found = []
    for name, member in vars(cls).items():
        if name.startswith("_") or name.startswith("test_"):
            continue
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if inspect.isfunction(member) or isinstance(member, property):
            found.append((name, member))
    return found


# ----------------------------------------------------------------------------- items


def render_item(name: str, obj: Any, level: str = "####") -> str:
    """The section of one documented name: a class, a function, a module or a constant."""
    if inspect.ismodule(obj):
        constants = [f"`{k} = {_default(v)}`" for k, v in vars(obj).items() if k.isupper() and _simple(v)]
        return "\n\n".join(filter(None, [f"{level} {name} (module `{obj.__name__}`)", markdown(own_doc(obj)),
                                         "Constants: " + ", ".join(constants) if constants else ""]))
    if inspect.isclass(obj):
        return _render_class(name, obj, level)
    if callable(obj):
        return f"{level} {name}{signature(obj)}\n\n{markdown(own_doc(obj))}"
    return f"{level} {name}\n\n`{name} = {_default(obj)}`"


def _render_class(name: str, cls: type, level: str) -> str:
    bases = ["model" if hasattr(b, "metadata") and hasattr(cls, "__table__") else b.__name__
             for b in cls.__bases__ if b is not object]
    head = f"{level} class {name}" + (f"({', '.join(bases)})" if bases else "")
    parts = [head, markdown(own_doc(cls))]
    if dataclasses.is_dataclass(cls):
        parts.append(_fields_table(cls))
    elif hasattr(cls, "__table__"):
        parts.append(_columns(cls))
    else:
        parts.append(_class_attributes(cls))
    for method, member in public_methods(cls):
        if isinstance(member, property):
            parts.append(f"- `{method}` (property): {hookdocs._markdown(inspect.getdoc(member) or '')}")
        else:
            doc = markdown(inspect.getdoc(member) or "").replace("\n", "\n  ")
            parts.append(f"- `{method}{signature(member)}`: {doc}")
    return "\n\n".join(p for p in parts if p)


def plugin_surface() -> Iterator[tuple[str, ModuleType, list[str]]]:
    """``(plugin, module, names)`` of each built-in plugin's public, adapters and testing modules."""
    for plugin in BUILTIN_PLUGINS:
        for part in PLUGIN_MODULES:
            try:
                module = importlib.import_module(f"plugins.{plugin}.{part}")
            except ModuleNotFoundError:
                continue
            yield plugin, module, module_names(module)


def module_names(module: ModuleType) -> list[str]:
    """``__all__``, else the public classes and functions the module defines itself."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    return [n for n, v in vars(module).items() if not n.startswith("_")
            and (inspect.isclass(v) or inspect.isfunction(v)) and getattr(v, "__module__", None) == module.__name__]


def documented() -> Iterator[tuple[str, Any]]:
    """Every documented item as ``(dotted name, object)``, methods included (for the docstring test)."""
    modules = [(importlib.import_module(m), names) for m, names in CORE_SURFACE]
    modules += [(module, names) for _plugin, module, names in plugin_surface()]
    for module, names in modules:
        yield module.__name__, module
        for name in names:
            obj = getattr(module, name)
            if not callable(obj) and not inspect.ismodule(obj):
                continue  # constants are documented by their module's docstring
            yield f"{module.__name__}.{name}", obj
            if inspect.isclass(obj):
                for method, member in public_methods(obj):
                    yield f"{module.__name__}.{name}.{method}", member


# ----------------------------------------------------------------------------- the page


def _hooks() -> list[str]:
    chunks = ["## Hooks", "Implement them with `@hookimpl` in your plugin module; only enabled plugins are "
              "called. The families and rules (transactions, vetoes, `firstresult`) are in "
              "[plugins.md](plugins.md#hooks)."]
    for plugin, module in hookdocs.spec_modules():
        chunks.append(f"### Hooks of the {plugin} plugin" if plugin else "### Hooks of the core")
        chunks += [re.sub(r"^### ", "#### ", hookdocs.render_hook(fn, plugin)) for fn in hookdocs.specs(module)]
    return chunks


def _module_section(module: ModuleType, names: list[str], level: str = "###") -> list[str]:
    chunks = [f"{level} `{module.__name__}`", markdown(own_doc(module))]
    constants = [n for n in names if not callable(getattr(module, n)) and not inspect.ismodule(getattr(module, n))]
    if constants:
        chunks.append("Constants: " + ", ".join(f"`{n} = {_default(getattr(module, n))}`" for n in constants))
    sub = "#" * (len(level) + 1)
    chunks += [render_item(n, getattr(module, n), sub) for n in names if n not in constants]
    return chunks


def render() -> str:
    """The whole of docs/reference.md."""
    chunks = [INTRO.format(header=HEADER).rstrip()]
    chunks += _hooks()
    contrib = importlib.import_module("erp_core.contrib")
    chunks += ["## Value types (`erp_core.contrib`)", markdown(own_doc(contrib))]
    chunks += [render_item(n, getattr(contrib, n), "###") for n in CORE_SURFACE[0][1]]
    chunks.append("## Core functions")
    for name, names in CORE_SURFACE[1:]:
        chunks += _module_section(importlib.import_module(name), names)
    chunks.append("## The plugins' public surface")
    current = None
    for plugin, module, names in plugin_surface():
        if plugin != current:
            chunks.append(f"### The {plugin} plugin")
            current = plugin
        chunks += _module_section(module, names, "####")
    return "\n\n".join(c for c in chunks if c).rstrip() + "\n"


def main(argv: list[str]) -> int:
    """Rewrite docs/reference.md (or the file named); exit 1 when it changed."""
    path = Path(argv[0]) if argv else PATH
    before = path.read_text(encoding="utf-8") if path.exists() else ""
    after = render()
    if after != before:
        path.write_text(after, encoding="utf-8")
        print(f"{path}: reference updated")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
