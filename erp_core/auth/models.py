"""Users, roles and the permission codes roles grant."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..db import UTCDateTime
from ..extensions import db
from ..timeutil import utcnow

ALL = "*"

# The built-in roles' titles by role key: the English title as stored when the role is created,
# and its translation. A title is data: only these are translated, and only by key.
BUILTIN_ROLE_TITLES = {
    "admin": ("Administrator", _l("Administrator")),
    "customer_service": ("Customer service", _l("Customer service")),
    "warehouse": ("Warehouse", _l("Warehouse")),
    "finance": ("Finance", _l("Finance")),
    "support_agent": ("Support agent", _l("Support agent")),
}

user_role = Table(
    "core_user_role",
    db.metadata,
    Column("user_id", ForeignKey("core_user.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("core_role.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Role(db.Model):
    __tablename__ = "core_role"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    builtin: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    all_permissions: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    grants: Mapped[list[RolePermission]] = relationship(
        back_populates="role", cascade="all, delete-orphan", lazy="selectin")

    @property
    def codes(self) -> set[str]:
        return {g.code for g in self.grants}

    @property
    def label(self) -> str:
        """The title pages show: a built-in role's title in the reader's language while it keeps
        its original English text (looked up by the role's key), any other title as typed. Never
        pass a title to gettext: it would be a msgid, and gettext marks its result safe."""
        known = BUILTIN_ROLE_TITLES.get(self.name) if self.builtin else None
        if known is not None and self.title == known[0]:
            return str(known[1])
        return self.title


class RolePermission(db.Model):
    __tablename__ = "core_role_permission"
    role_id: Mapped[int] = mapped_column(ForeignKey("core_role.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(80), primary_key=True)
    role: Mapped[Role] = relationship(back_populates="grants")


class KnownPermission(db.Model):
    """Every permission code ever declared, so a new code is granted to its default roles once."""

    __tablename__ = "core_permission"
    code: Mapped[str] = mapped_column(String(80), primary_key=True)
    plugin: Mapped[str] = mapped_column(String(80), nullable=False)


class User(UserMixin, db.Model):
    __tablename__ = "core_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    timezone: Mapped[str | None] = mapped_column(String(60))
    # Bumped on password change: sessions carrying an older value are logged out.
    session_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    roles: Mapped[list[Role]] = relationship(secondary=user_role, lazy="selectin", order_by=Role.name)

    def set_password(self, password: str) -> None:
        from flask import current_app

        # scrypt (Werkzeug 3's default) unless the test suite asks for a cheaper method.
        method = current_app.config.get("PASSWORD_HASH_METHOD") or "scrypt"
        self.password_hash = generate_password_hash(password, method=method)
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return bool(self.active)

    def get_id(self) -> str:  # Flask-Login
        return f"{self.id}:{self.session_version}"

    @property
    def label(self) -> str:
        return self.display_name or self.username

    def permission_codes(self) -> frozenset[str]:
        """Codes granted through the user's roles; contains ``'*'`` for an all-permissions role."""
        cached = getattr(self, "_erp_codes", None)
        if cached is not None:
            return cached
        roles = self.roles  # loaded with their grants (selectin, or joined by the token sign-in)
        if any(r.all_permissions for r in roles):
            codes = frozenset({ALL})
        else:
            codes = frozenset(g.code for r in roles for g in r.grants)
        self._erp_codes = codes
        return codes

    def can(self, code: str | None) -> bool:
        """True when the user holds ``code`` (``None`` means "any logged-in user")."""
        if code is None:
            return True
        codes = self.permission_codes()
        return ALL in codes or code in codes
