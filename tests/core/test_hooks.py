"""Every hook is documented in docs/reference.md and tested (Datasette's rule).

Each hook ``erp_x`` (the core's and every built-in plugin's ``hookspecs`` module) needs a
``#### erp_x`` section in docs/reference.md (generated from its docstring) and a test function named ``test_hook_erp_x`` somewhere
under tests/. The ``test_hook_*`` functions for the core's contribution hooks live here;
domain-event hooks are tested next to the plugins that declare them.
"""

import ast
import functools
import importlib
import inspect
import re
from pathlib import Path

import pytest

from erp_core import hookspecs
from erp_core.extensions import db
from tests.core.fakeplugins import alpha
from tests.helpers import login, make_user

ROOT = Path(__file__).resolve().parents[2]
ALPHA = "alpha=tests.core.fakeplugins.alpha"
BETA = "beta=tests.core.fakeplugins.beta"

BUSINESS = ("orders", "inventory", "logistics", "finance", "support")
SPEC_MODULES = [hookspecs] + [importlib.import_module(f"plugins.{name}.hookspecs") for name in BUSINESS]


def _specs(module) -> dict:
    return {name: fn for name, fn in inspect.getmembers(module, inspect.isfunction)
            if name.startswith("erp_") and fn.__module__ == module.__name__}


SPECS = {name: fn for module in SPEC_MODULES for name, fn in _specs(module).items()}
HOOKS = sorted(SPECS)


@functools.cache
def _test_names() -> frozenset[str]:
    names = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(node.name)
    return frozenset(names)


def test_hooks_have_docstrings():
    for name in HOOKS:
        doc = SPECS[name].__doc__ or ""
        assert "Returns" in doc or "return" in doc.lower(), f"{name}: say what it returns"


def test_hook_reference_is_generated_from_the_docstrings():
    """docs/reference.md (hooks included) is what ``python -m erp_core.hookdocs`` writes."""
    from erp_core import hookdocs, refdocs

    text = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    assert refdocs.render() == text, "run `python -m erp_core.hookdocs` and commit docs/reference.md"
    for name in HOOKS:
        assert hookdocs.split_docstring(SPECS[name])[1], f"{name}: end its docstring with an Example:: block"


def test_hook_arguments_are_typed():
    for name, fn in SPECS.items():
        signature = inspect.signature(fn)
        assert signature.return_annotation is not inspect.Signature.empty, f"{name}: type what it returns"
        untyped = [p for p in signature.parameters.values() if p.annotation is inspect.Parameter.empty]
        assert not untyped, f"{name}: type the arguments {untyped}"


def test_core_hooks_name_no_business_area():
    """The core declares only generic hooks; each business hook lives with its plugin."""
    words = ("order", "stock", "shipment", "payment", "refund", "ticket", "return", "carrier", "warehouse")
    for name, fn in _specs(hookspecs).items():
        assert not any(word in name for word in words), f"{name} belongs to a plugin's hookspecs"
        assert "plugins." not in inspect.getsource(fn), f"{name} refers to a plugin"
    names = [set(_specs(module)) for module in SPEC_MODULES]
    assert sum(len(n) for n in names) == len(HOOKS), "a hook is declared twice"


