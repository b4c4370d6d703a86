"""Sign-in throttling per (account, address) with looser caps: an attacker locks out only themselves."""

import os

import pytest

from erp_core import throttle
from tests.helpers import make_user

REDIS_URL = os.environ.get("ERP_TEST_REDIS_URL") or None
PASSWORD = "correct-horse-battery"
ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
OWNER = {"REMOTE_ADDR": "198.51.100.7"}


def _login(client, password, environ, username="bob"):
    return client.post("/login", data={"username": username, "password": password}, environ_base=environ)


def test_the_owner_signs_in_from_another_address_after_an_attackers_50_failures(make_app):
    app = make_app(plugins=[])
    make_user(app, username="bob", password=PASSWORD)
    attacker = app.test_client()
    statuses = [_login(attacker, f"guess-{n}", ATTACKER).status_code for n in range(50)]
    assert statuses[:3] == [200, 200, 200] and set(statuses[3:]) == {429}
    refused = _login(attacker, PASSWORD, ATTACKER)  # even the right password waits
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.get_data(as_text=True)
    assert _login(app.test_client(), PASSWORD, OWNER).status_code == 302


def test_the_refusal_is_translated(make_app):
    app = make_app(plugins=[])
    make_user(app, username="bob", password=PASSWORD)
    client = app.test_client()
    for _ in range(3):
        _login(client, "nope-nope", ATTACKER)
    refused = client.post("/login", data={"username": "bob", "password": "nope-nope"}, environ_base=ATTACKER,
                          headers={"Accept-Language": "zh-CN"})
    assert refused.status_code == 429
    assert "登录失败次数过多" in refused.get_data(as_text=True)


def test_a_looser_cap_per_address_stops_guessing_many_accounts(make_app):
    app = make_app(plugins=[], LOGIN_LIMITS={"address": "5 per minute"})
    client = app.test_client()
    statuses = [_login(client, "wrong-password", ATTACKER, username=f"user{n}").status_code for n in range(8)]
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429] * 3


def test_a_looser_cap_per_account_stops_guessing_from_many_addresses(make_app):
    app = make_app(plugins=[], LOGIN_LIMITS={"account": "5 per hour"})
    make_user(app, username="bob", password=PASSWORD)
    client = app.test_client()
    statuses = [_login(client, "wrong-password", {"REMOTE_ADDR": f"10.0.0.{n}"}).status_code for n in range(8)]
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429] * 3


def test_the_wait_grows_with_the_tiers(make_app):
    app = make_app(plugins=[], LOGIN_LIMITS={"account_address": "2 per minute; 4 per hour"})
    make_user(app, username="bob", password=PASSWORD)
    client = app.test_client()
    for _ in range(2):
        _login(client, "wrong-password", ATTACKER)
    first = _login(client, "wrong-password", ATTACKER)
    assert first.status_code == 429 and "seconds" in first.get_data(as_text=True)
    with app.test_request_context():
        _forget_the_minute(app)  # the minute passed (no sleeping: its window is dropped)
    for _ in range(2):
        assert _login(client, "wrong-password", ATTACKER).status_code == 200
    with app.test_request_context():
        _forget_the_minute(app)
    later = _login(client, "wrong-password", ATTACKER)
    assert later.status_code == 429 and "minutes" in later.get_data(as_text=True)


def _forget_the_minute(app):
    from limits import parse

    strategy = app.extensions[throttle.EXTENSION].limiter
    strategy.clear(parse("2 per minute"), "login", "account_address", "bob|203.0.113.66")


def test_success_forgives_the_tight_counter_only(make_app):
    app = make_app(plugins=[])
    make_user(app, username="dora", password=PASSWORD)
    client = app.test_client()
    for _ in range(2):
        _login(client, "nope-nope", ATTACKER, username="dora")
    assert _login(client, PASSWORD, ATTACKER, username="dora").status_code == 302
    client.post("/logout")
    for _ in range(2):
        _login(client, "nope-nope", ATTACKER, username="dora")
    assert _login(client, PASSWORD, ATTACKER, username="dora").status_code == 302


def test_a_broken_store_lets_sign_in_through(make_app, monkeypatch):
    app = make_app(plugins=[])
    make_user(app, username="bob", password=PASSWORD)
    limiter = app.extensions[throttle.EXTENSION]

    def fail(*_a, **_k):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(type(limiter.limiter), "test", fail)
    monkeypatch.setattr(type(limiter.limiter), "hit", fail)
    assert _login(app.test_client(), "wrong-password", ATTACKER).status_code == 200
    assert _login(app.test_client(), PASSWORD, ATTACKER).status_code == 302


@pytest.mark.skipif(not REDIS_URL, reason="set ERP_TEST_REDIS_URL to test against Redis")
def test_with_redis_every_worker_shares_the_counters(make_app):
    import uuid

    prefix = f"erp-test-{uuid.uuid4().hex}"
    first = make_app(plugins=[], REDIS_URL=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix)
    second = make_app(plugins=[], REDIS_URL=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix)  # another worker
    make_user(first, username="bob", password=PASSWORD)
    for app in (first, second, first):
        assert _login(app.test_client(), "wrong-password", ATTACKER).status_code == 200
    assert _login(second.test_client(), PASSWORD, ATTACKER).status_code == 429
    assert _login(second.test_client(), PASSWORD, OWNER).status_code == 302
    with first.test_request_context():
        throttle.reset()


def test_a_plugin_registers_its_own_kind_with_overridable_limits(make_app):
    throttle.register("test_kind", "TEST_KIND_LIMITS", {"address_thing": "1 per minute", "address": "5 per minute"})
    app = make_app(plugins=[], TEST_KIND_LIMITS={"address": "2 per minute"})
    with app.test_request_context():
        throttle.hit("test_kind", address="203.0.113.9", thing="a")
        refusal = throttle.check("test_kind", address="203.0.113.9", thing="a")
        assert refusal is not None and refusal.scope == "address_thing" and refusal.minutes == 1
        assert throttle.check("test_kind", address="203.0.113.9", thing="b") is None
        throttle.hit("test_kind", address="203.0.113.9", thing="b")
        assert throttle.check("test_kind", address="203.0.113.9", thing="c").scope == "address"
        assert throttle.check("test_kind", address="198.51.100.1", thing="a") is None
    throttle.KINDS.pop("test_kind")
