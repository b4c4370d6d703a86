"""``erp db revision``: on the site's database when one is configured (refused while it is behind),
otherwise on a scratch SQLite database brought to the newest schema in a temporary folder.

The commands run as new processes (the installed ``erp`` script), as a plugin author runs them
in their checkout: the generated plugin's models never enter this test process."""

from __future__ import annotations

import os

import pytest

from erp_core.migrations_info import core_head
from erp_core.scaffold import generate
from tests.core.test_cli import ROOT, one_error_line, run_erp

NAME = "revtest"


@pytest.fixture
def author(tmp_path):
    """A plugin author's checkout: a generated package, no site, no database; ``author.erp(...)``."""
    package = generate(NAME, tmp_path / "src", core_head(), ())

    class Author:
        versions = package / f"erp_{NAME}" / "migrations" / "versions"
        env = {"PYTHONPATH": f"{ROOT}{os.pathsep}{package}", "ERP_INSTANCE_PATH": str(tmp_path / "instance"),
               "ERP_PLUGINS": f"orders,{NAME}=erp_{NAME}"}

        def erp(self, *args, **env):
            return run_erp(*args, env={**self.env, **env}, cwd=tmp_path)

    return Author()


def test_without_a_database_the_first_migration_is_made_on_a_scratch_database(author, tmp_path):
    for old in author.versions.glob("*.py"):
        old.unlink()
    result = author.erp("db", "revision", NAME, "-m", "initial")
    assert result.returncode == 0, result.stderr
    assert "scratch SQLite database" in result.stdout
    written = author.versions / f"{NAME}_0001_initial.py"
    assert f"Wrote {written}" in result.stdout
    text = written.read_text()
    assert f"op.create_table('{NAME}_note'" in text and text.count("op.create_table(") == 1  # only its own table
    assert f"branch_labels = ('{NAME}',)" in text and f"depends_on = '{core_head()}'" in text
    assert not (tmp_path / "instance").exists()  # no site was made on the way

    again = author.erp("db", "revision", NAME, "-m", "second")  # the scratch database is at the newest schema
    assert again.returncode == 0, again.stderr
    text = (author.versions / f"{NAME}_0002_second.py").read_text()
    assert f"down_revision = '{NAME}_0001'" in text
    assert "create_table" not in text and "drop_table" not in text


def test_a_configured_database_behind_the_schema_is_refused_in_one_line(author, empty_database_url):
    site = {"ERP_DATABASE_URL": empty_database_url, "ERP_SECRET_KEY": "k" * 40}
    before = sorted(p.name for p in author.versions.iterdir())
    result = author.erp("db", "revision", NAME, "-m", "second", **site)
    assert result.returncode == 1
    line = one_error_line(result.stdout + result.stderr)
    assert "is behind the newest schema: run `erp db upgrade` first, or pass --scratch" in line
    assert sorted(p.name for p in author.versions.iterdir()) == before

    assert author.erp("db", "upgrade", **site).returncode == 0
    result = author.erp("db", "revision", NAME, "-m", "second", **site)
    assert result.returncode == 0, result.stderr
    assert "scratch" not in result.stdout and (author.versions / f"{NAME}_0002_second.py").exists()


def test_an_unknown_plugin_is_refused_in_one_line(author):
    result = author.erp("db", "revision", "nosuch", "-m", "x")
    assert result.returncode == 1
    assert one_error_line(result.stdout + result.stderr) == (
        "Error: no loaded plugin named 'nosuch': install its package (pip install -e .) or name it in ERP_PLUGINS")


def test_the_commands_also_run_as_python_m_erp_core_cli():
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("ERP_")}
    env["PYTHONPATH"] = str(ROOT)
    run = subprocess.run([sys.executable, "-m", "erp_core.cli", "i18n", "missing", "plugins/finance"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
