"""The hook sections of docs/reference.md, generated from the hook specifications' docstrings.

The docstrings are the one source: each says when the hook is called, with what, what it returns,
and ends with an ``Example::`` block. :mod:`erp_core.refdocs` puts these sections into the plugin
author's reference; ``python -m erp_core.hookdocs`` (like ``python -m erp_core.refdocs``) rewrites
docs/reference.md, and a test fails when it is not current.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from types import ModuleType

from . import hookspecs
from .config import BUILTIN_PLUGINS

_ROLE = re.compile(r":(?:class|func|meth|attr|mod|data):`~?([^`]+)`")


def spec_modules() -> list[tuple[str | None, ModuleType]]:
    """``(plugin or None for the core, module)`` of every built-in hookspecs module, in load order."""
    found: list[tuple[str | None, ModuleType]] = [(None, hookspecs)]
    for name in BUILTIN_PLUGINS:
        try:
            found.append((name, importlib.import_module(f"plugins.{name}.hookspecs")))
        except ModuleNotFoundError:
            continue
    return found


def specs(module: ModuleType) -> list:
    """The hook specification functions of ``module``, in the order they are written."""
    return [fn for name, fn in vars(module).items()
            if name.startswith("erp_") and inspect.isfunction(fn) and fn.__module__ == module.__name__]


def _markdown(text: str) -> str:
    text = _ROLE.sub(r"`\1`", text)
    return text.replace("``", "`")


def split_docstring(fn) -> tuple[str, str]:
    """``(prose, example code)`` of a spec's docstring (the example follows ``Example::``)."""
    doc = inspect.getdoc(fn) or ""
    prose, _, example = doc.partition("\nExample::\n")
    return prose.strip(), inspect.cleandoc(example) if example.strip() else ""


def _flags(fn) -> str:
    opts = getattr(fn, "erp_spec", None) or {}
    notes = []
    if opts.get("firstresult"):
        notes.append("*First result:* the first answer that is not `None` is the hook's answer.")
    if opts.get("historic"):
        notes.append("*Historic:* a plugin registered later is still called.")
    return " ".join(notes)


def render_hook(fn, plugin: str | None) -> str:
    """The ``### erp_x`` section of one hook."""
    name = fn.__name__
    params = ", ".join(inspect.signature(fn).parameters)
    prose, example = split_docstring(fn)
    head, _, rest = prose.partition("\n\n")
    parts = [f"### {name}"]
    if plugin:
        parts.append(f"Declared by the {plugin} plugin (`plugins/{plugin}/hookspecs.py`).")
    if len(head) > 1 and head[1].islower():  # the sentence continues the signature
        head = head[0].lower() + head[1:]
    parts.append(f"`{name}({params})` — " + _markdown(head))
    if _flags(fn):
        parts.append(_flags(fn))
    if rest:
        parts.append(_markdown(rest))
    if example:
        parts.append(f"```python\n{example}\n```")
    return "\n\n".join(parts)


def main(argv: list[str]) -> int:
    """Rewrite docs/reference.md (or the file named); exit 1 if it changed."""
    from . import refdocs

    return refdocs.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
