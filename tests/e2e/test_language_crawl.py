"""Every page speaks the reader's language: a browser crawl of the demo site in zh_CN and in en.

One site with the demo data (loaded as ``erp demo`` / ``erp quickstart`` does), one browser page.
Signed in as the administrator, the crawl opens every page of the navigation, one record page of each
kind linked from the list pages (an order, a customer, a product, a shipment, a ticket, a return, a
payment, a refund, ...), then, signed out, the public pages (home, the order tracking page reached by
the order's real token link, its return page and a survey page). It does so twice, after switching the
language with the switch in the top bar, as a user does.

On every page the text a reader sees (text nodes that are rendered, placeholders, button values,
select options) must not show:

- programming values: ``None``, a dict (``{'``), a ``\\u00`` escape, ``[object``;
- identifiers: snake_case words or dotted codes (``core.webhooks.retry``), apart from ``ALLOWED``;
- a system sentence in the other language. The sentences the site itself writes are the messages
  of its catalogs, so: on an English page, no text equals (or, for a message with parameters,
  matches) a Chinese translation of a catalog message; on a Chinese page, no text matches an English
  catalog message of three words or more. User data (Chinese names and addresses in the demo data)
  cannot match a whole catalog sentence, and the check cannot pass falsely: it is shown to find a
  sentence planted in the other language (``test_the_language_check_finds_a_planted_sentence``).
  On top of that, fixed chrome (table headings, labels, buttons, menu entries, badges) must carry no
  Chinese character on an English page and no run of three English words on a Chinese page; text
  that holds what people typed is marked ``data-user-text`` (a role's title) or is a choice of a
  checkbox list (``.form-check``), and text marked with its own ``lang`` (the language switch's
  "简体中文") is in that language on purpose.

The same site on a phone (390x844): every list page of the navigation fits the screen's width (a
wide table scrolls inside its box, the side with more columns fading out as a hint), and a currency
select is as wide as its longest label.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from babel.messages.mofile import read_mo
from sqlalchemy import select

from erp_core.extensions import db
from tests.e2e.conftest import DESKTOP, PHONE, sign_in

ROOT = Path(__file__).resolve().parents[2]

# Visible text as (text, chrome) pairs: rendered text nodes, select options, placeholders and the
# values of buttons. ``chrome`` is true inside the fixed parts of a page that never hold user data.
VISIBLE_TEXT = r"""
() => {
  const CHROME = "th, label, button, .btn, .nav-link, .badge, legend, summary, .erp-nav-heading, .form-text, .page-item, .breadcrumb";
  const out = [];
  const seen = (el) => el && (el.checkVisibility ? el.checkVisibility() : el.offsetParent !== null);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.nodeValue.replace(/\s+/g, " ").trim();
    if (!text) continue;
    const el = node.parentElement;
    if (!el || el.closest("script, style, template, noscript")) continue;
    const option = el.closest("option");
    if (option ? !seen(option.closest("select")) : !seen(el)) continue;
    // Text marked as written in another language (the language switch's own names) is skipped.
    const marked = el.closest("[lang]");
    if (marked && marked !== document.documentElement && marked.lang !== document.documentElement.lang) continue;
    // A text box's content is a value someone typed: checked for raw values, not for its language.
    if (el.closest("textarea")) { out.push([text, false, true]); continue; }
    out.push([text, !!el.closest(CHROME) && !el.closest("[data-user-text], .form-check"), false]);
  }
  for (const el of document.querySelectorAll("input[placeholder], textarea[placeholder], input[type=submit], input[type=button]")) {
    if (!seen(el)) continue;
    const text = (el.getAttribute("placeholder") || el.value || "").trim();
    if (text) out.push([text, true, false]);
  }
  return out;
}
"""

# Never on a page, whatever the language.
RAW_VALUES = [re.compile(r"\bNone\b"), re.compile(r"\{'"), re.compile(r"\\u00"), re.compile(r"\[object")]
SNAKE = re.compile(r"(?<![\w@./:-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w@/-])")
DOTTED = re.compile(r"(?<![\w@./:-])[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*){2,}(?![\w@/(-])")
HOST = re.compile(r"\.(com|cn|net|org|io)$")  # a host name (smtp.qq.com) is not an identifier
# Identifiers that are legitimately shown as they are (each one says why):
ALLOWED = {
    # Role keys, in their own column of Admin > Roles: the key `erp users create --role` takes.
    "customer_service", "support_agent", "support_lead",
    # Payment method codes, under each method's name on Payment methods: the `method` of the API.
    "bank_transfer", "demo_gateway",
    # Alipay's names of its two products, as its merchant console lists them (Alipay settings).
    "alipay.trade.page.pay", "alipay.trade.wap.pay",
    # The file name WeChat Pay's merchant platform gives the API key (WeChat Pay settings).
    "apiclient_key",
}
# Text in the other language that is meant (each says why); removed before the language checks.
OTHER_LANGUAGE = [
    # Payment settings name a key as the provider's Chinese-only console does: "Merchant ID (商户号)".
    re.compile(r"[(（](支付宝公钥|应用私钥, RSA2|商户号)[)）]"),
    # The help of a bilingual setting shows an example in the language of its field.
    re.compile(r"For example: 每天 8:00–22:00（北京时间），邮件一天内回复。"),
    re.compile(r"例如：Every day 8:00-22:00 \(Beijing time\); e-mail answered within a day\."),
]
CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3000-\u303f]")
# words of a sentence are spaced; hyphen-joined ones are a name (a Debian package, fonts-wqy-microhei)
THREE_WORDS = re.compile(r"[A-Za-z][a-z]+(?:[ ,']+[A-Za-z][a-z]*){2,}")


def _catalog_messages() -> tuple[list[re.Pattern], list[re.Pattern]]:
    """(English messages of three words or more, their Chinese translations) of every catalog
    the site ships, as patterns matching a whole text with any value in place of a parameter."""
    english, chinese = {}, {}
    for mo in ROOT.glob("*/translations/zh_Hans_CN/LC_MESSAGES/messages.mo"):
        _collect(mo, english, chinese)
    for mo in ROOT.glob("plugins/*/translations/zh_Hans_CN/LC_MESSAGES/messages.mo"):
        _collect(mo, english, chinese)
    return list(english.values()), list(chinese.values())


PARAM = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")


def _pattern(message: str) -> re.Pattern:
    parts = PARAM.split(" ".join(message.split()))
    return re.compile(r"\s*" + r".+?".join(re.escape(p) for p in parts) + r"\s*", re.S)


def _listed(value) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _is_english_sentence(text: str) -> bool:
    return len([w for w in PARAM.sub("", text).split() if re.search(r"[A-Za-z]{2,}", w)]) >= 3


def _is_chinese_sentence(text: str) -> bool:
    # Four characters or more, or a sentence with values: a two-character word (仓库) is also an
    # address label in the demo data. Short words in the chrome are checked apart.
    bare = PARAM.sub("", text)
    return len(CJK.findall(bare)) >= 4 or (bare != text and bool(CJK.search(bare)))


def _collect(mo: Path, english: dict, chinese: dict) -> None:
    with mo.open("rb") as fh:
        catalog = read_mo(fh)
    for message in catalog:
        if not message.id or not message.string:
            continue
        for text in filter(_is_english_sentence, _listed(message.id)):
            english.setdefault(text, _pattern(text))
        for text in filter(_is_chinese_sentence, _listed(message.string)):
            chinese.setdefault(text, _pattern(text))


def _raw_problems(text: str) -> list[str]:
    found = [f"raw value {raw.pattern!r}: {text!r}" for raw in RAW_VALUES if raw.search(text)]
    for pattern in (SNAKE, DOTTED):
        found.extend(f"identifier {m.group(0)!r}: {text!r}" for m in pattern.finditer(text)
                     if m.group(0) not in ALLOWED and not HOST.search(m.group(0)))
    return found


# Per language of the page: what text in the other language looks like, how it is named, and
# which catalog side holds the site's own sentences in that other language.
OTHER = {"en": (CJK, "Chinese", 1), "zh_CN": (THREE_WORDS, "English", 0)}


def _language_problem(text: str, chrome: bool, locale: str, catalogs) -> str | None:
    looks, language, side = OTHER[locale]
    for meant in OTHER_LANGUAGE:
        text = meant.sub(" ", text).strip()
    if not looks.search(text):
        return None
    if chrome:
        return f"{language} in the page's chrome: {text!r}"
    if any(p.fullmatch(text) for p in catalogs[side]):
        return f"system sentence in {language}: {text!r}"
    return None


def problems_in(texts: list, locale: str, catalogs) -> list[str]:
    """What is wrong with the visible ``texts`` (``(text, chrome, value)``) of a page in ``locale``."""
    found = []
    for text, chrome, value in texts:
        found.extend(_raw_problems(text))
        problem = None if value else _language_problem(text, chrome, locale, catalogs)
        if problem:
            found.append(problem)
    return found


# Links not followed: sign-out, downloads and files, the API docs (the vendored Swagger UI draws
# it), pages of the user's own language switch, and anything off the site.
SKIP = re.compile(r"/logout|/language|\.(csv|pdf|png|jpe?g|svg|json|txt)$|/export|/download|/attachments/|/photos/"
                  r"|/api/v1/docs|/static/|/label$")
NUMBER = re.compile(r"\d+")


@pytest.fixture(scope="module")
def catalogs():
    english, chinese = _catalog_messages()
    assert len(english) > 200 and len(chinese) > 200, "the compiled catalogs were not found"
    return english, chinese


def switch_language(page, locale: str) -> None:
    """Press the language button in the top bar, as a reader does."""
    button = page.get_by_test_id("language-switch").locator(f"button[value='{locale}']")
    with page.expect_navigation():
        button.click()
    assert page.locator("html").get_attribute("lang") == locale.replace("_", "-")


class Crawl:
    """Opens pages on one browser page and keeps what was wrong on each."""

    def __init__(self, page, server, catalogs):
        self.page, self.server, self.catalogs = page, server, catalogs
        self.problems: list[str] = []
        self.visited: list[str] = []

    def visit(self, path: str, locale: str) -> None:
        response = self.page.goto(self.server.url(path))
        status = response.status if response is not None else 0
        self.visited.append(path)
        if status >= 400:
            self.problems.append(f"[{locale}] {path}: answered {status}")
            return
        texts = self.page.evaluate(VISIBLE_TEXT)
        self.problems.extend(f"[{locale}] {path}: {p}" for p in problems_in(texts, locale, self.catalogs))

    def links(self, selector: str) -> list[str]:
        hrefs = self.page.eval_on_selector_all(selector, "els => els.map(e => e.href)")
        here = urlparse(self.server.url("/")).netloc
        found = []
        for href in hrefs:
            url = urlparse(href)
            if url.netloc != here or url.query or SKIP.search(url.path) or url.path in found:
                continue
            found.append(url.path)
        return found


def staff_pages(crawl: Crawl, locale: str) -> None:
    """The navigation's pages and one record page of each kind linked from them."""
    crawl.page.goto(crawl.server.url("/dashboard"))
    menu = crawl.links("[data-testid=main-nav] a, [data-testid=admin-nav] a")
    assert len(menu) >= 15, menu
    shapes = set()
    for path in ["/dashboard", "/profile", "/search?q=SO", "/search?q=6901234", *menu]:
        crawl.visit(path, locale)
        for link in crawl.links("main a"):
            shape = NUMBER.sub("N", link)
            if shape in shapes or link in menu or not NUMBER.search(link):
                continue
            shapes.add(shape)
            crawl.visit(link, locale)
    for path in customer_subpages(crawl):  # reached from a customer's page, not from a list
        crawl.visit(path, locale)


