"""The catalog check plugin authors call (``assert_catalog_complete``) fails on each kind of
problem, and ``erp i18n compile`` without a folder also compiles installed plugins' catalogs."""

from __future__ import annotations

import io
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from click.testing import CliRunner

from erp_core import cli, i18n_tools
from erp_core.testing import assert_catalog_complete, catalog_problems

LOCALE = i18n_tools.LOCALES[0]


def _write_po(package: Path, translations: dict, fuzzy=()) -> Path:
    catalog = Catalog(locale=LOCALE, project=package.name, charset="utf-8")
    catalog.fuzzy = False
    for msgid, msgstr in translations.items():
        catalog.add(msgid, msgstr, flags=("fuzzy",) if msgid in fuzzy else ())
    path = i18n_tools.po_path(package, LOCALE)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog)
    return path


@pytest.fixture
def package(tmp_path):
    """A tiny plugin package with two messages, fully translated and compiled."""
    folder = tmp_path / "site" / "erp_tinycat"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text('from flask_babel import gettext as _\n\n\ndef title():\n'
                                        '    return _("Loyalty points"), _("Orders")\n')
    _write_po(folder, {"Loyalty points": "积分", "Orders": "订单"})
    i18n_tools.compile_catalogs(folder)
    return folder


def test_a_complete_compiled_catalog_passes_by_folder_and_by_name(package, monkeypatch):
    assert_catalog_complete(package)
    monkeypatch.syspath_prepend(str(package.parent))
    assert_catalog_complete("erp_tinycat")
    assert_catalog_complete(str(package), agree_with_erp=True)  # "Orders" is 订单 in the ERP too


def test_an_untranslated_message_fails_naming_it_and_the_command(package):
    _write_po(package, {"Loyalty points": "", "Orders": "订单"})
    i18n_tools.compile_catalogs(package)
    with pytest.raises(AssertionError) as failure:
        assert_catalog_complete(package)
    assert "'Loyalty points'" in str(failure.value) and f"erp i18n update {package}" in str(failure.value)


def test_a_message_missing_from_the_catalog_or_fuzzy_fails(package):
    (package / "more.py").write_text('from flask_babel import gettext as _\n\nLABEL = _("Points balance")\n')
    assert any("'Points balance'" in p for p in catalog_problems(package))
    (package / "more.py").unlink()
    _write_po(package, {"Loyalty points": "积分", "Orders": "订单"}, fuzzy={"Orders"})
    i18n_tools.compile_catalogs(package)
    assert any("'Orders'" in p and "fuzzy" in p for p in catalog_problems(package))


def test_a_stale_or_missing_compiled_catalog_fails(package):
    po = i18n_tools.po_path(package, LOCALE)
    _write_po(package, {"Loyalty points": "会员积分", "Orders": "订单"})
    assert catalog_problems(package) == [
        f"{LOCALE}: messages.mo is missing or older than messages.po: run `erp i18n compile {package}`"]
    po.with_suffix(".mo").unlink()
    assert len(catalog_problems(package)) == 1


def test_a_catalog_compiled_in_another_minute_is_still_current(package):
    """A .po without a creation date gets the current minute in the .mo's header: only the
    messages count, so a catalog compiled a minute before the check passes (it failed under load)."""
    from babel.messages.mofile import read_mo, write_mo

    mo = i18n_tools.po_path(package, LOCALE).with_suffix(".mo")
    catalog = read_mo(io.BytesIO(mo.read_bytes()))
    catalog.creation_date = datetime(2001, 1, 1, tzinfo=UTC)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    mo.write_bytes(buffer.getvalue())
    assert catalog_problems(package) == []


def test_a_translation_that_differs_from_the_erps_fails_only_when_asked(package):
    _write_po(package, {"Loyalty points": "积分", "Orders": "订购单"})
    i18n_tools.compile_catalogs(package)
    assert_catalog_complete(package)
    with pytest.raises(AssertionError, match="'Orders' is '订购单' here but '订单' in"):
        assert_catalog_complete(package, agree_with_erp=True)


def test_an_unknown_package_name_fails_clearly():
    with pytest.raises(AssertionError, match="no installed package named 'erp_nosuch_plugin'"):
        assert_catalog_complete("erp_nosuch_plugin")


def _install_fake_distribution(site: Path) -> None:
    """Make ``erp_tinycat`` an installed distribution declaring an ``erp.plugins`` entry point."""
    info = site / "erp_tinycat-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: erp-tinycat\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[erp.plugins]\ntinycat = erp_tinycat\n")


def test_installed_plugins_with_a_catalog_are_found_by_their_entry_point(package, monkeypatch):
    _install_fake_distribution(package.parent)
    monkeypatch.syspath_prepend(str(package.parent))
    assert package in i18n_tools.installed_plugin_dirs()
    assert "erp_tinycat" not in sys.modules  # found without importing it
    shutil.rmtree(package / "translations")
    assert package not in i18n_tools.installed_plugin_dirs()


def test_compile_without_a_folder_compiles_installed_plugins_too(package, monkeypatch):
    _write_po(package, {"Loyalty points": "会员积分", "Orders": "订单"})
    assert catalog_problems(package)  # stale .mo
    # Only the installed plugin: the ERP's own folders and other installed plugins stay untouched.
    monkeypatch.setattr(i18n_tools, "package_dirs", lambda root: [])
    monkeypatch.setattr(i18n_tools, "installed_plugin_dirs", lambda: [package])
    result = CliRunner().invoke(cli.main, ["i18n", "compile"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"erp_tinycat: compiled ({package})"
    assert_catalog_complete(package)
