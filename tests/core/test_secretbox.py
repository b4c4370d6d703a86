"""Secrets at rest: secret settings and carriers' secret credentials are stored sealed."""

from __future__ import annotations

from sqlalchemy import select

from erp_core import secretbox, settings
from erp_core.extensions import db
from erp_core.models import Setting

KEY = "finance.demo_gateway.secret"


def _raw(key):
    return db.session.scalar(select(Setting.value).where(Setting.key == key))


def test_seal_round_trip_and_another_secret_key_reads_nothing(app, make_app):
    with app.app_context():
        sealed = secretbox.seal("s3cret-密钥")
        assert secretbox.is_sealed(sealed) and "s3cret" not in sealed
        assert secretbox.seal(sealed) == sealed  # sealing twice keeps it
        assert secretbox.unseal(sealed) == "s3cret-密钥"
        assert secretbox.seal("") == "" and secretbox.unseal(None) == ""
        assert secretbox.unseal("legacy-plain") == "legacy-plain"
    other = make_app(SECRET_KEY="another-secret-key-of-this-site-0123456789")
    with other.app_context():
        assert secretbox.unseal(sealed, "the test value") == ""


def test_secret_settings_are_stored_sealed_and_read_plain(app):
    with app.app_context():
        changed = settings.set_many({KEY: "gateway-secret-1", "company.timezone": "Asia/Shanghai"})
        db.session.commit()
        assert changed[KEY][1] == "gateway-secret-1"
        assert secretbox.is_sealed(_raw(KEY)) and "gateway-secret-1" not in _raw(KEY)
        assert _raw("company.timezone") == "Asia/Shanghai"  # only secrets are sealed
    with app.app_context():
        assert settings.get(KEY) == "gateway-secret-1"
        assert settings.set_many({KEY: "gateway-secret-1"}) == {}  # unchanged: nothing to audit


def test_plaintext_secrets_from_before_are_sealed_by_the_upgrade(app):
    with app.app_context():
        db.session.add(Setting(key=KEY, value="old-plain-secret"))
        db.session.commit()
    with app.app_context():
        assert settings.get(KEY) == "old-plain-secret"
        assert settings.seal_plaintext_secrets() == [KEY]
        db.session.commit()
    with app.app_context():
        assert secretbox.is_sealed(_raw(KEY))
        assert settings.get(KEY) == "old-plain-secret"
        assert settings.seal_plaintext_secrets() == []


def test_settings_page_never_shows_the_secret(admin_client, app):
    with app.app_context():
        settings.set_many({KEY: "visible-if-broken-77"})
        db.session.commit()
    page = admin_client.get("/admin/settings").get_data(as_text=True)
    assert "visible-if-broken" not in page and "enc:v1:" not in page
