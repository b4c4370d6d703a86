"""Delegated administration: nobody grants what they do not hold or edits an administrator."""

from erp_core.auth.models import Role, User
from erp_core.extensions import db
from tests.helpers import login, make_user

ALPHA = "alpha=tests.core.fakeplugins.alpha"


def _user_roles(app, user_id):
    with app.app_context():
        return sorted(r.name for r in db.session.get(User, user_id).roles)


def _role_codes(app, name):
    with app.app_context():
        return sorted(db.session.query(Role).filter_by(name=name).one().codes)


def _form(user_id_roles, **extra):
    data = {"username": "xy", "display_name": "", "email": "", "locale": "", "timezone": "", "active": "y"}
    data.update(extra)
    data["roles"] = user_id_roles
    return data


def test_a_user_manager_cannot_give_themselves_admin_or_any_role(make_app):
    app = make_app(plugins=[ALPHA])
    me = make_user(app, perms=["core.users.manage"])
    own = _user_roles(app, me)
    client = app.test_client()
    login(client, app, me)
    for extra in (["admin"], ["finance"], ["warehouse"]):
        response = client.post(f"/admin/users/{me}", data=_form(own + extra))
        assert response.status_code == 403
        assert "You cannot change your own roles" in response.get_data(as_text=True)
    assert _user_roles(app, me) == own


def test_a_user_manager_cannot_give_another_user_a_role_granting_more(make_app):
    app = make_app(plugins=[ALPHA])
    me = make_user(app, perms=["core.users.manage"])
    other = make_user(app)
    client = app.test_client()
    login(client, app, me)
    response = client.post(f"/admin/users/{other}", data=_form(["admin"]))
    assert response.status_code == 403
    assert "a role that grants permissions you do not hold: admin" in response.get_data(as_text=True)
    assert _user_roles(app, other) == []
    viewer_role = _user_roles(app, make_user(app, perms=["alpha.view"]))[0]
    created = client.post("/admin/users/new", data=_form([viewer_role], username="newbie",
                                                         password="correct-horse-battery"))
    assert created.status_code == 403
    with app.app_context():
        assert db.session.query(User).filter_by(username="newbie").count() == 0


def test_a_user_manager_cannot_edit_deactivate_or_reset_an_administrator(make_app):
    app = make_app(plugins=[ALPHA])
    boss = make_user(app, roles=["admin"], username="boss")
    me = make_user(app, perms=["core.users.manage"])
    client = app.test_client()
    login(client, app, me)
    for data in (_form(["admin"], display_name="Hacked"), _form(["admin"], active=""),
                 _form(["admin"], password="a-fresh-long-password")):
        if not data["active"]:
            del data["active"]
        response = client.post(f"/admin/users/{boss}", data=data)
        assert response.status_code == 403
        assert "Only an administrator may change an administrator" in response.get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, boss)
        assert user.active and user.display_name == "" and user.check_password("correct-horse-battery")


def test_a_user_manager_cannot_take_over_a_more_powerful_account_by_its_password(make_app):
    app = make_app(plugins=[ALPHA])
    me = make_user(app, perms=["core.users.manage"])
    viewer = make_user(app, perms=["alpha.view"], username="viewer")
    plain = make_user(app, username="plain")
    client = app.test_client()
    login(client, app, me)
    refused = client.post(f"/admin/users/{viewer}", data=_form(_user_roles(app, viewer), username="viewer",
                                                               password="a-fresh-long-password"))
    assert refused.status_code == 403
    assert "set the password of a user who holds permissions you do not hold" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, viewer).check_password("correct-horse-battery")
    ok = client.post(f"/admin/users/{plain}", data=_form([], username="plain", password="a-fresh-long-password"))
    assert ok.status_code == 302
    with app.app_context():
        assert db.session.get(User, plain).check_password("a-fresh-long-password")


def test_an_administrator_may_still_do_all_of_it(make_app):
    app = make_app(plugins=[ALPHA])
    boss = make_user(app, roles=["admin"])
    other = make_user(app, roles=["admin"])
    client = app.test_client()
    login(client, app, boss)
    assert client.post(f"/admin/users/{other}", data=_form(["admin", "finance"])).status_code == 302
    assert _user_roles(app, other) == ["admin", "finance"]


def test_a_role_manager_cannot_add_permissions_they_lack_to_their_own_role(make_app):
    app = make_app(plugins=[ALPHA])
    me = make_user(app, perms=["core.roles.manage", "alpha.view"])
    role_name = _user_roles(app, me)[0]
    with app.app_context():
        role_id = db.session.query(Role).filter_by(name=role_name).one().id
    client = app.test_client()
    login(client, app, me)
    wanted = ["core.roles.manage", "alpha.view", "core.users.manage"]
    response = client.post(f"/admin/roles/{role_id}", data={"name": role_name, "title": "Mine", "permissions": wanted})
    assert response.status_code == 403
    assert "You cannot grant permissions you do not hold yourself: core.users.manage" in response.get_data(as_text=True)
    assert _role_codes(app, role_name) == ["alpha.view", "core.roles.manage"]
    created = client.post("/admin/roles/new", data={"name": "sneaky", "title": "Sneaky", "permissions": wanted})
    assert created.status_code == 403
    with app.app_context():
        assert db.session.query(Role).filter_by(name="sneaky").count() == 0
    # what they hold they may grant, and they may take a permission away
    ok = client.post("/admin/roles/new", data={"name": "viewers", "title": "Viewers", "permissions": ["alpha.view"]})
    assert ok.status_code == 302 and _role_codes(app, "viewers") == ["alpha.view"]


