"""``erp plugin new NAME``: generate a working third-party plugin package.

The package holds its metadata and hook implementations, a blueprint with a page, a model with
its migration, a template, zh_CN translations and tests; it installs with
``pip install -e erp-NAME`` and passes its own tests (``pytest erp-NAME``).
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from ..config import BUILTIN_PLUGINS
from .requires import branch_heads, known_plugins, unknown

TEMPLATE_ROOT = Path(__file__).resolve().parent / "template"
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,30}$")


class ScaffoldError(Exception):
    """The name or target is unusable; the message says why."""


def check_name(name: str) -> None:
    if not NAME_RE.match(name or "") or keyword.iskeyword(name) or "__" in name:
        raise ScaffoldError(f"{name!r} is not a usable plugin name: use 2-31 lowercase letters, digits "
                            "or underscores, starting with a letter")
    if name in BUILTIN_PLUGINS or name in ("core", "erp", "api"):
        raise ScaffoldError(f"{name!r} is taken by the ERP itself; choose another name")


def check_requires(name: str, requires: tuple[str, ...], known: dict[str, str]) -> None:
    """Refuse a requirement on the plugin itself or on a plugin that is not installed."""
    if name in requires:
        raise ScaffoldError(f"{name!r} cannot require itself")
    missing = unknown(requires, known)
    if missing:
        raise ScaffoldError("unknown plugin(s) in --requires: " + ", ".join(repr(m) for m in missing)
                            + "; installed: " + ", ".join(sorted(known)))


def _literal(names, brackets: str) -> str:
    """``("a", "b")`` / ``["a", "b"]`` in the generated code's style (a 1-tuple keeps its comma)."""
    items = ", ".join(f'"{n}"' for n in names)
    if brackets == "()" and len(names) == 1:
        items += ","
    return brackets[0] + items + brackets[1]


def generate(name: str, target: Path, core_head: str, requires: tuple[str, ...] = ()) -> Path:
    """Write the package ``erp-<name>`` under ``target``; returns its folder.

    ``requires`` names plugins the new one needs: they go into its ``meta.requires``, its first
    migration depends on their branch heads (and the core's) and its tests load them too.
    """
    check_name(name)
    known = known_plugins()
    check_requires(name, requires, known)
    package_dir = target / f"erp-{name.replace('_', '-')}"
    if package_dir.exists():
        raise ScaffoldError(f"{package_dir} already exists; remove it or choose another folder")
    title = name.replace("_", " ").title()
    depends_on = [core_head, *branch_heads(requires, known)]
    replacements = {
        "__plugin__": name, "__Title__": title,
        "__requires__": _literal(requires, "()"),
        "__required_plugins__": _literal(requires, "[]"),
        "__depends_on__": f'"{depends_on[0]}"' if len(depends_on) == 1 else _literal(depends_on, "[]"),
    }
    for source in sorted(TEMPLATE_ROOT.rglob("*")):
        if source.is_dir() or source.name.endswith((".pyc",)) or "__pycache__" in source.parts:
            continue
        relative = str(source.relative_to(TEMPLATE_ROOT)).replace("pkg", f"erp_{name}", 1)
        relative = relative.replace("__plugin__", name).replace(".tmpl", "")
        destination = package_dir / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        text = source.read_text(encoding="utf-8")
        for key, value in replacements.items():
            text = text.replace(key, value)
        destination.write_text(text, encoding="utf-8")
    from ..i18n_tools import compile_catalogs

    compile_catalogs(package_dir / f"erp_{name}")
    return package_dir