def customer_subpages(crawl: Crawl) -> list[str]:
    """A company customer's sales terms and new-contact pages."""
    from plugins.orders.models_customers import CustomerContact

    with crawl.server.app.app_context():
        customer_id = db.session.scalar(select(CustomerContact.customer_id).order_by(CustomerContact.id).limit(1))
    return [f"/orders/customers/{customer_id}/sales", f"/orders/customers/{customer_id}/contacts/new"]


def survey_link(server) -> str:
    """An open survey's link, as the site writes it into the customer's e-mail."""
    from plugins.support import surveys
    from plugins.support.models import Survey

    with server.app.test_request_context():
        survey = next(s for s in db.session.scalars(select(Survey).order_by(Survey.id)) if surveys.is_open(s))
        return urlparse(surveys.url(survey)).path


def tracking_link(crawl: Crawl) -> str:
    """The customer's tracking link of a delivered order, copied from the order's page."""
    from plugins.orders.models import Order

    with crawl.server.app.app_context():
        order_id = db.session.scalar(select(Order.id).where(Order.status == "delivered").order_by(Order.id).limit(1))
    crawl.page.goto(crawl.server.url(f"/orders/{order_id}"))
    return urlparse(crawl.page.get_by_test_id("tracking-link").input_value()).path


def quotation_link(server) -> str:
    """A sent quotation's link, as the site writes it into the customer's e-mail."""
    from plugins.quotations import services as quotations
    from plugins.quotations.models import Quotation

    with server.app.test_request_context():
        quotation = db.session.scalar(select(Quotation).where(Quotation.status == "sent").order_by(Quotation.id))
        return f"/q/{quotation.id}/{quotations.token_of(quotation)}"