def test_the_rules_hold_in_the_service_for_every_caller(make_app):
    import pytest

    from erp_core.auth import services
    from erp_core.auth.delegation import Forbidden

    app = make_app(plugins=[ALPHA])
    me = make_user(app, perms=["core.users.manage", "core.roles.manage"])
    with app.app_context():
        actor = db.session.get(User, me)
        with pytest.raises(Forbidden):
            services.create_user("sneak", "correct-horse-battery", roles=["admin"], actor=actor)
        with pytest.raises(Forbidden):
            services.create_role("sneak", "Sneak", ["alpha.view"], actor=actor)
        # the command line (no actor) is not limited
        services.create_role("cli_role", "CLI", ["alpha.view"])
        services.create_user("cli_user", "correct-horse-battery", roles=["admin"])


def test_the_user_form_locks_the_roles_one_may_not_give_and_keeps_them_on_save(make_app):
    app = make_app(plugins=[ALPHA])
    manager = make_user(app, perms=["core.users.manage", "alpha.view"])
    other = make_user(app, perms=["core.settings.manage"], username="fin")
    held = _user_roles(app, other)
    client = app.test_client()
    login(client, app, manager)
    page = client.get("/admin/users/new").get_data(as_text=True)
    assert 'disabled id="roles-0" name="roles" type="checkbox" value="admin"' in page or \
        ('value="admin"' in page and "disabled" in page.split('value="admin"')[0].rsplit("<input", 1)[1])
    assert "Greyed-out roles" in page
    # saving another user's name keeps the role (settings) the manager could not have ticked
    page = client.get(f"/admin/users/{other}").get_data(as_text=True)
    assert "disabled" in page.split(f'value="{held[0]}"')[0].rsplit("<input", 1)[1]
    response = client.post(f"/admin/users/{other}", data=_form([], username="fin", display_name="Fin"))
    assert response.status_code == 302
    assert _user_roles(app, other) == held
    # on their own account every role is locked, and saving keeps them
    own = _user_roles(app, manager)
    assert client.post(f"/admin/users/{manager}", data=_form([], username="mgr", display_name="Me")).status_code == 302
    assert _user_roles(app, manager) == own


def test_an_administrator_sees_no_locked_role_on_another_user(make_app):
    app = make_app(plugins=[ALPHA])
    admin = make_user(app, roles=["admin"])
    other = make_user(app, roles=["finance"])
    client = app.test_client()
    login(client, app, admin)
    page = client.get(f"/admin/users/{other}").get_data(as_text=True)
    assert "Greyed-out roles" not in page
    assert client.post(f"/admin/users/{other}", data=_form(["warehouse"], display_name="W")).status_code == 302
    assert _user_roles(app, other) == ["warehouse"]


def test_an_administrators_account_is_shown_locked_to_a_user_manager(make_app):
    app = make_app()
    manager = make_user(app, perms=["core.users.manage"])
    admin = make_user(app, roles=["admin"], username="boss")
    client = app.test_client()
    login(client, app, manager)
    page = client.get(f"/admin/users/{admin}").get_data(as_text=True)
    assert 'data-testid="account-locked"' in page and "Only an administrator may change" in page
    assert "<fieldset" in page and " disabled>" in page.split("<fieldset", 1)[1].split("\n", 1)[0]
    assert ">Save<" not in page
    own = client.get(f"/admin/users/{manager}").get_data(as_text=True)
    assert "You cannot change your own roles" in own and 'data-testid="account-locked"' not in own


def test_roles_stay_shown_after_a_refused_save(make_app):
    app = make_app(plugins=[ALPHA])
    manager = make_user(app, perms=["core.users.manage", "alpha.view"])
    other = make_user(app, perms=["core.settings.manage"], username="fin")
    held = _user_roles(app, other)
    client = app.test_client()
    login(client, app, manager)
    page = client.post(f"/admin/users/{other}", data=_form([], username="fin", timezone="Mars/Olympus")).get_data(as_text=True)
    assert "Unknown time zone" in page or "time zone" in page.lower()
    box = page.split(f'value="{held[0]}"')[0].rsplit("<input", 1)[1]
    assert "checked" in box and "disabled" in box


def test_roles_stay_shown_after_a_form_error(make_app):
    app = make_app(plugins=[ALPHA])
    manager = make_user(app, perms=["core.users.manage", "alpha.view"])
    other = make_user(app, perms=["core.settings.manage"], username="fin")
    held = _user_roles(app, other)
    client = app.test_client()
    login(client, app, manager)
    page = client.post(f"/admin/users/{other}", data=_form([], username="f")).get_data(as_text=True)
    assert "between 2 and 80" in page
    box = page.split(f'value="{held[0]}"')[0].rsplit("<input", 1)[1]
    assert "checked" in box and "disabled" in box
