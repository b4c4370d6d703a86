"""``erp plugin new`` generates a package that installs and passes its own tests."""

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from erp_core import cli


def test_generated_plugin_installs_and_passes_its_tests(tmp_path):
    result = CliRunner().invoke(cli.main, ["plugin", "new", "loyalty", "--path", str(tmp_path)])
    assert result.exit_code == 0, result.output
    package = tmp_path / "erp-loyalty"
    site = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
                              str(package)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("ERP_TEST_DATABASE_URL", None)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=package,
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "5 passed" in run.stdout


@pytest.mark.parametrize("name,reason", [("Bad-Name", "not a usable"), ("orders", "taken"), ("class", "not a usable")])
def test_bad_names_are_refused_in_one_line(tmp_path, name, reason):
    result = CliRunner().invoke(cli.main, ["plugin", "new", name, "--path", str(tmp_path)])
    assert result.exit_code == 1 and reason in result.output and "Traceback" not in result.output


def test_an_existing_folder_is_not_overwritten(tmp_path):
    (tmp_path / "erp-notes").mkdir()
    result = CliRunner().invoke(cli.main, ["plugin", "new", "notes", "--path", str(tmp_path)])
    assert result.exit_code == 1 and "already exists" in result.output
