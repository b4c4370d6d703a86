"""A real SMTP server for tests (aiosmtpd on 127.0.0.1): plain, STARTTLS or implicit TLS,
optionally asking for a login, keeping every message it receives.

The ``smtp_server`` fixture (``erp_core.testing.fixtures``) starts a plain one;
``smtp_server_factory(security="starttls", users={"u": "p"})`` others. Point an app at it with
``make_app(**server.app_config())`` or :meth:`SMTPTestServer.settings`::

    def test_mail(make_app, smtp_server):
        app = make_app(**smtp_server.app_config())
        ...  # queue_mail(...) and commit: the job sends it
        assert smtp_server.messages[0]["Subject"] == "Hello"

The TLS certificate is self-signed for 127.0.0.1, generated per server; ``ca_file`` is given
to the app as ``MAIL_CA_FILE`` so the client verifies it like a real one.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

HOST = "127.0.0.1"


@dataclass
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    login: str | None
    tls: bool
    message: EmailMessage = field(init=False)

    def __post_init__(self):
        self.message = message_from_bytes(self.data.replace(b"\r\n", b"\n"), policy=policy.default)

    def __getitem__(self, header: str):
        value = self.message[header]
        if header.lower() == "subject" and value is not None:
            # Python folds a long one-word-start subject as "Subject:<CRLF> text" and its parser
            # keeps the space; mail clients show it trimmed, as here.
            return str(value).strip()
        return value

    def text(self) -> str:
        """The text/plain part."""
        return self.message.get_body(("plain",)).get_content()

    def html(self) -> str | None:
        """The text/html part, if any."""
        part = self.message.get_body(("html",))
        return part.get_content() if part is not None else None


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate (and its key) for 127.0.0.1 and localhost; returns their paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "erp test smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST)),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class _Handler:
    def __init__(self, server: SMTPTestServer):
        self.server = server

    async def handle_DATA(self, smtp, session, envelope):  # noqa: N802 (aiosmtpd's name)
        if self.server.reject:
            return self.server.reject
        login = session.auth_data if session.authenticated else None
        tls = session.ssl is not None or smtp.transport.get_extra_info("ssl_object") is not None
        with self.server.lock:
            self.server.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content
                                                 or envelope.content, login, tls))
        return "250 2.0.0 Ok: queued as TEST" + str(len(self.server.messages))


class SMTPTestServer:
    """A running aiosmtpd server; ``messages`` holds what it received. Set ``reject`` to an
    SMTP answer (e.g. ``"451 4.3.0 try later"``) to refuse messages."""

    def __init__(self, directory: Path, security: str = "none", users: dict[str, str] | None = None):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.host, self.port, self.security, self.users = HOST, _free_port(), security, dict(users or {})
        self.messages: list[Received] = []
        self.reject: str | None = None
        self.lock = threading.Lock()
        self.ca_file = ""
        self._stopped = False
        kwargs: dict = {}
        if security != "none":
            cert, key = make_certificate(directory / f"smtp-{self.port}")
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            self.ca_file = str(cert)
            kwargs["ssl_context" if security == "ssl" else "tls_context"] = context
            if security == "ssl":
                kwargs["server_hostname"] = HOST
        if self.users:
            def authenticate(_server, _session, _envelope, mechanism, auth_data):
                ok = (mechanism in ("LOGIN", "PLAIN") and
                      self.users.get(auth_data.login.decode()) == auth_data.password.decode())
                return AuthResult(success=ok, handled=False, auth_data=auth_data.login.decode() if ok else None)

            kwargs.update(authenticator=authenticate, auth_required=True,
                          # aiosmtpd sees only STARTTLS as TLS; implicit TLS is encrypted from the start
                          auth_require_tls=security == "starttls")
        self._controller = Controller(_Handler(self), hostname=HOST, port=self.port, enable_SMTPUTF8=True,
                                      ready_timeout=10, **kwargs)
        self._controller.start()

    def stop(self) -> None:
        """Stop listening (a test may stop it early to see a refused connection)."""
        if not self._stopped:
            self._stopped = True
            self._controller.stop()

    @property
    def emails(self) -> list[EmailMessage]:
        """What arrived, as parsed messages (subject, parts, headers)."""
        with self.lock:
            return [received.message for received in self.messages]

    def app_config(self, **extra) -> dict:
        """App configuration (``MAIL_*``) that sends through this server."""
        login = next(iter(self.users.items()), ("", ""))
        config = {"MAIL_SERVER": self.host, "MAIL_PORT": self.port, "MAIL_FROM": "shop@example.com",
                  "MAIL_USE_TLS": self.security == "starttls", "MAIL_USE_SSL": self.security == "ssl",
                  "MAIL_USERNAME": login[0], "MAIL_PASSWORD": login[1], "MAIL_CA_FILE": self.ca_file,
                  "MAIL_TIMEOUT": 10}
        config.update(extra)
        return config

    def settings(self) -> dict:
        """The same as Admin > Mail settings (``settings.set_many``); ``MAIL_CA_FILE`` must still
        be in the app's configuration for TLS."""
        login = next(iter(self.users.items()), ("", ""))
        return {"mail.server": self.host, "mail.port": self.port, "mail.security": self.security,
                "mail.username": login[0], "mail.password": login[1], "mail.sender": "shop@example.com",
                "mail.sender_name": ""}


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML bodies of a (multipart) message; "" for a part it lacks."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return (text.get_content() if text is not None else "", html.get_content() if html is not None else "")
