"""Where mail goes: the settings of Admin > Mail, else the site's configuration file (``MAIL_*``).

The settings are declared as :class:`~erp_core.contrib.SettingField` (the password as a
``secret``) so they live in the settings store; they are edited on their own page, not on the
general settings page.
"""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l

from .. import settings
from ..contrib import SettingField

SECURITY_NONE, SECURITY_STARTTLS, SECURITY_SSL = "none", "starttls", "ssl"
SECURITY_CHOICES = (
    (SECURITY_NONE, _l("No encryption (port 25, only inside a trusted network)")),
    (SECURITY_STARTTLS, _l("STARTTLS (usually port 587)")),
    (SECURITY_SSL, _l("Implicit TLS / SSL (port 465: QQ, 163, Aliyun mail)")),
)
DEFAULT_PORTS = {SECURITY_NONE: 25, SECURITY_STARTTLS: 587, SECURITY_SSL: 465}
PAGE = "mail.settings"


def setting_fields() -> list[SettingField]:
    """The mail settings, stored in ``core_setting`` and edited on Admin > Mail."""
    section = _l("Mail")
    return [
        SettingField("mail.server", _l("SMTP server"), "string", "", section, page=PAGE),
        SettingField("mail.port", _l("Port"), "integer", None, section, page=PAGE),
        SettingField("mail.security", _l("Security"), "choice", SECURITY_STARTTLS, section,
                     choices=SECURITY_CHOICES, page=PAGE),
        SettingField("mail.username", _l("User name"), "string", "", section, page=PAGE),
        SettingField("mail.password", _l("Password"), "secret", "", section, page=PAGE),
        SettingField("mail.sender", _l("Sender address"), "string", "", section, page=PAGE),
        SettingField("mail.sender_name", _l("Sender name"), "string", "", section, page=PAGE),
    ]


@dataclass(frozen=True)
class MailSettings:
    """Everything needed to hand a message to the SMTP server."""

    server: str
    port: int
    security: str
    username: str
    password: str
    sender: str
    sender_name: str
    source: str  # "settings" (Admin > Mail) or "config" (the configuration file)
    ca_file: str = ""
    timeout: float = 30

    @property
    def complete(self) -> bool:
        """A server and a sender address are set: mail can be sent."""
        return bool(self.server and self.sender)


def current() -> MailSettings:
    """The mail settings in force: Admin > Mail when a server is set there, else ``MAIL_*``."""
    cfg = current_app.config
    common = {"ca_file": cfg.get("MAIL_CA_FILE") or "", "timeout": float(cfg.get("MAIL_TIMEOUT") or 30)}
    server = (settings.get("mail.server") or "").strip()
    if server:
        security = settings.get("mail.security") or SECURITY_STARTTLS
        return MailSettings(
            server=server, port=int(settings.get("mail.port") or DEFAULT_PORTS.get(security, 25)),
            security=security, username=settings.get("mail.username") or "",
            password=settings.get("mail.password") or "", sender=settings.get("mail.sender") or "",
            sender_name=settings.get("mail.sender_name") or "", source="settings", **common)
    security = (SECURITY_SSL if cfg.get("MAIL_USE_SSL") else
                SECURITY_STARTTLS if cfg.get("MAIL_USE_TLS") else SECURITY_NONE)
    return MailSettings(
        server=(cfg.get("MAIL_SERVER") or "").strip(), port=int(cfg.get("MAIL_PORT") or DEFAULT_PORTS[security]),
        security=security, username=cfg.get("MAIL_USERNAME") or "", password=cfg.get("MAIL_PASSWORD") or "",
        sender=cfg.get("MAIL_FROM") or "", sender_name=cfg.get("MAIL_FROM_NAME") or "", source="config", **common)


def mail_configured() -> bool:
    """True when a server and a sender address are set (in Admin > Mail or in the config file)."""
    return current().complete


def check_address(value: str) -> str | None:
    """``None`` when ``value`` is one valid e-mail address, else why not."""
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return str(_l("%(address)s is not a valid e-mail address.", address=value))
    return None


def _check(server: str, port: int | None, security: str, username: str, password: str | None, sender: str,
           sender_name: str) -> None:
    """Raise a DomainError naming the first field ``save`` refuses."""
    from ..errors import DomainError

    if server and (len(server) > 255 or any(c.isspace() for c in server) or "/" in server):
        raise DomainError(_l("Enter a host name such as smtp.qq.com."), field="server")
    if security not in DEFAULT_PORTS:
        raise DomainError(_l("Choose a security mode."), field="security")
    if port is not None and not 1 <= port <= 65535:
        raise DomainError(_l("A port is a number from 1 to 65535."), field="port")
    if server and not sender:
        raise DomainError(_l("Enter the address mails are sent from."), field="sender")
    problem = check_address(sender) if sender else None
    if problem:
        raise DomainError(problem, field="sender")
    for field, value, longest in (("username", username, 255), ("sender_name", sender_name, 100),
                                  ("password", password or "", 255)):
        if len(value) > longest:
            raise DomainError(_l("This value is too long."), field=field)


def save(server: str, port: int | None, security: str, username: str, password: str | None, sender: str,
         sender_name: str) -> list[str]:
    """Store the mail settings (in the caller's transaction) after checking them; ``password``
    None or empty keeps the stored one. Raises :class:`~erp_core.errors.DomainError` naming the
    field at fault. Returns the keys that changed (audited, the password as ``***``)."""
    from .. import audit

    server, username, sender = (server or "").strip(), (username or "").strip(), (sender or "").strip()
    sender_name = " ".join((sender_name or "").split())  # no line breaks in a header
    _check(server, port, security, username, password, sender, sender_name)
    values = {"mail.server": server, "mail.port": port, "mail.security": security, "mail.username": username,
              "mail.sender": sender, "mail.sender_name": sender_name}
    if password:
        values["mail.password"] = password
    changed = settings.set_many(values)
    if changed:
        audit.record("settings", "mail", "changed", before={k: ("***" if k == "mail.password" else b)
                                                            for k, (b, _a) in changed.items()},
                     after={k: ("***" if k == "mail.password" else a) for k, (_b, a) in changed.items()})
    return sorted(changed)
