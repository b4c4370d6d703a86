"""Sign in and out, and the user's own profile and password."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from .. import audit
from ..api.models import ApiToken
from ..api.tokens import create_token, revoke_token, tokens_of
from ..errors import DomainError
from ..extensions import db, login_manager
from ..forms import attempt
from ..secretbox import seal, unseal
from ..security import login_only, public, safe_next
from ..timeutil import valid_timezone
from . import services
from .forms import LoginForm, PasswordForm, ProfileForm, TokenForm
from .models import User

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def _load_user(session_id: str):
    if request.path.startswith("/api/"):
        return None  # the API signs in with tokens only, so cookies cannot be used against it
    user_id, _, version = (session_id or "").partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or str(user.session_version) != version:
        return None
    return _signed_in(user)


def _signed_in(user: User | None) -> User | None:
    """Remember who signed this request in (for the request log, which must not load the user
    again once a commit has expired it)."""
    if user is not None:
        g._erp_signed_in = (user, user.get_id())
    return user


@login_manager.request_loader
def _load_user_from_token(req):
    if not req.path.startswith("/api/"):
        return None
    scheme, _, token = (req.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    from ..api.tokens import user_for_token

    return _signed_in(user_for_token(token.strip()))


@login_manager.unauthorized_handler
def _unauthorized():
    flash(_("Please sign in to open that page."), "info")
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=target))


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), url_for("web.dashboard")))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.username.data, form.password.data, request.remote_addr)
        except services.Throttled as exc:
            flash(str(exc), "danger")
            status = 429
        except DomainError as exc:
            form.password.errors.append(str(exc))
        else:
            login_user(user)
            session.permanent = False
            audit.record("user", user.id, "login", actor=user)
            db.session.commit()
            return redirect(safe_next(request.args.get("next"), url_for("web.dashboard")))
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_only
def logout():
    services.end_sessions(current_user._get_current_object())
    db.session.commit()
    logout_user()
    flash(_("You are signed out."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/profile", methods=["GET", "POST"])
@login_only
def profile():
    form = ProfileForm(obj=current_user)
    password_form = PasswordForm(prefix="pw")
    if request.method == "POST" and request.form.get("action") == "profile" and form.validate():
        tz = (form.timezone.data or "").strip()
        if tz and not valid_timezone(tz):
            form.timezone.errors.append(_("Unknown time zone %(tz)s.", tz=tz))
        else:
            before = {"display_name": current_user.display_name, "email": current_user.email,
                      "locale": current_user.locale, "timezone": current_user.timezone}
            current_user.display_name = (form.display_name.data or "").strip()
            current_user.email = (form.email.data or "").strip() or None
            current_user.locale = form.locale.data or None
            current_user.timezone = tz or None
            after = {"display_name": current_user.display_name, "email": current_user.email,
                     "locale": current_user.locale, "timezone": current_user.timezone}
            b, a = audit.diff(before, after)
            if a:
                audit.record("user", current_user.id, "profile_changed", before=b, after=a)
            db.session.commit()
            session.pop("lang", None)
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("auth.profile"))
    elif request.method == "POST" and request.form.get("action") == "password" and password_form.validate():
        if not current_user.check_password(password_form.current_password.data):
            password_form.current_password.errors.append(_("The current password is wrong."))
        else:
            try:
                services.set_password(current_user, password_form.password.data)
            except DomainError as exc:
                password_form.password.errors.append(str(exc))
            else:
                db.session.commit()
                login_user(current_user._get_current_object())  # keep this session; others are logged out
                flash(_("Your password is changed. Other sessions were signed out."), "success")
                return redirect(url_for("auth.profile"))
    # A token just created is shown on this one page view, then forgotten (Post/Redirect/Get:
    # reloading the page neither creates another token nor shows this one again).
    # It crosses the redirect sealed (the session cookie is signed, not encrypted).
    new_token = unseal(session.pop(_NEW_TOKEN, None)) if request.method == "GET" else None
    return render_template("auth/profile.html", form=form, password_form=password_form,
                           token_form=TokenForm(prefix="tk"), tokens=tokens_of(current_user), new_token=new_token)


_NEW_TOKEN = "erp_new_api_token"


@bp.route("/profile/tokens", methods=["POST"])
@login_only
def create_api_token():
    """Create a personal API token; its value is shown on this one page and never again."""
    token_form = TokenForm(prefix="tk")
    token_form.name.data = request.form.get("name", token_form.name.data)
    token_form.days.data = request.form.get("days", token_form.days.data)
    new_token = None
    if not current_user.check_password(request.form.get("password") or token_form.password.data or ""):
        token_form.password.errors = [_("The password is wrong; no token was created.")]
        return render_template("auth/profile.html", form=ProfileForm(obj=current_user),
                               password_form=PasswordForm(prefix="pw"), token_form=token_form,
                               tokens=tokens_of(current_user)), 422
    try:
        days = int(token_form.days.data) if str(token_form.days.data or "").strip() else None
    except ValueError:
        days = -1
    with attempt(token_form) as outcome:
        _row, new_token = create_token(current_user, token_form.name.data or "", days)
    if outcome.ok:
        session[_NEW_TOKEN] = seal(new_token)
        return redirect(url_for("auth.profile", _anchor="api-tokens"))
    return render_template("auth/profile.html", form=ProfileForm(obj=current_user),
                           password_form=PasswordForm(prefix="pw"), token_form=token_form,
                           tokens=tokens_of(current_user)), 422


@bp.route("/profile/tokens/<int:token_id>/revoke", methods=["POST"])
@login_only
def revoke_api_token(token_id: int):
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != current_user.id:
        abort(404)
    revoke_token(row)
    db.session.commit()
    flash(_("Token %(name)s revoked.", name=row.name), "success")
    return redirect(url_for("auth.profile"))
