"""What a person does first: sign in, see the dashboard, switch language, switch a module off and on.

Screenshots of each step land in test-artifacts/ at desktop and phone widths.
"""

from __future__ import annotations

import os
import re

import pytest

from tests.e2e.conftest import sign_in

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the [test] extra installs it
    if os.environ.get("ERP_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)




def main_nav(page):
    return page.get_by_test_id("main-nav")


def test_sign_in_and_see_the_dashboard(page, live_server, shot):
    page.goto(live_server.url("/dashboard"))
    expect(page).to_have_url(re.compile(r"/login\?next=(%2F|/)dashboard$"))
    expect(page.get_by_text("Please sign in to open that page.")).to_be_visible()
    shot(page, "login-desktop")

    sign_in(page, live_server, password="not-the-password", wait=False)
    expect(page.get_by_text("Wrong user name or password.")).to_be_visible()

    sign_in(page, live_server)
    expect(page).to_have_url(live_server.url("/dashboard"))
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_text("Hello, Ada Admin")).to_be_visible()
    expect(page.locator(".erp-widget").filter(has_text="Alpha widget")).to_contain_text("alpha for admin")
    expect(main_nav(page).get_by_role("link", name="Alpha menu")).to_be_visible()
    admin_nav = page.get_by_test_id("admin-nav")  # the admin part of the menu, folded off admin pages
    expect(admin_nav.get_by_text("Administration")).to_be_in_viewport()
    admin_nav.get_by_text("Administration").click()
    expect(page.get_by_role("link", name="Plugins")).to_be_visible()
    shot(page, "dashboard-desktop")

    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto(live_server.url("/dashboard"))
    expect(page).to_have_url(re.compile(r"/login"))


def test_switch_language_to_chinese_and_back(page, live_server, shot):
    sign_in(page, live_server)
    switch = page.get_by_test_id("language-switch")
    switch.get_by_role("button", name="简体中文").click()
    expect(page).to_have_url(live_server.url("/dashboard"))  # stays on the same page
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()
    page.get_by_test_id("admin-nav").get_by_text("系统管理").click()
    expect(page.get_by_role("link", name="插件")).to_be_visible()
    shot(page, "dashboard-zh-desktop")

    page.goto(live_server.url("/admin/users"))  # the choice holds on every page
    expect(page.get_by_role("heading", name="用户")).to_be_visible()

    page.get_by_test_id("language-switch").get_by_role("button", name="English").click()
    expect(page).to_have_url(live_server.url("/admin/users"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Users")).to_be_visible()


def test_switch_a_plugin_off_and_on_again(page, live_server, shot):
    sign_in(page, live_server)
    expect(main_nav(page).get_by_role("link", name="Alpha menu")).to_be_visible()
    page.get_by_test_id("admin-nav").get_by_text("Administration").click()
    page.get_by_role("link", name="Plugins").click()
    card = page.locator('[data-plugin="alpha"]')
    expect(card).to_contain_text("On")
    shot(page, "plugins-on-desktop")

    page.get_by_test_id("disable-alpha").click()
    expect(page.get_by_text("Alpha is switched off. Its data is kept.")).to_be_visible()
    expect(card).to_contain_text("Off")
    expect(main_nav(page).get_by_role("link", name="Alpha menu")).to_have_count(0)
    shot(page, "plugins-off-desktop")
    page.goto(live_server.url("/dashboard"))
    expect(page.get_by_text("Alpha widget")).to_have_count(0)
    response = page.goto(live_server.url("/alpha/"))
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()

    page.goto(live_server.url("/admin/plugins"))
    page.get_by_test_id("enable-alpha").click()
    expect(page.get_by_text("Alpha is switched on.")).to_be_visible()
    expect(main_nav(page).get_by_role("link", name="Alpha menu")).to_be_visible()
    main_nav(page).get_by_role("link", name="Alpha menu").click()
    expect(page).to_have_url(live_server.url("/alpha/"))
    expect(page.locator("body")).to_have_text("alpha page 0")


def test_phone_layout_hides_the_menu_behind_a_button(phone_page, live_server, shot):
    page = phone_page
    page.goto(live_server.url("/login"))
    shot(page, "login-phone")
    sign_in(page, live_server)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    bar = page.locator("header.erp-topbar").bounding_box()
    assert bar["height"] <= 60, f"the top bar wraps on a phone ({bar['height']}px tall)"
    nav_link = main_nav(page).get_by_role("link", name="Alpha menu")
    expect(nav_link).to_be_hidden()
    shot(page, "dashboard-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px wide)"

    page.get_by_role("button", name="Menu").click()
    expect(nav_link).to_be_visible()
    # Bootstrap marks the panel "showing" while it slides in, then "show"
    expect(page.locator("#erp-sidebar")).to_have_class(re.compile(r"^(?!.*showing).*\bshow\b"))
    shot(page, "menu-open-phone")
    nav_link.click()
    expect(page).to_have_url(live_server.url("/alpha/"))

    page.goto(live_server.url("/dashboard"))
    page.get_by_test_id("language-switch").get_by_role("button", name="简体中文").click()
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()
    shot(page, "dashboard-zh-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the Chinese page scrolls sideways on a phone ({width}px wide)"
