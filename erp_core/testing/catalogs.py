"""The translation catalog check, for the ERP's own suite and plugin authors' test suites::

    from erp_core.testing import assert_catalog_complete

    def test_catalog_is_complete():
        assert_catalog_complete("erp_loyalty")   # a module name, a module or a package folder
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from .. import i18n_tools


def package_folder(path_or_plugin) -> Path:
    """The folder of a package given as a folder, an imported module or an importable name."""
    if isinstance(path_or_plugin, ModuleType):
        return Path(path_or_plugin.__file__).resolve().parent
    if isinstance(path_or_plugin, Path) or "/" in str(path_or_plugin) or "\\" in str(path_or_plugin):
        folder = Path(path_or_plugin).resolve()
    else:
        spec = importlib.util.find_spec(str(path_or_plugin))
        if spec is None or not spec.origin:
            raise AssertionError(f"no installed package named {path_or_plugin!r}")
        folder = Path(spec.origin).resolve().parent
    if not folder.is_dir():
        raise AssertionError(f"{folder} is not a folder")
    return folder


def catalog_problems(path_or_plugin, locales=i18n_tools.LOCALES, agree_with_erp: bool = False) -> list[str]:
    """What is wrong with a package's catalogs, one sentence each (empty when nothing is)."""
    folder = package_folder(path_or_plugin)
    problems = []
    for locale in locales:
        untranslated = i18n_tools.missing(folder, locale)
        if untranslated:
            shown = ", ".join(repr(m) for m in untranslated[:10]) + (" ..." if len(untranslated) > 10 else "")
            problems.append(f"{locale}: {len(untranslated)} message(s) untranslated or fuzzy ({shown}): run "
                            f"`erp i18n update {folder}`, translate them and remove the fuzzy marks")
        po = i18n_tools.po_path(folder, locale)
        if not po.exists():
            continue
        mo = po.with_suffix(".mo")
        if not mo.exists() or (i18n_tools.compiled_messages(mo.read_bytes())
                               != i18n_tools.compiled_messages(i18n_tools.compiled_bytes(folder, locale))):
            problems.append(f"{locale}: {mo.name} is missing or older than {po.name}: run `erp i18n compile {folder}`")
        if agree_with_erp:
            problems += _disagreements(folder, locale)
    return problems


def _disagreements(folder: Path, locale: str) -> list[str]:
    """Messages the package shares with the ERP's own catalogs but translates differently."""
    ours = {m.id: m.string for m in i18n_tools.load_po(i18n_tools.po_path(folder, locale), locale)
            if m.id and not m.context}
    erp_root = Path(i18n_tools.__file__).resolve().parent.parent
    problems = []
    for erp_package in i18n_tools.package_dirs(erp_root):
        if erp_package == folder:
            continue
        for message in i18n_tools.load_po(i18n_tools.po_path(erp_package, locale), locale):
            if message.id in ours and not message.context and message.string and ours[message.id] != message.string:
                problems.append(f"{locale}: {message.id!r} is {ours[message.id]!r} here but {message.string!r} in "
                                f"{erp_package.name}")
    return problems


def assert_catalog_complete(path_or_plugin, locales=i18n_tools.LOCALES, agree_with_erp: bool = False) -> None:
    """Fail, naming the messages and the command to run, unless every message of the package is
    translated (not fuzzy) in each locale and its compiled ``.mo`` matches the ``.po``.

    ``path_or_plugin`` is the package's folder, the imported package or its importable name.
    With ``agree_with_erp`` a message the ERP's own catalogs also hold must be translated the
    same way (so one term does not read two ways on one page).
    """
    problems = catalog_problems(path_or_plugin, locales, agree_with_erp)
    if problems:
        raise AssertionError(f"catalog of {package_folder(path_or_plugin)}:\n  " + "\n  ".join(problems))
