"""The web shell: user and role administration, audit log, profile, error pages, template
overrides from the instance folder, and the health check."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import abort
from sqlalchemy import func, select

from erp_core import audit
from erp_core.auth.models import Role, User
from erp_core.extensions import db
from erp_core.models import AuditLog
from erp_core.security import login_only, public
from tests.helpers import login, make_user

ALPHA = "alpha=tests.core.fakeplugins.alpha"


def _page(response) -> str:
    return response.get_data(as_text=True)


def _user(app, username) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        if user is not None:
            user.role_names = [r.name for r in user.roles]
            db.session.expunge(user)
        return user


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _signed_in(app, **fields):
    client = app.test_client()
    user_id = make_user(app, **fields)
    login(client, app, user_id)
    return client, user_id


NEW_USER = {"username": "Li.Na", "display_name": "Li Na", "email": "lina@example.com",
            "password": "warehouse-pass-1", "roles": ["warehouse", "finance"], "locale": "zh_CN",
            "timezone": "Asia/Shanghai", "active": "y"}


# ----------------------------------------------------------------------------- users


def test_admin_creates_a_user(app, admin_client):
    assert admin_client.get("/admin/users/new").status_code == 200
    response = admin_client.post("/admin/users/new", data=NEW_USER)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    listing = _page(admin_client.get("/admin/users"))
    assert "User li.na created." in listing and "Li Na" in listing
    user = _user(app, "li.na")
    assert user.display_name == "Li Na" and user.email == "lina@example.com" and user.active
    assert sorted(user.role_names) == ["finance", "warehouse"]
    assert user.locale == "zh_CN" and user.timezone == "Asia/Shanghai"
    with app.app_context():
        entry = db.session.scalar(select(AuditLog).where(AuditLog.object_type == "user", AuditLog.action == "created",
                                                         AuditLog.object_id == str(user.id)))
        assert entry.actor_name == "admin" and entry.after == {"username": "li.na", "roles": ["finance", "warehouse"]}
    fresh = app.test_client()
    assert fresh.post("/login", data={"username": "li.na", "password": "warehouse-pass-1"}).status_code == 302


@pytest.mark.parametrize("change, message", [
    ({"password": "short"}, "密码至少需要 10 个字符。"),
    ({"password": ""}, "新用户需要设置密码。"),
    ({"username": "boss"}, "用户名 boss 已被使用。"),
    ({"timezone": "Mars/Olympus"}, "未知时区 Mars/Olympus。"),
    ({"username": "bad name!"}, "用户名由 2–80 个小写字母"),
])
def test_user_form_refusals_are_in_the_admins_language_and_change_nothing(app, change, message):
    client, _ = _signed_in(app, roles=["admin"], username="boss", locale="zh_CN")
    users_before = _count(app, User)
    response = client.post("/admin/users/new", data=dict(NEW_USER, **change))
    assert response.status_code == 200
    page = _page(response)
    assert message in page
    assert 'class="form-control is-invalid' in page  # shown beside the field
    assert 'lang="zh-CN"' in page
    assert _count(app, User) == users_before


def test_admin_edits_a_user_and_deactivation_signs_them_out(app, admin_client):
    target_id = make_user(app, username="wang", roles=["warehouse"], display_name="Wang")
    target = app.test_client()
    login(target, app, target_id)
    assert target.get("/dashboard").status_code == 200
    form = _page(admin_client.get(f"/admin/users/{target_id}"))
    assert 'value="wang"' in form and "readonly" in form
    response = admin_client.post(f"/admin/users/{target_id}", data={
        "username": "wang", "display_name": "Wang Wei", "email": "", "password": "", "roles": ["finance"],
        "locale": "", "timezone": ""})  # "active" left out: unchecked
    assert response.status_code == 302
    user = _user(app, "wang")
    assert user.display_name == "Wang Wei" and user.role_names == ["finance"] and not user.active
    assert target.get("/dashboard").status_code == 302  # signed out everywhere
    with app.app_context():
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "updated"))
        assert entry.before == {"display_name": "Wang", "active": True, "roles": ["warehouse"]}
        assert entry.after == {"display_name": "Wang Wei", "active": False, "roles": ["finance"]}


def test_admin_sets_a_users_password_but_not_a_weak_one(app, admin_client):
    target_id = make_user(app, username="zhao", password="first-password")
    data = {"username": "zhao", "display_name": "Zhao", "password": "tiny", "active": "y", "roles": []}
    refused = admin_client.post(f"/admin/users/{target_id}", data=data)
    assert refused.status_code == 200 and "The password needs at least 10 characters." in _page(refused)
    assert _user(app, "zhao").display_name == ""  # the whole change was rolled back
    assert admin_client.post(f"/admin/users/{target_id}",
                             data=dict(data, password="second-password")).status_code == 302
    client = app.test_client()
    assert client.post("/login", data={"username": "zhao", "password": "second-password"}).status_code == 302


def test_admin_cannot_deactivate_themself_or_drop_their_admin_role(app):
    client, me = _signed_in(app, roles=["admin"], username="boss")
    base = {"username": "boss", "display_name": "Boss", "roles": ["admin"], "active": "y"}
    refused = client.post(f"/admin/users/{me}", data=dict(base, active=""))
    assert refused.status_code == 200 and "You cannot deactivate your own account." in _page(refused)
    refused = client.post(f"/admin/users/{me}", data=dict(base, roles=["warehouse"]))
    assert refused.status_code == 403 and "You cannot change your own roles" in _page(refused)
    user = _user(app, "boss")
    assert user.active and user.role_names == ["admin"] and user.display_name == ""
    assert client.get("/admin/users").status_code == 200  # still signed in and still admin


def test_users_list_searches_and_sorts(app, admin_client):
    make_user(app, username="alice", display_name="Alice Zhou")
    make_user(app, username="bob", email="bob@shop.example")
    page = _page(admin_client.get("/admin/users?q=zhou"))
    assert ">alice<" in page and ">bob<" not in page
    page = _page(admin_client.get("/admin/users?q=SHOP.EXAMPLE"))
    assert ">bob<" in page and ">alice<" not in page
    page = _page(admin_client.get("/admin/users?sort=-username"))
    names = re.findall(r'/admin/users/\d+">([^<]+)<', page)
    assert names == sorted(names, reverse=True) and set(names) == {"admin", "alice", "bob"}


def test_users_list_shows_built_in_role_titles_in_the_readers_language(app):
    make_user(app, username="wu", roles=["warehouse"])
    client, _ = _signed_in(app, roles=["admin"], locale="zh_CN")
    page = _page(client.get("/admin/users"))
    assert "仓库" in page and ">Warehouse<" not in page


def test_unknown_user_is_404(admin_client):
    assert admin_client.get("/admin/users/9999").status_code == 404


# ----------------------------------------------------------------------------- roles


def test_admin_creates_edits_and_deletes_a_role(app, admin_client):
    response = admin_client.post("/admin/roles/new", data={
        "name": "Packers", "title": "Packing team", "permissions": ["core.audit.view", "core.users.manage"]})
    assert response.status_code == 302
    with app.app_context():
        role = db.session.scalar(select(Role).where(Role.name == "packers"))
        assert role.title == "Packing team" and role.codes == {"core.audit.view", "core.users.manage"}
        assert not role.builtin
        role_id = role.id
    assert "Role packers saved." in _page(admin_client.get("/admin/roles"))

    # a user holding the role gets exactly its permissions
    client, _ = _signed_in(app, roles=["packers"])
    assert client.get("/admin/audit").status_code == 200
    assert client.get("/admin/plugins").status_code == 403

    admin_client.post(f"/admin/roles/{role_id}", data={"name": "ignored", "title": "Packers",
                                                       "permissions": ["core.plugins.manage"]})
    with app.app_context():
        role = db.session.get(Role, role_id)
        assert role.name == "packers" and role.codes == {"core.plugins.manage"}
    assert client.get("/admin/plugins").status_code == 200 and client.get("/admin/audit").status_code == 403

    in_use = admin_client.post(f"/admin/roles/{role_id}/delete", follow_redirects=True)
    assert "The role is given to 1 users" in _page(in_use)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.roles.any(Role.id == role_id)))
        user.roles = []
        db.session.commit()
    deleted = admin_client.post(f"/admin/roles/{role_id}/delete", follow_redirects=True)
    assert "Role deleted." in _page(deleted)
    with app.app_context():
        assert db.session.get(Role, role_id) is None
        actions = db.session.scalars(select(AuditLog.action).where(AuditLog.object_type == "role")
                                     .order_by(AuditLog.id)).all()
        assert actions == ["created", "permissions_changed", "deleted"]


@pytest.mark.parametrize("data, message", [
    ({"name": "x", "title": "X"}, "Field must be between 2 and 60 characters long."),
    ({"name": "Bad Name", "title": "X"}, "A role name uses 2-80 lowercase letters"),
    ({"name": "warehouse", "title": "Again"}, "A role named warehouse already exists."),
    ({"name": "ghosts", "title": "G", "permissions": ["no.such.code"]}, "&#39;no.such.code&#39; is not a valid choice for this field."),
])
def test_role_form_refusals_change_nothing(app, admin_client, data, message):
    before = _count(app, Role)
    response = admin_client.post("/admin/roles/new", data=data)
    assert response.status_code == 200 and message in _page(response)
    assert _count(app, Role) == before


def test_built_in_roles_cannot_be_deleted(app, admin_client):
    with app.app_context():
        warehouse_id = db.session.scalar(select(Role.id).where(Role.name == "warehouse"))
    page = _page(admin_client.get(f"/admin/roles/{warehouse_id}"))
    assert "Delete role" not in page
    response = admin_client.post(f"/admin/roles/{warehouse_id}/delete", follow_redirects=True)
    assert "Built-in roles cannot be deleted." in _page(response)
    with app.app_context():
        assert db.session.get(Role, warehouse_id) is not None


def test_admin_role_always_has_every_permission(app, admin_client):
    with app.app_context():
        admin_id = db.session.scalar(select(Role.id).where(Role.name == "admin"))
    page = _page(admin_client.get(f"/admin/roles/{admin_id}"))
    assert "The administrator role always has every permission." in page
    assert 'name="permissions"' not in page


# ----------------------------------------------------------------------------- audit log


def _entry(app, action, object_type, at, actor_name="system"):
    with app.app_context():
        entry = audit.record(object_type, 1, action)
        entry.at = at
        entry.actor_name = actor_name
        db.session.commit()


def test_audit_log_filters_by_record_user_and_local_day(app, admin_client):
    from erp_core import settings

    with app.app_context():
        settings.set_many({"company.timezone": "Asia/Shanghai"})
        db.session.commit()
    # 2026-01-31 20:00 UTC is already 1 February in Shanghai
    _entry(app, "act-jan", "order", datetime(2026, 1, 31, 15, 0, tzinfo=UTC), "ann")
    _entry(app, "act-feb1", "order", datetime(2026, 1, 31, 20, 0, tzinfo=UTC), "bob")
    _entry(app, "act-feb2", "ticket", datetime(2026, 2, 2, 3, 0, tzinfo=UTC), "ann")

    def shown(query):
        page = _page(admin_client.get("/admin/audit" + query))
        return sorted(set(re.findall(r"act-\w+", page)))

    assert shown("") == ["act-feb1", "act-feb2", "act-jan"]
    assert shown("?object_type=order") == ["act-feb1", "act-jan"]
    assert shown("?actor=ANN") == ["act-feb2", "act-jan"]
    assert shown("?from=2026-02-01") == ["act-feb1", "act-feb2"]
    assert shown("?to=2026-01-31") == ["act-jan"]
    assert shown("?from=2026-02-01&to=2026-02-01&object_type=order") == ["act-feb1"]
    assert shown("?object_type=order&object_id=2") == []
    warned = _page(admin_client.get("/admin/audit?from=31.01.2026"))
    assert "Dates are written YYYY-MM-DD." in warned and "act-jan" in warned  # bad date: filter ignored


def test_audit_log_needs_its_permission(app):
    client, _ = _signed_in(app, perms=["core.users.manage"])
    assert client.get("/admin/audit").status_code == 403
    client, _ = _signed_in(app, perms=["core.audit.view"])
    assert client.get("/admin/audit").status_code == 200


# ----------------------------------------------------------------------------- profile


def test_profile_saves_details_and_language(app):
    client, me = _signed_in(app, username="fang", password="fang-password-1")
    assert "fang" in _page(client.get("/profile"))
    response = client.post("/profile", data={"action": "profile", "display_name": "Fang Yu", "email": "fy@example.com",
                                             "locale": "zh_CN", "timezone": "Asia/Shanghai"})
    assert response.status_code == 302
    user = _user(app, "fang")
    assert (user.display_name, user.email, user.locale, user.timezone) == (
        "Fang Yu", "fy@example.com", "zh_CN", "Asia/Shanghai")
    page = _page(client.get("/profile", headers={"Accept-Language": "en"}))
    assert "个人资料已保存。" in page and 'lang="zh-CN"' in page  # her choice beats the browser's
    with app.app_context():
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "profile_changed"))
        assert entry.actor_name == "fang" and entry.after["display_name"] == "Fang Yu"


def test_profile_refuses_a_bad_time_zone_and_a_wrong_current_password(app):
    client, me = _signed_in(app, username="gao", password="gao-password-1", display_name="Gao")
    refused = client.post("/profile", data={"action": "profile", "display_name": "Changed", "timezone": "Nowhere/City"})
    assert refused.status_code == 200 and "Unknown time zone Nowhere/City." in _page(refused)
    assert _user(app, "gao").display_name == "Gao"
    refused = client.post("/profile", data={"action": "password", "pw-current_password": "not-it",
                                            "pw-password": "gao-password-2", "pw-confirm": "gao-password-2"})
    assert "The current password is wrong." in _page(refused)
    refused = client.post("/profile", data={"action": "password", "pw-current_password": "gao-password-1",
                                            "pw-password": "gao-password-2", "pw-confirm": "gao-password-3"})
    assert "The passwords differ." in _page(refused)
    assert app.test_client().post("/login", data={"username": "gao", "password": "gao-password-1"}).status_code == 302


# ----------------------------------------------------------------------------- error pages


def test_404_is_a_friendly_page_in_the_visitors_language(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404 and response.mimetype == "text/html"
    page = _page(response)
    assert "Page not found" in page and "Go to the start page" in page and 'href="/"' in page
    chinese = _page(client.get("/no/such/page", headers={"Accept-Language": "zh-CN"}))
    assert "页面不存在" in chinese


def test_403_is_a_friendly_page_inside_the_layout(app):
    client, _ = _signed_in(app)
    response = client.get("/admin/users")
    assert response.status_code == 403
    page = _page(response)
    assert "Not allowed" in page and "Ask an administrator" in page
    assert 'data-testid="main-nav"' in page and 'href="/dashboard"' in page


def test_api_paths_answer_json_problems(app):
    @login_only
    def forbidden():
        abort(403)

    app.add_url_rule("/api/test/forbidden", "test_forbidden", forbidden)
    client, _ = _signed_in(app)
    missing = client.get("/api/no-such-thing")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert missing.get_json() == {"type": "about:blank", "title": "Page not found", "status": 404,
                                  "detail": "This page does not exist, or its module is switched off.",
                                  "code": "not_found"}
    assert client.get("/api/test/forbidden").status_code == 401  # the API ignores session cookies
    from erp_core.api.tokens import create_token
    from erp_core.auth.models import User

    with app.app_context():
        _row, token = create_token(db.session.query(User).first(), "test")
        db.session.commit()
    denied = client.get("/api/test/forbidden", headers={"Authorization": f"Bearer {token}"})
    assert denied.status_code == 403 and denied.get_json()["code"] == "forbidden"
    wanted_json = app.test_client().get("/no-such-page", headers={"Accept": "application/json"})
    assert wanted_json.status_code == 404 and wanted_json.get_json()["status"] == 404


def test_a_crash_shows_a_reference_and_never_the_error(app, caplog):
    @public
    def crash():
        raise RuntimeError("secret internals: password=hunter2")

    app.add_url_rule("/test/crash", "test_crash", crash)
    app.add_url_rule("/api/test/crash", "test_api_crash", crash)
    client = app.test_client()
    response = client.get("/test/crash", headers={"X-Request-ID": "req-12345"})
    page = _page(response)
    assert response.status_code == 500 and "Something went wrong" in page
    assert "req-12345" in page and response.headers["X-Request-ID"] == "req-12345"
    assert "hunter2" not in page and "Traceback" not in page
    [record] = [r for r in caplog.records if r.name == "erp.errors"]  # the log has it all
    assert record.path == "/test/crash" and record.request_id == "req-12345" and "hunter2" in caplog.text
    api = client.get("/api/test/crash")
    assert api.status_code == 500 and api.get_json()["code"] == "server_error"
    assert "hunter2" not in _page(api)


# ----------------------------------------------------------------------------- template overrides


def test_the_site_overrides_any_template_from_its_instance_folder(make_app, tmp_path):
    instance = tmp_path / "site"
    templates = instance / "templates"
    (templates / "web").mkdir(parents=True)
    (templates / "web" / "home.html").write_text(
        '{% extends "public_base.html" %}{% block content %}<h1>Our own shop front</h1>'
        '{% for block in blocks %}{{ block.html }}{% endfor %}{% endblock %}')
    (templates / "alpha_widget.html").write_text('<p class="site-widget">site widget for {{ who }}</p>')
    (templates / "errors").mkdir()
    (templates / "errors" / "error.html").write_text("<h1>Custom {{ status }}: {{ title }}</h1>")
    app = make_app(plugins=[ALPHA], instance=instance)
    client = app.test_client()
    home = _page(client.get("/"))
    assert "Our own shop front" in home and "Staff sign in" in home  # the rest of the layout stays
    assert "site widget for public" in home and "alpha for public" not in home  # a plugin's template too
    assert _page(client.get("/nope")) == "<h1>Custom 404: Page not found</h1>"
    assert "Staff sign in" in _page(client.get("/login"))  # templates not overridden are the code's own


# ----------------------------------------------------------------------------- health check


def test_healthz_needs_no_login_and_lists_failed_plugins(make_app):
    app = make_app(plugins=[ALPHA, "ghost"])
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.is_json
    assert response.get_json() == {"status": "ok", "database": "ok", "plugins": {
        "enabled": ["alpha"], "failed": {"ghost": "no plugin named 'ghost' is installed: install its package or take it out of the PLUGINS setting"}}}


# ----------------------------------------------------------------------------- database down


@pytest.fixture
def site_without_database(tmp_path):
    """A production-like app whose database cannot be opened (its folder is missing)."""
    from erp_core.app import create_app
    from tests.conftest import base_config

    app = create_app(base_config(f"sqlite:///{tmp_path / 'gone' / 'erp.sqlite'}"), instance=tmp_path / "instance")
    app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    return app


@pytest.mark.parametrize("language, title, text", [
    ("zh-CN", "暂时无法使用", "暂时无法连接数据库，未做任何更改。请一分钟后再试。"),
    ("en", "Temporarily unavailable", "The database cannot be reached right now."),
])
def test_a_database_outage_gives_a_plain_page_in_the_users_language(site_without_database, language, title, text):
    client = site_without_database.test_client()
    for path in ("/", "/login", "/help/contact"):
        response = client.get(path, headers={"Accept-Language": language})
        page = response.get_data(as_text=True)
        assert response.status_code == 503, path
        assert response.headers["Retry-After"] == "30"
        assert title in page and text in page and "Traceback" not in page
    with client.session_transaction() as sess:  # a signed-in user: loading them needs the database too
        sess["_user_id"] = "1:1"
    response = client.get("/dashboard", headers={"Accept-Language": language})
    assert response.status_code == 503 and title in response.get_data(as_text=True)


def test_a_database_outage_on_the_api_is_problem_json(site_without_database):
    client = site_without_database.test_client()
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer erp_whatever", "Accept-Language": "en"})
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "database_unavailable"


def test_favicon_is_served_to_browsers_that_ask_for_it(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.headers["Location"].endswith("/static/img/favicon.svg")
    icon = client.get(response.headers["Location"])
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert 'rel="icon"' in client.get("/").get_data(as_text=True)
