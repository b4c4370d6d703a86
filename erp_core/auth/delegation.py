"""Delegated administration: what one staff member may change about other accounts and roles.

Every screen, command or API that edits users or roles asks this module first, so the rules hold
in one place:

* nobody grants a permission they do not hold (role create/edit);
* nobody gives or takes a role that grants a permission they do not hold;
* nobody changes their own roles;
* only an administrator edits, deactivates or resets the password of an administrator, and only
  an administrator gives or takes the administrator role;
* nobody sets the password of a user holding a permission they do not hold (they could sign in
  as that user).

An actor of ``None`` is the command line (``erp users ...``), run by whoever controls the server:
it is not limited. Each check raises :class:`Forbidden` (HTTP 403) with a translated message.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _

from ..errors import DomainError
from .models import ALL, Role, User


class Forbidden(DomainError):
    """The acting user may not make this change to accounts or roles."""

    code = "forbidden"
    status = 403


def is_admin(user: User | None) -> bool:
    """True for a user holding an all-permissions role."""
    return user is not None and ALL in user.permission_codes()


def missing_codes(actor: User, codes: Iterable[str]) -> list[str]:
    """The codes in ``codes`` that ``actor`` does not hold, sorted."""
    return sorted(code for code in set(codes) if not actor.can(code))


def check_grant(actor: User | None, role: Role | None, wanted: Iterable[str]) -> None:
    """Refuse a role create/edit that adds a code ``actor`` does not hold."""
    if actor is None:
        return
    added = set(wanted) - (role.codes if role is not None else set())
    missing = missing_codes(actor, added)
    if missing:
        raise Forbidden(_("You cannot grant permissions you do not hold yourself: %(codes)s",
                          codes=", ".join(missing)), field="permissions")


def may_assign(actor: User | None, role: Role) -> bool:
    """Whether ``actor`` may give (or take) ``role``: they hold everything it grants."""
    if actor is None or is_admin(actor):
        return True
    if role.all_permissions:
        return False
    return not missing_codes(actor, role.codes)


def check_roles_change(actor: User | None, target: User | None, new_roles: Iterable[Role]) -> None:
    """Refuse giving or taking roles ``actor`` may not assign, and any change of one's own roles.

    ``target`` is None for a user being created.
    """
    if actor is None:
        return
    old = {r.id: r for r in (target.roles if target is not None else [])}
    new = {r.id: r for r in new_roles}
    changed = [new[i] for i in new.keys() - old.keys()] + [old[i] for i in old.keys() - new.keys()]
    if target is not None and target.id == actor.id and changed:
        raise Forbidden(_("You cannot change your own roles; ask another administrator."), field="roles")
    refused = sorted(r.name for r in changed if not may_assign(actor, r))
    if refused:
        raise Forbidden(_("You cannot give or take a role that grants permissions you do not hold: %(roles)s",
                          roles=", ".join(refused)), field="roles")


def check_may_manage(actor: User | None, target: User) -> None:
    """Refuse editing, deactivating or resetting an administrator unless ``actor`` is one."""
    if actor is None:
        return
    if is_admin(target) and not is_admin(actor):
        raise Forbidden(_("Only an administrator may change an administrator's account."))


def check_may_set_password(actor: User | None, target: User) -> None:
    """Refuse setting the password of someone holding a permission ``actor`` lacks.

    Setting a password lets the actor sign in as the user, so it is granting themselves what the
    user holds: the same rule as for roles applies (and an administrator is reset only by one).
    """
    if actor is None or actor.id == target.id:
        return
    check_may_manage(actor, target)
    if missing_codes(actor, target.permission_codes()):
        raise Forbidden(_("You cannot set the password of a user who holds permissions you do not hold."),
                        field="password")


def assignable_roles(actor: User | None, roles: Iterable[Role]) -> list[Role]:
    """The roles of ``roles`` that ``actor`` may give or take (for the user form's choices)."""
    return [r for r in roles if may_assign(actor, r)]
