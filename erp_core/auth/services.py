"""Account rules: users, roles, permission sync and login throttling."""

from __future__ import annotations

import re
import secrets

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import audit, throttle
from ..errors import Conflict, DomainError, NotFound
from ..extensions import db
from ..timeutil import utcnow, valid_timezone
from . import delegation, passwords
from .models import BUILTIN_ROLE_TITLES, KnownPermission, Role, RolePermission, User

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,79}$")
MIN_PASSWORD = passwords.MIN_LENGTH

# The built-in roles and whether each holds every permission; their titles (stored in English,
# shown translated by key) are models.BUILTIN_ROLE_TITLES.
BUILTIN_ROLES = {"admin": True, "customer_service": False, "warehouse": False, "finance": False,
                 "support_agent": False}


# ----------------------------------------------------------------------------- permissions


def declared_permissions() -> list[tuple[str, object]]:
    """``(plugin, Permission)`` for every loaded plugin, enabled or not, in plugin order."""
    manager = current_app.extensions["erp_plugins"]
    found = []
    for plugin, perms in manager.call_each("erp_permissions", only_enabled=False):
        for perm in perms or []:
            found.append((plugin, perm))
    return found


def sync_roles_and_permissions() -> list[str]:
    """Create missing built-in roles and grant newly declared codes to their default roles.

    A code is granted by default only the first time it is seen, so an administrator who
    removes it from a role is not overruled at the next upgrade. Returns the new codes.
    """
    roles = {r.name: r for r in db.session.scalars(select(Role)).all()}
    for name, all_perms in BUILTIN_ROLES.items():
        if name not in roles:
            role = Role(name=name, title=BUILTIN_ROLE_TITLES[name][0], builtin=True, all_permissions=all_perms)
            db.session.add(role)
            roles[name] = role
    db.session.flush()
    known = set(db.session.scalars(select(KnownPermission.code)).all())
    new_codes = []
    for plugin, perm in declared_permissions():
        if perm.code in known:
            continue
        known.add(perm.code)
        new_codes.append(perm.code)
        db.session.add(KnownPermission(code=perm.code, plugin=plugin))
        for role_name in perm.roles:
            role = roles.get(role_name)
            if role is not None and not role.all_permissions and perm.code not in role.codes:
                role.grants.append(RolePermission(code=perm.code))
    db.session.flush()
    return new_codes


def role_by_name(name: str) -> Role:
    role = db.session.scalar(select(Role).where(Role.name == name))
    if role is None:
        raise NotFound(_("No role named %(name)s.", name=name))
    return role


def create_role(name: str, title: str, codes: list[str], actor: User | None = None) -> Role:
    """Create a role granting ``codes``; ``actor`` (None: the command line) must hold each of them."""
    name = (name or "").strip().lower()
    if not USERNAME_RE.match(name):
        raise DomainError(_("A role name uses 2-80 lowercase letters, digits, dots, dashes or underscores."), field="name")
    if db.session.scalar(select(Role.id).where(Role.name == name)):
        raise Conflict(_("A role named %(name)s already exists.", name=name), field="name")
    delegation.check_grant(actor, None, codes)
    role = Role(name=name, title=(title or name).strip()[:120], builtin=False)
    db.session.add(role)
    set_role_permissions(role, codes, audit_it=False)
    db.session.flush()
    audit.record("role", role.id, "created", after={"name": name, "codes": sorted(codes)})
    return role


def set_role_permissions(role: Role, codes: list[str], audit_it: bool = True, actor: User | None = None) -> None:
    """Replace the codes a role grants (unknown codes, and codes ``actor`` lacks, are refused)."""
    valid = {perm.code for _plugin, perm in declared_permissions()}
    unknown = sorted(set(codes) - valid)
    if unknown:
        raise DomainError(_("Unknown permission: %(codes)s", codes=", ".join(unknown)))
    if role.all_permissions:
        raise DomainError(_("The administrator role always has every permission."))
    delegation.check_grant(actor, role, codes)
    before = sorted(role.codes)
    wanted = set(codes)
    for grant in list(role.grants):
        if grant.code not in wanted:
            role.grants.remove(grant)
    for code in sorted(wanted - role.codes):
        role.grants.append(RolePermission(code=code))
    if audit_it and before != sorted(wanted):
        audit.record("role", role.id, "permissions_changed", before=before, after=sorted(wanted))


def delete_role(role: Role) -> None:
    if role.builtin:
        raise DomainError(_("Built-in roles cannot be deleted."))
    in_use = db.session.scalar(select(func.count()).select_from(User).where(User.roles.any(Role.id == role.id)))
    if in_use:
        raise Conflict(_("The role is given to %(n)d users; take it from them first.", n=in_use))
    audit.record("role", role.id, "deleted", before={"name": role.name})
    db.session.delete(role)


# ----------------------------------------------------------------------------- users


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


def check_password_strength(password: str, username: str = "", email: str | None = None) -> None:
    """Refuse a short, common or guessable password, saying why (see :mod:`.passwords`)."""
    passwords.check(password, username, email)