def test_hook_erp_addhooks(make_app):
    """A plugin's own hooks exist while it is installed, and other plugins implement them."""
    app = make_app(plugins=[ALPHA, BETA])
    manager = app.extensions["erp_plugins"]
    with app.test_request_context():
        assert manager.pm.hook.erp_alpha_pinged.spec is not None
        assert manager.answerers("erp_alpha_pinged") == ["beta"]
        assert manager.collect("erp_alpha_pinged", who="zoe") == ["beta heard zoe"]
        assert manager.collect("erp_nobody_declared") == []  # its owner is not installed


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented(hook):
    text = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    section = re.search(r"^#### `?" + hook + r"\b.*?(?=^#{2,4} |\Z)", text, re.S | re.M)
    assert section, f"docs/reference.md lacks a '#### {hook}' section"
    assert "```python" in section.group(0), f"the {hook} section needs an example"
    params = ", ".join(inspect.signature(SPECS[hook]).parameters)
    assert f"`{hook}({params})`" in section.group(0), f"the {hook} section must show its signature `{hook}({params})`"
    owner = SPECS[hook].__module__
    if owner != hookspecs.__name__:
        plugin = owner.split(".")[1]
        assert f"Declared by the {plugin} plugin (`plugins/{plugin}/hookspecs.py`)" in section.group(0), \
            f"the {hook} section must say that the {plugin} plugin declares it"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_tested(hook):
    assert f"test_hook_{hook}" in _test_names(), f"write a test named test_hook_{hook}"


# ------------------------------------------------------------------ the contribution hooks


def _admin(app):
    client = app.test_client()
    login(client, app, make_user(app, roles=["admin"]))
    return client


def test_hook_erp_blueprints(make_app):
    app = make_app(plugins=[ALPHA])
    assert app.extensions["erp_plugins"].blueprint_owner["alpha"] == "alpha"
    assert _admin(app).get("/alpha/").status_code == 200


def test_hook_erp_permissions(make_app):
    from erp_core.auth.models import Role

    app = make_app(plugins=[ALPHA])
    with app.app_context():
        warehouse = db.session.query(Role).filter_by(name="warehouse").one()
        assert "alpha.view" in warehouse.codes  # granted to its default role
        customer_service = db.session.query(Role).filter_by(name="customer_service").one()
        assert "alpha.view" not in customer_service.codes
    page = _admin(app).get("/admin/roles/%d" % warehouse.id).get_data(as_text=True)
    assert "View alpha" in page


def test_permission_removed_by_an_admin_is_not_granted_again(make_app):
    from erp_core.auth.models import Role
    from erp_core.auth.services import set_role_permissions, sync_roles_and_permissions

    app = make_app(plugins=[ALPHA])
    with app.app_context():
        warehouse = db.session.query(Role).filter_by(name="warehouse").one()
        set_role_permissions(warehouse, [])
        db.session.commit()
        sync_roles_and_permissions()
        db.session.commit()
        assert warehouse.codes == set()


def test_hook_erp_nav_items(make_app):
    app = make_app(plugins=[ALPHA, BETA])
    admin = _admin(app)
    page = admin.get("/dashboard").get_data(as_text=True)
    assert "Alpha menu" in page and "Beta menu" in page
    plain = app.test_client()
    login(plain, app, make_user(app))
    page = plain.get("/dashboard").get_data(as_text=True)
    assert "Alpha menu" not in page  # needs alpha.view
    assert "Beta menu" in page  # no permission needed


def test_hook_erp_dashboard_widgets(make_app):
    app = make_app(plugins=[ALPHA])
    page = _admin(app).get("/dashboard").get_data(as_text=True)
    assert "Alpha widget" in page and "alpha-widget" in page


def test_a_failing_widget_does_not_break_the_dashboard(make_app, monkeypatch):
    from erp_core.contrib import Widget

    def broken_context():
        raise RuntimeError("widget bug")

    monkeypatch.setattr(alpha, "erp_dashboard_widgets", alpha.erp_dashboard_widgets)
    app = make_app(plugins=[ALPHA])
    manager = app.extensions["erp_plugins"]
    impl = next(i for i in manager.pm.hook.erp_dashboard_widgets.get_hookimpls() if i.plugin_name == "alpha")
    monkeypatch.setattr(impl, "function", lambda user: [Widget("Broken", "alpha_widget.html", broken_context),
                                                         Widget("Fine", "alpha_widget.html", {"who": "x"})])
    response = _admin(app).get("/dashboard")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "could not be shown" in page and "alpha for x" in page


