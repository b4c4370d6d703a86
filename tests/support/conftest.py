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


class _Outbox:
    """What the real SMTP server of the test received, as ``{"to", "subject", "body"}`` dicts."""

    def __init__(self, server):
        self.server = server

    def _items(self):
        return [{"to": ", ".join(m.rcpt_tos), "subject": m["Subject"], "body": m.text()} for m in self.server.messages]

    def __len__(self):
        return len(self.server.messages)

    def __getitem__(self, index):
        return self._items()[index]

    def __iter__(self):
        return iter(self._items())

    def __eq__(self, other):
        return self._items() == list(other)

    def clear(self):
        """Forget what arrived so far."""
        with self.server.lock:
            self.server.messages.clear()


@pytest.fixture
def outbox(smtp_server):
    """Mails sent through erp_core.mail (the real queued job) to a real SMTP server on 127.0.0.1."""
    return _Outbox(smtp_server)


@pytest.fixture
def mail_app(make_app, outbox):
    return make_app(plugins=["orders", "support"], **outbox.server.app_config())