def public_pages(crawl: Crawl, locale: str, tracking: str, survey: str) -> None:
    """Home, contact, the tracking page and its return page, a survey: what a customer opens."""
    crawl.visit("/", locale)
    for path in ("/help/contact", "/help/track", tracking):
        crawl.visit(path, locale)
    returns = crawl.links("main a[href*='/return']")
    assert returns, "the tracking page of a delivered order offers no return"
    for path in returns[:1] + [survey]:
        crawl.visit(path, locale)


def test_every_page_speaks_the_readers_language(browser, demo_server, catalogs):
    started = time.monotonic()
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    crawl = Crawl(page, demo_server, catalogs)
    try:
        sign_in(page, demo_server)
        tracking, survey, quotation = tracking_link(crawl), survey_link(demo_server), quotation_link(demo_server)
        for locale in ("zh_CN", "en"):
            switch_language(page, locale)
            staff_pages(crawl, locale)
        context.clear_cookies()
        for locale in ("zh_CN", "en"):
            page.goto(demo_server.url("/"))
            switch_language(page, locale)
            public_pages(crawl, locale, tracking, survey)
            crawl.visit(quotation, locale)
    finally:
        context.close()
    print(f"{len(crawl.visited)} pages in {time.monotonic() - started:.1f} s")
    assert not crawl.problems, "\n".join(sorted(set(crawl.problems)))