def test_hook_erp_public_blocks(make_app):
    app = make_app(plugins=[ALPHA])
    page = app.test_client().get("/").get_data(as_text=True)
    assert "Alpha block" in page and "alpha for public" in page


def test_hook_erp_order_panels(make_app):
    from erp_core.contrib import Panel
    from erp_core.web.templating import render_contributions

    app = make_app(plugins=[ALPHA])
    with app.test_request_context():
        manager = app.extensions["erp_plugins"]
        user = type("U", (), {"username": "zoe"})()
        panels = [p for group in manager.hook.erp_order_panels(order="SO-1", user=user) for p in group]
        assert [p.title for p in panels] == ["Alpha panel"]
        assert isinstance(panels[0], Panel)
        assert "alpha for zoe" in render_contributions(panels)[0].html


def test_hook_erp_settings_fields(make_app):
    from erp_core import settings
    from erp_core.models import Setting

    app = make_app(plugins=[ALPHA])
    admin = _admin(app)
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert "Greeting" in page and 'value="hello"' in page
    data = {"company__name": "ACME", "company__timezone": "Europe/Berlin", "company__currency": "EUR",
            "company__locale": "", "alpha__greeting": "hi", "alpha__token": "s3cr3t-token"}
    assert admin.post("/admin/settings", data=data).status_code == 302
    with app.test_request_context():
        assert settings.get("alpha.greeting") == "hi"
        assert settings.get("alpha.token") == "s3cr3t-token"
        assert settings.company_timezone() == "Europe/Berlin"
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert "s3cr3t-token" not in page and "en" in page  # masked: only the last two characters
    data["alpha__token"] = ""
    admin.post("/admin/settings", data=data)
    with app.test_request_context():
        assert settings.get("alpha.token") == "s3cr3t-token"  # blank keeps the secret
    # bad values are refused beside the field and change nothing
    bad = dict(data, company__timezone="Mars/Olympus", company__currency="XXXX")
    response = admin.post("/admin/settings", data=bad)
    assert response.status_code == 200
    assert "Unknown time zone" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Setting, "company.timezone").value == "Europe/Berlin"


def test_hook_erp_cli_commands(make_app, monkeypatch):
    from click.testing import CliRunner

    from erp_core import cli

    app = make_app(plugins=[ALPHA])
    monkeypatch.setattr(cli, "_APP", app)
    runner = CliRunner()
    result = runner.invoke(cli.main, ["alpha-hello"])
    assert result.exit_code == 0 and "hello from alpha (0 notes)" in result.output
    runner.invoke(cli.main, ["plugins", "disable", "alpha"])
    result = runner.invoke(cli.main, ["alpha-hello"])
    assert result.exit_code == 1 and "switched off" in result.output


def test_hook_erp_demo_data(make_app, monkeypatch):
    from click.testing import CliRunner

    from erp_core import cli

    app = make_app(plugins=[ALPHA])
    monkeypatch.setattr(cli, "_APP", app)
    result = CliRunner().invoke(cli.main, ["demo", "--seed", "3"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert [n.text for n in db.session.query(alpha.AlphaNote)] == ["demo 4"]
    again = CliRunner().invoke(cli.main, ["demo"])
    assert again.exit_code == 1 and "already loaded" in again.output


def test_hook_erp_schedules(make_app):
    from datetime import timedelta

    from erp_core import scheduler
    from erp_core.timeutil import utcnow

    first = make_app(plugins=[ALPHA])
    second = make_app(plugins=[ALPHA])  # another process on the same database
    now = utcnow()
    with first.app_context():
        assert "alpha.tick" in scheduler.run_due(now)
    with second.app_context():
        assert "alpha.tick" not in scheduler.run_due(now + timedelta(seconds=30))  # same interval: taken
        assert "alpha.tick" in scheduler.run_due(now + timedelta(seconds=61))
        assert [n.text for n in db.session.query(alpha.AlphaNote)] == ["tick", "tick"]
