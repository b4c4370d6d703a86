"""Configuration layers: defaults < instance/config.toml (or .py) < ERP_* environment < overrides."""

import stat

import pytest

from erp_core.app import create_app
from erp_core.config import (
    DEFAULTS,
    ConfigError,
    instance_path,
    load_config,
    normalise_database_url,
    write_instance_config,
)


def _toml(folder, text):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(text, encoding="utf-8")


def test_defaults_apply_when_nothing_is_set(tmp_path):
    config = load_config(tmp_path, environ={})
    assert config["PER_PAGE"] == DEFAULTS["PER_PAGE"] == 25
    assert config["ENV"] == "production" and config["DEBUG"] is False
    assert config["SECRET_KEY"] == ""
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'erp.sqlite'}"
    assert config["UPLOAD_FOLDER"] == str(tmp_path / "uploads")
    assert config["INSTANCE_PATH"] == str(tmp_path)


def test_each_layer_overrides_the_one_below(tmp_path):
    _toml(tmp_path, 'per_page = 40\ntimezone = "Asia/Shanghai"\ncurrency = "USD"\nlog_level = "DEBUG"\n')
    environ = {"ERP_TIMEZONE": "Europe/Berlin", "ERP_CURRENCY": "EUR"}
    config = load_config(tmp_path, overrides={"CURRENCY": "JPY"}, environ=environ)
    assert config["LOG_LEVEL"] == "DEBUG"  # file over default
    assert config["PER_PAGE"] == 40  # file over default, coerced to int by TOML already
    assert config["TIMEZONE"] == "Europe/Berlin"  # environment over file
    assert config["CURRENCY"] == "JPY"  # overrides over environment
    assert config["DEFAULT_LOCALE"] == "en"  # untouched default


def test_environment_values_are_coerced_to_the_defaults_type(tmp_path):
    environ = {"ERP_PER_PAGE": " 50 ", "ERP_DEBUG": "yes", "ERP_SECURE_COOKIES": "off",
               "ERP_PLUGINS": "orders, inventory ,, alpha=tests.core.fakeplugins.alpha",
               "ERP_ENV": "development"}
    config = load_config(tmp_path, environ=environ)
    assert config["PER_PAGE"] == 50
    assert config["DEBUG"] is True and config["SECURE_COOKIES"] is False
    assert config["PLUGINS"] == ["orders", "inventory", "alpha=tests.core.fakeplugins.alpha"]


@pytest.mark.parametrize("name, value, expected", [
    ("ERP_PER_PAGE", "abc", "PER_PAGE from environment variable ERP_PER_PAGE must be a whole number, not 'abc'"),
    ("ERP_DEBUG", "maybe", "DEBUG from environment variable ERP_DEBUG must be true or false, not 'maybe'"),
    ("ERP_SQLITE_BUSY_TIMEOUT", "3.5", "must be a whole number"),
])
def test_bad_environment_value_names_the_setting_and_what_is_expected(tmp_path, name, value, expected):
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path, environ={name: value})
    assert expected in str(error.value)
    assert "\n" not in str(error.value)


def test_bad_file_value_names_the_file(tmp_path):
    _toml(tmp_path, 'secret_key = 12345\n')
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path, environ={})
    assert str(error.value) == f"SECRET_KEY from {tmp_path / 'config.toml'} must be text, not 12345"
    _toml(tmp_path, 'per_page = "many"\n')
    with pytest.raises(ConfigError, match="PER_PAGE from .*config.toml must be a whole number"):
        load_config(tmp_path, environ={})


def test_broken_toml_is_one_line_naming_the_file(tmp_path):
    _toml(tmp_path, 'secret_key = "unterminated\n')
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path, environ={})
    assert str(tmp_path / "config.toml") in str(error.value) and "not valid TOML" in str(error.value)


def test_unknown_keys_pass_through_from_the_file_but_not_from_the_environment(tmp_path):
    _toml(tmp_path, 'alpha_greeting = "hi"\n')
    config = load_config(tmp_path, environ={"ERP_MADE_UP": "1", "ERP_TEST_DATABASE_URL": "postgresql://x/y"})
    assert config["ALPHA_GREETING"] == "hi"  # plugins may read their own settings
    assert "MADE_UP" not in config and "TEST_DATABASE_URL" not in config
    assert config["DATABASE_URL"].startswith("sqlite:///")  # the test suite's variable is not the site's


