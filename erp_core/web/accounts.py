"""Administration of users and roles."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from ..auth import services
from ..auth.delegation import Forbidden, check_may_manage, may_assign
from ..auth.forms import RoleForm, UserForm
from ..auth.models import Role, User
from ..errors import DomainError
from ..extensions import db
from ..forms import attempt, choices
from ..security import requires
from ..ui import apply_sort, paginate

bp = Blueprint("accounts", __name__, url_prefix="/admin")


def _role_choices(form, target: User | None = None) -> None:
    """Offer every role; those the acting user may not give or take (any, on their own account)
    are shown locked (``form.roles.locked``), and the target keeps the locked roles it holds."""
    actor = current_user._get_current_object()
    roles = db.session.scalars(select(Role).order_by(Role.name)).all()
    form.roles.choices = choices([(r.name, r.label) for r in roles])
    own = target is not None and target.id == actor.id
    form.roles.locked = {r.name for r in roles if own or not may_assign(actor, r)}
    form.roles.kept = [r.name for r in target.roles if r.name in form.roles.locked] if target else []
    if request.method == "POST":
        # The ticked roles plus the locked ones the user holds (a disabled box is not posted): what
        # is saved and what the form shows again after an error. A locked role posted anyway is
        # passed on, for the service to refuse.
        form.roles.data = list(dict.fromkeys([*(form.roles.data or []), *form.roles.kept]))
    if own:
        form.roles.locked_hint = _("You cannot change your own roles; another administrator can.")


@bp.route("/users")
@requires("core.users.manage")
def users():
    """The list of users (searchable, sortable)."""
    q = (request.args.get("q") or "").strip()
    stmt = select(User)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(User.username).like(like), func.lower(User.display_name).like(like),
                              func.lower(User.email).like(like)))
    stmt, sort, desc = apply_sort(stmt, {"username": User.username, "created": User.created_at,
                                         "last_login": User.last_login_at}, "username")
    page = paginate(stmt)
    return render_template("accounts/users.html", page=page, q=q, sort=sort, desc=desc)


@bp.route("/users/new", methods=["GET", "POST"])
@requires("core.users.manage")
def new_user():
    """Create a user, with the roles the acting user may give."""
    form = UserForm()
    _role_choices(form)
    status = 200
    if form.validate_on_submit():
        if not form.password.data:
            form.password.errors.append(_("A new user needs a password."))
        else:
            with attempt(form) as outcome:
                user = services.create_user(form.username.data, form.password.data,
                                            display_name=form.display_name.data, email=form.email.data,
                                            roles=form.roles.data, locale=form.locale.data,
                                            timezone=(form.timezone.data or "").strip(),
                                            actor=current_user._get_current_object())
            if outcome.ok:
                flash(_("User %(name)s created.", name=user.username), "success")
                return redirect(url_for("accounts.users"))
            status = _status_of(outcome.error)
    return render_template("accounts/user_form.html", form=form, user=None), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires("core.users.manage")
def edit_user(user_id: int):
    """Edit a user (within what the acting user may delegate)."""
    user = db.session.get(User, user_id) or abort(404)
    status = 200
    form = UserForm(obj=user)
    _role_choices(form, user)
    if request.method == "GET":
        form.roles.data = [r.name for r in user.roles]
        form.locale.data = user.locale or ""
    if form.validate_on_submit():
        with attempt(form) as outcome:
            services.update_user(user, display_name=form.display_name.data, email=form.email.data,
                                 active=form.active.data, roles=form.roles.data, locale=form.locale.data,
                                 timezone=(form.timezone.data or "").strip(),
                                 acting_user=current_user._get_current_object())
            if form.password.data:
                services.set_password(user, form.password.data, actor=current_user._get_current_object())
        if outcome.ok:
            flash(_("User %(name)s saved.", name=user.username), "success")
            return redirect(url_for("accounts.users"))
        status = _status_of(outcome.error)
    form.username.render_kw = {"readonly": True}
    return render_template("accounts/user_form.html", form=form, user=user, locked=_locked_reason(user)), status


def _locked_reason(user: User) -> str | None:
    """Why the acting user may not change this account at all (shown before they try), or None."""
    try:
        check_may_manage(current_user._get_current_object(), user)
    except Forbidden as exc:
        return str(exc)
    return None


def _status_of(exc: DomainError) -> int:
    """403 for a delegation refusal, else 200 (the form is shown again with its errors)."""
    return exc.status if isinstance(exc, Forbidden) else 200


@bp.route("/roles")
@requires("core.roles.manage")
def roles():
    all_roles = db.session.scalars(select(Role).order_by(Role.builtin.desc(), Role.name)).all()
    counts = dict(db.session.execute(
        select(Role.id, func.count(User.id)).join(Role, User.roles).group_by(Role.id)).all())
    return render_template("accounts/roles.html", roles=all_roles, counts=counts)


def _permission_groups():
    manager = current_app.extensions["erp_plugins"]
    groups: dict[str, list] = {}
    for plugin, perm in services.declared_permissions():
        groups.setdefault(plugin, []).append(perm)
    titles = {name: str(rec.meta.title) for name, rec in manager.records.items() if rec.meta}
    return [(titles.get(p, p), perms) for p, perms in groups.items()]


@bp.route("/roles/new", methods=["GET", "POST"])
@bp.route("/roles/<int:role_id>", methods=["GET", "POST"])
@requires("core.roles.manage")
def edit_role(role_id: int | None = None):
    """Create or edit a role; nobody grants a permission they do not hold."""
    role = db.session.get(Role, role_id) if role_id else None
    status = 200
    if role_id and role is None:
        abort(404)
    form = RoleForm(obj=role)
    groups = _permission_groups()
    form.permissions.choices = choices([(p.code, str(p.label)) for _t, perms in groups for p in perms])
    if request.method == "GET" and role is not None:
        form.permissions.data = sorted(role.codes)
    if role is not None:
        form.name.data = role.name
    if form.validate_on_submit():
        with attempt(form) as outcome:
            actor = current_user._get_current_object()
            if role is None:
                role = services.create_role(form.name.data, form.title.data, form.permissions.data, actor=actor)
            else:
                role.title = form.title.data.strip()
                if not role.all_permissions:
                    services.set_role_permissions(role, form.permissions.data, actor=actor)
        if outcome.ok:
            flash(_("Role %(name)s saved.", name=role.name), "success")
            return redirect(url_for("accounts.roles"))
        status = _status_of(outcome.error)
    return render_template("accounts/role_form.html", form=form, role=role, groups=groups), status


@bp.route("/roles/<int:role_id>/delete", methods=["POST"])
@requires("core.roles.manage")
def delete_role(role_id: int):
    role = db.session.get(Role, role_id) or abort(404)
    with attempt() as outcome:
        services.delete_role(role)
    if not outcome.ok:
        return redirect(url_for("accounts.edit_role", role_id=role_id))
    flash(_("Role deleted."), "success")
    return redirect(url_for("accounts.roles"))

