"""Developer tools for translations: extract, update and compile each package's catalog.

Every package (``erp_core`` and each plugin) keeps ``translations/<locale>/LC_MESSAGES/
messages.po`` and its compiled ``messages.mo``. English is the source language; Simplified Chinese (folder ``zh_Hans_CN``) must
translate every message (a test checks it, and that the ``.mo`` matches the ``.po``).

    erp i18n update [PACKAGE_DIR]   # extract messages, merge them into every .po
    erp i18n compile [PACKAGE_DIR]  # write the .mo files
    erp i18n missing [PACKAGE_DIR]  # list untranslated messages

Without a folder, ``update`` works on the ERP's own packages; ``compile`` and ``missing`` also on
every installed third-party plugin (entry point group ``erp.plugins``) that has a catalog.
Plugin authors check their catalog in their own tests with
:func:`erp_core.testing.assert_catalog_complete`.
"""

from __future__ import annotations

import importlib.util
import io
from importlib import metadata
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

# Babel resolves "zh_CN" to zh_Hans_CN, and gettext looks for that folder name.
LOCALES = ("zh_Hans_CN",)
KEYWORDS = {
    "_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
    "pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3), "lazy_ngettext": (1, 2),
    "lazy_pgettext": ((1, "c"), 2), "_pl": ((1, "c"), 2),
}
METHOD_MAP = [
    ("**/tests/**", "ignore"),
    ("**/scaffold/template/**", "ignore"),
    ("**/migrations/**", "ignore"),
    ("**.py", "python"),
    ("**/templates/**.html", "jinja2"),
    ("**/templates/**.txt", "jinja2"),
]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.do", "trimmed": "false"},
           "**/templates/**.txt": {"extensions": "jinja2.ext.do"}}


def package_dirs(root: Path) -> list[Path]:
    """``erp_core`` and every plugin folder under ``root`` (the repository)."""
    dirs = [root / "erp_core"]
    dirs += sorted(p for p in (root / "plugins").iterdir() if (p / "__init__.py").exists())
    return dirs


def installed_plugin_dirs(entry_points=None) -> list[Path]:
    """Folders of the installed third-party plugins (entry point group ``erp.plugins``) that
    keep a ``translations`` folder, found without importing the plugins themselves."""
    if entry_points is None:
        entry_points = metadata.entry_points(group="erp.plugins")
    found: list[Path] = []
    for entry in entry_points:
        module = entry.value.split(":", 1)[0].strip()
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            continue  # a broken installation: the plugin manager reports it when the site starts
        if spec is None or not spec.origin:
            continue
        folder = Path(spec.origin).resolve().parent
        if (folder / "translations").is_dir() and folder not in found:
            found.append(folder)
    return found


def extract(package: Path) -> Catalog:
    """All translatable messages of one package."""
    catalog = Catalog(project=package.name, charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            str(package), METHOD_MAP, OPTIONS, KEYWORDS, comment_tags=("TRANSLATORS:",),
            strip_comment_tags=True):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def po_path(package: Path, locale: str) -> Path:
    return package / "translations" / locale / "LC_MESSAGES" / "messages.po"


def load_po(path: Path, locale: str) -> Catalog:
    if not path.exists():
        return Catalog(locale=locale, project=path.parents[3].name, charset="utf-8")
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def update(package: Path) -> dict[str, int]:
    """Merge freshly extracted messages into each locale's .po; returns untranslated counts."""
    template = extract(package)
    result = {}
    for locale in LOCALES:
        path = po_path(package, locale)
        catalog = load_po(path, locale)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        catalog.fuzzy = False  # a fuzzy header would be left out of the .mo, and its charset with it
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=100, omit_header=False, sort_output=True, include_lineno=False)
        result[locale] = len(missing(package, locale))
    return result


def compile_catalogs(package: Path) -> None:
    """Write ``messages.mo`` next to every ``messages.po`` of the package."""
    for locale in LOCALES:
        path = po_path(package, locale)
        if not path.exists():
            continue
        catalog = load_po(path, locale)
        with path.with_suffix(".mo").open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)


def compiled_messages(mo_bytes: bytes) -> dict:
    """``{(context, id): translation}`` of a compiled catalog, its header left out: what the
    up-to-date check compares (the bytes may differ by a header date babel fills in on its own)."""
    from babel.messages.mofile import read_mo

    def frozen(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    return {(m.context, frozen(m.id)): frozen(m.string) for m in read_mo(io.BytesIO(mo_bytes)) if m.id}


def compiled_bytes(package: Path, locale: str) -> bytes:
    """What ``compile_catalogs`` would write, for the up-to-date check."""
    buffer = io.BytesIO()
    write_mo(buffer, load_po(po_path(package, locale), locale), use_fuzzy=False)
    return buffer.getvalue()


def missing(package: Path, locale: str) -> list[str]:
    """Extracted messages that the locale's catalog does not translate (or marks fuzzy)."""
    catalog = load_po(po_path(package, locale), locale)
    problems = []
    for message in extract(package):
        if not message.id:
            continue
        found = catalog.get(message.id, context=message.context)
        strings = found.string if found is not None else None
        if isinstance(strings, (list, tuple)):
            ok = all(strings)
        else:
            ok = bool(strings)
        if found is None or not ok or found.fuzzy:
            problems.append(message.id if isinstance(message.id, str) else message.id[0])
    return problems