def create_user(username: str, password: str, *, display_name: str = "", email: str | None = None,
                roles: list[str] | None = None, locale: str | None = None, timezone: str | None = None,
                actor: User | None = None) -> User:
    """Create an active user with the named roles; refuses duplicates, weak passwords and roles
    ``actor`` may not give (None: the command line)."""
    username = normalise_username(username)
    if not USERNAME_RE.match(username):
        raise DomainError(_("A user name uses 2-80 lowercase letters, digits, dots, dashes or underscores."), field="username")
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(_("The user name %(name)s is taken.", name=username), field="username")
    new_roles = [role_by_name(r) for r in (roles or [])]
    delegation.check_roles_change(actor, None, new_roles)
    check_password_strength(password, username, email)
    if timezone and not valid_timezone(timezone):
        raise DomainError(_("Unknown time zone %(tz)s.", tz=timezone), field="timezone")
    user = User(username=username, display_name=(display_name or "").strip(), email=(email or None),
                locale=locale or None, timezone=timezone or None, active=True, session_version=0)
    user.set_password(password)
    user.roles = new_roles
    db.session.add(user)
    db.session.flush()
    audit.record("user", user.id, "created", after={"username": username, "roles": sorted(roles or [])})
    return user


def get_user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == normalise_username(username)))
    if user is None:
        raise NotFound(_("No user named %(name)s.", name=username))
    return user


def set_password(user: User, password: str, actor: User | None = None) -> None:
    """Set a new password (strength-checked); this ends every session of the user."""
    delegation.check_may_set_password(actor, user)
    check_password_strength(password, user.username, user.email)
    user.set_password(password)
    audit.record("user", user.id, "password_changed")


def end_sessions(user: User) -> None:
    """Sign ``user`` out everywhere: every session cookie carries the old version and stops working."""
    user.session_version = (user.session_version or 0) + 1


def update_user(user: User, *, display_name: str, email: str | None, active: bool, roles: list[str],
                locale: str | None, timezone: str | None, acting_user: User | None = None) -> None:
    """Save an administrator's edit of ``user``, within what ``acting_user`` may delegate."""
    delegation.check_may_manage(acting_user, user)
    if timezone and not valid_timezone(timezone):
        raise DomainError(_("Unknown time zone %(tz)s.", tz=timezone), field="timezone")
    new_roles = [role_by_name(r) for r in roles]
    delegation.check_roles_change(acting_user, user, new_roles)
    if acting_user is not None and acting_user.id == user.id and not active:
        raise DomainError(_("You cannot deactivate your own account."), field="active")
    before = _user_snapshot(user)
    user.display_name = (display_name or "").strip()
    user.email = email or None
    user.active = bool(active)
    user.roles = new_roles
    user.locale = locale or None
    user.timezone = timezone or None
    if not active and before["active"]:
        end_sessions(user)
    b, a = audit.diff(before, _user_snapshot(user))
    if a:
        audit.record("user", user.id, "updated", before=b, after=a)


def _user_snapshot(user: User) -> dict:
    return {"display_name": user.display_name, "email": user.email, "active": user.active,
            "roles": sorted(r.name for r in user.roles), "locale": user.locale, "timezone": user.timezone}


def random_password() -> str:
    """A strong password for generated accounts (printed once, never stored in clear).

    16 random URL-safe characters (96 bits); drawn again in the unlikely case the strength
    check would refuse it, so ``erp init`` and ``erp quickstart`` always print a usable one.
    """
    while True:
        password = secrets.token_urlsafe(12)
        try:
            passwords.check(password)
        except DomainError:
            continue
        return password


# ----------------------------------------------------------------------------- sign-in


class Throttled(DomainError):
    status = 429
    code = "too_many_attempts"


def _check_throttle(username: str, address: str | None) -> None:
    refusal = throttle.check("login", account=normalise_username(username), address=address)
    if refusal is None:
        return
    if refusal.retry_after < 120:
        raise Throttled(_("Too many failed sign-ins. Please wait %(n)d seconds and try again.",
                          n=refusal.retry_after))
    raise Throttled(_("Too many failed sign-ins. Please try again in %(n)d minutes.", n=refusal.minutes))


_DUMMY_HASH = None


def _spend_hash_time(password: str) -> None:
    global _DUMMY_HASH
    from werkzeug.security import check_password_hash, generate_password_hash

    if _DUMMY_HASH is None:
        _DUMMY_HASH = generate_password_hash(secrets.token_hex(8))
    check_password_hash(_DUMMY_HASH, password or "")


def authenticate(username: str, password: str, address: str | None) -> User:
    """Check a login. Raises Throttled, or DomainError("wrong user name or password")."""
    _check_throttle(username, address)
    account = normalise_username(username)
    user = db.session.scalar(select(User).where(User.username == account))
    if user is None:
        _spend_hash_time(password)  # answer as slowly as for a real account
    if user is None or not user.check_password(password or "") or not user.active:
        throttle.hit("login", account=account, address=address)
        raise DomainError(_("Wrong user name or password."))
    throttle.forgive("login", account=account, address=address)
    user.last_login_at = utcnow()
    return user