PAGE_WIDTH = "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
WIDE_TABLES = """() => [...document.querySelectorAll('.table-responsive')].filter(b => b.scrollWidth > b.clientWidth + 1)
  .map(b => ({classes: b.className, mask: getComputedStyle(b).webkitMaskImage || getComputedStyle(b).maskImage}))"""
SCROLL_TO_END = """() => { const boxes = [...document.querySelectorAll('.table-responsive')].filter(b => b.scrollWidth > b.clientWidth + 1);
  boxes.forEach(b => { b.scrollLeft = b.scrollWidth; }); return boxes.length; }"""
FITS = """e => { const shown = e.getBoundingClientRect().width; const old = e.style.width; e.style.width = 'max-content';
  const needed = e.getBoundingClientRect().width; e.style.width = old; return shown + 0.5 >= needed; }"""


def _check_on_a_phone(page, server, path: str, locale: str, wide: list) -> list[str]:
    """Open ``path``: the page must not be wider than the screen; a wider table shows the hint on
    its right, and once scrolled to its end on its left only."""
    page.goto(server.url(path))
    width, screen = page.evaluate(PAGE_WIDTH)
    for box in page.evaluate(WIDE_TABLES):
        wide.append(path)
        assert "erp-more-right" in box["classes"] and box["mask"] not in ("", "none"), (path, box)
    if page.evaluate(SCROLL_TO_END):
        from playwright.sync_api import expect

        # a locator, not wait_for_function: polling a string predicate is eval, which the CSP refuses
        expect(page.locator(".table-responsive.erp-more-right")).to_have_count(0)
        assert page.locator(".table-responsive.erp-more-left").count() >= 1, path
    return [f"[{locale}] {path}: the page is {width}px wide on a {screen}px screen"] if width > screen else []