def test_instance_config_py_is_read_when_there_is_no_toml(tmp_path):
    (tmp_path / "config.py").write_text(
        "import os\nSECRET_KEY = 'from-python'\nPER_PAGE = 10 * 3\n_private = 1\nlowercase = 2\n", encoding="utf-8")
    config = load_config(tmp_path, environ={})
    assert config["SECRET_KEY"] == "from-python" and config["PER_PAGE"] == 30
    assert "lowercase" not in config and "LOWERCASE" not in config and "_private" not in config
    _toml(tmp_path, 'secret_key = "from-toml"\n')  # both present: the TOML file wins
    assert load_config(tmp_path, environ={})["SECRET_KEY"] == "from-toml"


def test_config_py_values_are_type_checked_too(tmp_path):
    (tmp_path / "config.py").write_text("PER_PAGE = 'lots'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"PER_PAGE from .*config\.py must be a whole number"):
        load_config(tmp_path, environ={})


@pytest.mark.parametrize("source", ["SECRET_KEY = 'unterminated\n", "import no_such_module_here\n",
                                    "PER_PAGE = 1 / 0\n"])
def test_broken_config_py_is_one_line_naming_the_file(tmp_path, source):
    (tmp_path / "config.py").write_text(source, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path, environ={})
    message = str(error.value)
    assert str(tmp_path / "config.py") in message and "\n" not in message


@pytest.mark.parametrize("given", [
    "postgres://u:p@db:5432/erp", "postgresql://u:p@db:5432/erp", "postgresql+psycopg2://u:p@db:5432/erp",
    "postgresql+psycopg://u:p@db:5432/erp",
])
def test_postgres_urls_are_normalised_to_psycopg3(given):
    assert normalise_database_url(given) == "postgresql+psycopg://u:p@db:5432/erp"


def test_sqlite_urls_are_kept():
    assert normalise_database_url("sqlite:////var/erp/erp.sqlite") == "sqlite:////var/erp/erp.sqlite"


@pytest.mark.parametrize("url", ["mysql://root@localhost/erp", "oracle://x", "erp.sqlite"])
def test_unsupported_database_url_is_refused_in_one_line(tmp_path, url):
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path, environ={"ERP_DATABASE_URL": url})
    message = str(error.value)
    assert "is not supported" in message and "postgresql://" in message and "\n" not in message


def test_environment_database_url_is_normalised(tmp_path):
    config = load_config(tmp_path, environ={"ERP_DATABASE_URL": "postgres://erp@127.0.0.1/erp"})
    assert config["DATABASE_URL"] == "postgresql+psycopg://erp@127.0.0.1/erp"


def test_instance_path_comes_from_the_environment_or_defaults_to_instance(monkeypatch, tmp_path):
    monkeypatch.setenv("ERP_INSTANCE_PATH", str(tmp_path / "site"))
    assert instance_path() == tmp_path / "site"
    monkeypatch.delenv("ERP_INSTANCE_PATH")
    monkeypatch.chdir(tmp_path)
    assert instance_path() == tmp_path / "instance"


def test_written_config_reads_back_and_is_private(tmp_path):
    path = write_instance_config(tmp_path / "inst", {"secret_key": 'a"b\\c', "per_page": 7, "debug": False,
                                                     "plugins": ["orders", "x=y.z"]})
    write_instance_config(tmp_path / "inst", {"currency": "USD"})  # extends, keeps the rest
    config = load_config(tmp_path / "inst", environ={})
    assert config["SECRET_KEY"] == 'a"b\\c' and config["PER_PAGE"] == 7 and config["DEBUG"] is False
    assert config["PLUGINS"] == ["orders", "x=y.z"] and config["CURRENCY"] == "USD"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds the secret key


def test_app_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="no secret key is configured: run `erp init`"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}"}, instance=tmp_path)


def test_app_refuses_debug_in_production_but_allows_it_in_development(tmp_path):
    base = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}", "SECRET_KEY": "s", "LOAD_ENTRY_POINTS": False,
            "PLUGINS": []}
    with pytest.raises(ConfigError, match="DEBUG is on in production mode"):
        create_app(dict(base, DEBUG=True), instance=tmp_path)
    assert create_app(dict(base, DEBUG=True, ENV="development"), instance=tmp_path).config["DEBUG"] is True
    with pytest.raises(ConfigError, match="ENV must be production or development, not 'staging'"):
        create_app(dict(base, ENV="staging"), instance=tmp_path)


def test_app_takes_its_settings_from_the_instance_folder(tmp_path):
    _toml(tmp_path, 'secret_key = "instance-secret"\nper_page = 11\nplugins = []\nload_entry_points = false\n')
    app = create_app(instance=tmp_path)
    assert app.config["SECRET_KEY"] == "instance-secret" and app.config["PER_PAGE"] == 11
    assert app.instance_path == str(tmp_path)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'erp.sqlite'}"
