"""Fixtures of the support tests: apps with and without the plugins support talks to, orders
ready to be returned, teams with hours."""

from __future__ import annotations

import pytest

from tests.support.fakes import finance, inventory, logistics, spy

FAKES = ["inventory=tests.support.fakes.inventory", "finance=tests.support.fakes.finance",
         "logistics=tests.support.fakes.logistics"]
SPY = "spy=tests.support.fakes.spy"


@pytest.fixture(autouse=True)
def _reset_fakes():
    for module in (inventory, finance, logistics):
        module.CALLS.clear()
    inventory.BEHAVIOUR.clear()
    finance.BEHAVIOUR.clear()
    spy.reset()
    yield


@pytest.fixture
def support_app(make_app):
    """Orders and support only: every cross-plugin step is recorded by hand."""
    return make_app(plugins=["orders", "support"])


@pytest.fixture
def full_app(make_app):
    """Support with stand-ins for inventory, finance and logistics, and a spy on its events."""
    return make_app(plugins=["orders", *FAKES, "support", SPY])


class _FakeSMTP:
    """Stands in for smtplib.SMTP: keeps what would have been sent."""

    outbox: list = []

    def __init__(self, host, port, timeout=None):
        self.host = host

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        pass

    def login(self, *args):
        pass

    def send_message(self, msg):
        _FakeSMTP.outbox.append({"to": msg["To"], "subject": msg["Subject"],
                                 "body": msg.get_body(preferencelist=("plain",)).get_content()})


@pytest.fixture
def outbox(monkeypatch):
    """Mails sent through erp_core.mail (the real queued job, with a fake SMTP server)."""
    import erp_core.mail

    _FakeSMTP.outbox = []
    monkeypatch.setattr(erp_core.mail.smtplib, "SMTP", _FakeSMTP)
    return _FakeSMTP.outbox


@pytest.fixture
def mail_app(make_app, outbox):
    return make_app(plugins=["orders", "support"], MAIL_SERVER="127.0.0.1", MAIL_FROM="shop@example.com")


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 (aiosmtpd) for the duration of the test."""
    from tests.support.smtp import SmtpServer

    server = SmtpServer().start()
    yield server
    server.stop()