def test_lists_fit_a_phone_and_wide_tables_scroll_inside_their_box_with_a_hint(browser, demo_server, shot):
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    crawl = Crawl(page, demo_server, None)
    wide, overflowing = [], []
    try:
        sign_in(page, demo_server)
        menu = crawl.links("[data-testid=main-nav] a, [data-testid=admin-nav] a")
        assert len(menu) >= 15, menu
        for locale in ("zh_CN", "en"):
            switch_language(page, locale)
            for path in menu:
                overflowing.extend(_check_on_a_phone(page, demo_server, path, locale, wide))
        page.goto(demo_server.url("/logistics/"))
        shot(page, "crawl_phone_list_en")
    finally:
        context.close()
    assert not overflowing, "\n".join(overflowing)
    assert wide, "no list was wider than a phone: the hint was not tried"


def test_the_currency_select_shows_its_whole_label(browser, demo_server):
    for width in (600, 800, 1366):
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-US")
        page = context.new_page()
        try:
            sign_in(page, demo_server)
            for locale in ("en", "zh_CN"):
                switch_language(page, locale)
                for path in ("/orders/new", "/orders/products/new"):
                    page.goto(demo_server.url(path))
                    select = page.locator("select[name=currency]")
                    assert select.evaluate(FITS), f"{path} at {width}px in {locale}: the currency labels are cut off"
        finally:
            context.close()


PLANTED = [  # (text, locale, chrome, value): each one is wrong
    ("补发的数量不能多于原发货单。", "en", False, False),  # a system sentence in the other language
    ("已为发货单 SH-2026-000001 重新向承运商申请。", "en", False, False),  # ... with a value in it
    ("A re-ship cannot carry more than the original shipment.", "zh_CN", False, False),
    ("Asked the carrier again for shipment SH-2026-000001.", "zh_CN", False, False),
    ("订单", "en", True, False),  # chrome in the other language, however short
    ("Record a payment", "zh_CN", True, False),
    ("商户号 x", "en", True, False),
    # Programming values and identifiers, in any language, in a text box too.
    *[(text, locale, False, value) for text in ("tracking_number: None", "lines: {'FLT-SS-01': 10}", "\\u00a5 12",
                                                "[object Object]", "method: bank_transfer_x", "core.webhooks.retry")
      for locale, value in (("en", False), ("zh_CN", True))],
]
FINE = [  # user data and meant text: a Chinese company name and address label, a host name, an
    # English sentence a customer typed, a documented exception in a label
    ("上海青叶贸易有限公司", "en", False), ("仓库", "en", False), ("例如 smtp.qq.com", "zh_CN", False),
    ("Please leave it at the door", "zh_CN", False), ("Merchant ID (商户号)", "en", True),
]


@pytest.mark.parametrize(("text", "locale", "chrome", "value"), PLANTED)
def test_the_language_check_finds_a_planted_sentence(catalogs, text, locale, chrome, value):
    """The checks are not vacuous: each finds what it is for."""
    assert problems_in([(text, chrome, value)], locale, catalogs)


@pytest.mark.parametrize(("text", "locale", "chrome"), FINE)
def test_the_language_check_leaves_user_data_alone(catalogs, text, locale, chrome):
    assert problems_in([(text, chrome, False)], locale, catalogs) == []
