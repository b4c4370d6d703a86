"""Translations are complete, compiled, chosen correctly; money and time display per locale."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask_babel import force_locale

from erp_core.i18n_tools import LOCALES, compiled_bytes, missing, package_dirs, po_path
from erp_core.money import format_money
from tests.helpers import login, make_user

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = package_dirs(ROOT)


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated(package, locale):
    untranslated = missing(package, locale)
    assert untranslated == [], f"run `erp i18n update {package.name}` and translate: {untranslated[:10]}"


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalog_matches_its_source(package, locale):
    po = po_path(package, locale)
    if not po.exists():
        pytest.skip("package has no messages")  # pragma: no cover
    assert po.with_suffix(".mo").read_bytes() == compiled_bytes(package, locale), \
        f"run `erp i18n compile {package.name}`"


def test_accept_language_picks_chinese(make_app):
    app = make_app(plugins=[])
    client = app.test_client()
    page = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}).get_data(as_text=True)
    assert "员工登录" in page
    page = client.get("/login", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert "员工登录" in page
    page = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "Staff sign in" in page


def test_switcher_overrides_accept_language_and_is_kept_for_the_user(make_app):
    app = make_app(plugins=[])
    client = app.test_client()
    user_id = make_user(app)
    login(client, app, user_id)
    response = client.post("/language", data={"lang": "zh_CN", "next": "/dashboard"})
    assert response.headers["Location"] == "/dashboard"
    assert "工作台" in client.get("/dashboard", headers={"Accept-Language": "en"}).get_data(as_text=True)
    fresh = app.test_client()
    login(fresh, app, user_id)
    assert "工作台" in fresh.get("/dashboard", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_switcher_refuses_unknown_language_and_foreign_next(make_app):
    app = make_app(plugins=[])
    client = app.test_client()
    response = client.post("/language", data={"lang": "xx", "next": "https://evil.example"})
    assert response.headers["Location"] == "/"


def test_money_uses_the_currency_decimals_and_locale():
    assert format_money(123450, "CNY", "en") == "CN¥1,234.50"
    assert format_money(123450, "CNY", "zh_CN") == "¥1,234.50"
    assert format_money(12345, "JPY", "en") == "¥12,345"
    assert format_money(1234567, "KWD", "en").endswith("1,234.567")


def test_times_are_shown_in_the_users_zone(make_app):
    app = make_app(plugins=[])
    moment = datetime(2026, 1, 31, 20, 30, tzinfo=UTC)
    with app.test_request_context():
        render = app.jinja_env.from_string("{{ t|dt('short') }} / {{ t|d('short') }}")
        from flask import g

        from erp_core import settings

        settings._stored()  # warm the cache, then pretend the company is in Shanghai
        g._erp_settings["company.timezone"] = "Asia/Shanghai"
        with force_locale("en"):
            text = render.render(t=moment)
    # the day moved to Shanghai's; "short" is the unambiguous medium date (not 2/1/26)
    assert text == "Feb 1, 2026 4:30\u202fAM / Feb 1, 2026"


def test_no_two_catalogs_translate_a_message_differently():
    """All catalogs are merged into one at run time, so one message must mean one thing.

    A plugin that needs another meaning for a common word uses a context (``pgettext``).
    """
    from erp_core.i18n_tools import load_po

    seen, conflicts = {}, []
    for package in PACKAGES:
        for locale in LOCALES:
            path = po_path(package, locale)
            if not path.exists():
                continue
            for message in load_po(path, locale):
                if not message.id or not message.string:
                    continue
                key = (locale, message.context, message.id if isinstance(message.id, str) else message.id[0])
                value = message.string if isinstance(message.string, str) else tuple(message.string)
                if key in seen and seen[key][1] != value:
                    conflicts.append(f"{key[2]!r}: {seen[key][0]} {seen[key][1]!r} vs {package.name} {value!r}")
                seen.setdefault(key, (package.name, value))
    assert conflicts == []


def test_the_switcher_marks_the_language_in_use(make_app):
    app = make_app(plugins=[])
    client = app.test_client()
    page = client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'value="zh_CN" lang="zh-CN"\n            class="btn btn-light"' in page
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'value="en" lang="en"\n            class="btn btn-light"' in page


def test_countries_are_named_in_the_readers_language(make_app):
    from flask_wtf import FlaskForm

    from erp_core.forms import CountryField
    from erp_core.i18n import country_choices, country_name

    class F(FlaskForm):
        country = CountryField("Country", default="CN")

    app = make_app(plugins=[], WTF_CSRF_ENABLED=False)
    with app.test_request_context():
        with force_locale("zh_CN"):
            assert country_name("CN") == "中国" and country_name("us") == "美国"
            assert country_choices()[0] == ("CN", "中国")
        with force_locale("en"):
            assert country_name("CN") == "China" and country_name("XX") == "XX" and country_name(None) == ""
            codes = [c for c, _n in country_choices()]
            assert len(codes) == len(set(codes)) > 200 and "EU" not in codes
            html = F().country()  # a select by name, CN chosen
            assert '<option selected value="CN">China</option>' in html
            kept = F(data={"country": "XX"}).country()  # an odd stored code is kept, not replaced
            assert '<option selected value="XX">XX</option>' in kept
