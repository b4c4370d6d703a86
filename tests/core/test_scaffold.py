"""``erp plugin new`` generates a package that installs and passes its own tests."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from click.testing import CliRunner

import plugins
from erp_core import cli
from erp_core.migrations_info import CORE_MIGRATIONS, core_head


def _install_and_run_its_tests(tmp_path, package):
    """pip-install the generated package into a folder of its own and run its tests there."""
    site = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
                              str(package)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    # the ERP under test (this checkout) after the package, whatever the venv's editable install points at
    erp_root = Path(plugins.__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(erp_root)])}
    env.pop("ERP_TEST_DATABASE_URL", None)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=package,
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "8 passed" in run.stdout


def test_generated_plugin_installs_and_passes_its_tests(tmp_path):
    result = CliRunner().invoke(cli.main, ["plugin", "new", "loyalty", "--path", str(tmp_path)])
    assert result.exit_code == 0, result.output
    package = tmp_path / "erp-loyalty"
    assert 'depends_on = "%s"' % core_head() in _first_migration(package, "loyalty")
    _install_and_run_its_tests(tmp_path, package)


def _first_migration(package, name):
    return (package / f"erp_{name}" / "migrations" / "versions" / f"{name}_0001_initial.py").read_text()


def _head_of(branch):
    cfg = Config()
    cfg.set_main_option("script_location", str(CORE_MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(
        [str(CORE_MIGRATIONS / "versions"), str(Path(plugins.__file__).parent / "orders" / "migrations" / "versions")]))
    return ScriptDirectory.from_config(cfg).get_revision(f"{branch}@head").revision


def test_a_plugin_that_requires_orders_depends_on_its_head_and_passes_its_tests(tmp_path):
    result = CliRunner().invoke(cli.main, ["plugin", "new", "rewards", "--path", str(tmp_path),
                                           "--requires", " orders ,orders"])
    assert result.exit_code == 0, result.output
    package = tmp_path / "erp-rewards"
    assert 'requires=("orders",),' in (package / "erp_rewards" / "__init__.py").read_text()
    assert 'REQUIRED = ["orders"]' in (package / "tests" / "test_rewards.py").read_text()
    migration = _first_migration(package, "rewards")
    assert f'depends_on = ["{core_head()}", "{_head_of("orders")}"]' in migration
    _install_and_run_its_tests(tmp_path, package)


@pytest.mark.parametrize("requires,reason", [("orders,nope", "unknown plugin(s) in --requires: 'nope'"),
                                             ("points", "cannot require itself")])
def test_bad_requirements_are_refused_in_one_line_and_nothing_is_written(tmp_path, requires, reason):
    result = CliRunner().invoke(cli.main, ["plugin", "new", "points", "--path", str(tmp_path),
                                           "--requires", requires])
    assert result.exit_code == 1 and reason in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name,reason", [("Bad-Name", "not a usable"), ("orders", "taken"), ("class", "not a usable")])
def test_bad_names_are_refused_in_one_line(tmp_path, name, reason):
    result = CliRunner().invoke(cli.main, ["plugin", "new", name, "--path", str(tmp_path)])
    assert result.exit_code == 1 and reason in result.output and "Traceback" not in result.output


def test_an_existing_folder_is_not_overwritten(tmp_path):
    (tmp_path / "erp-notes").mkdir()
    result = CliRunner().invoke(cli.main, ["plugin", "new", "notes", "--path", str(tmp_path)])
    assert result.exit_code == 1 and "already exists" in result.output
