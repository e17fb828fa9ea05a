"""The public pages on a phone, in Chinese and in English, as an elderly resident would meet them.

Each test saves screenshots (test-artifacts/screenshots/) for a person to look at as well.
"""

import pytest

from tests.users.test_recovery import _codes_sent

LANGS = ["zh", "en"]

# What a reader of each language sees.
TEXT = {
    "zh": {
        "html_lang": "zh-Hans",
        "menu_title": "服务菜单",
        "service": "服务",
        "signup_title": "注册",
        "bad_phone": "请输入 11 位大陆手机号",
        "name": "张小红",
        "ready": "您的账号已开通",
        "sent": "我们已向该号码发送短信",
    },
    "en": {
        "html_lang": "en",
        "menu_title": "Service menu",
        "service": "Service",
        "signup_title": "Sign up",
        "bad_phone": "Please enter an 11-digit mainland mobile number",
        "name": "Mary Zhang",
        "ready": "Your account is ready",
        "sent": "We have sent a text message to this number",
    },
}

MIN_TOUCH_TARGET = 44  # CSS pixels: Apple's and WCAG 2.5.5's minimum
MIN_BODY_FONT = 16  # CSS pixels


def open_page(page, path):
    response = page.goto(path, wait_until="load")
    return response


def no_horizontal_scroll(page):
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"the page scrolls sideways: {width}px wide in a {inner}px screen"


def assert_language(page, lang):
    assert page.locator("html").get_attribute("lang") == TEXT[lang]["html_lang"]
    assert TEXT[lang]["service"] in page.locator("header").inner_text()


# Every shown element with text of its own, and its font size.
TEXT_SIZES = """() => [...document.querySelectorAll('body *')]
    .filter(el => el.getClientRects().length
        && [...el.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim()))
    .map(el => [el.tagName.toLowerCase() + ': ' + el.textContent.trim().slice(0, 30),
                parseFloat(getComputedStyle(el).fontSize)])"""


def assert_readable(page):
    size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= MIN_BODY_FONT, f"body text is {size}px"
    small = [(text, px) for text, px in page.evaluate(TEXT_SIZES) if px < MIN_BODY_FONT]
    assert not small, f"text smaller than {MIN_BODY_FONT}px: {small}"


def assert_big_enough(locator, what):
    count = locator.count()
    assert count, f"no {what} on the page"
    for index in range(count):
        box = locator.nth(index).bounding_box()
        assert box is not None, f"{what} #{index} is not shown"
        assert box["height"] >= MIN_TOUCH_TARGET, f"{what} #{index} is {box['height']:.0f}px tall"


def language_buttons(page):
    return page.locator("button[name=lang]")


def header_controls(page):
    """Everything one taps in the header as it opens: home, the most used links, the menu button,
    languages, large text (the rest of the navigation waits behind the menu button on a phone)."""
    return page.locator("header a:visible, header button:visible")


def assert_large_text_works(page, lang, screenshot, step):
    """The large-text switch makes the root font bigger, and the page still fits the screen."""
    root_size = "parseFloat(getComputedStyle(document.documentElement).fontSize)"
    before = page.evaluate(root_size)
    toggle = page.locator("#large-text-toggle")
    assert toggle.get_attribute("aria-pressed") == "false"
    assert_big_enough(toggle, "large-text switch")
    toggle.tap()
    after = page.evaluate(root_size)
    assert after > before, f"large text: root font {before}px -> {after}px"
    assert toggle.get_attribute("aria-pressed") == "true"
    no_horizontal_scroll(page)
    # Remembered on this phone: the page opens large again after a reload.
    page.reload()
    assert page.evaluate(root_size) == after
    assert toggle.get_attribute("aria-pressed") == "true"
    no_horizontal_scroll(page)
    screenshot(page, lang, step)


@pytest.mark.parametrize("lang", LANGS)
def test_menu_page(phone_page, screenshot, lang):
    page = phone_page(lang)
    response = open_page(page, "/menu/")
    assert response.status == 200
    assert_language(page, lang)
    assert page.locator("h1").inner_text() == TEXT[lang]["menu_title"]
    # The whole menu is there: 12 categories, 28 items.
    assert page.locator("section.category").count() == 12
    assert page.locator("li.card").count() == 28
    no_horizontal_scroll(page)
    assert_readable(page)
    assert_big_enough(language_buttons(page), "language button")
    assert_big_enough(header_controls(page), "header link or button")
    screenshot(page, lang, "1-top", full_page=False)
    screenshot(page, lang, "2-full")
    assert_large_text_works(page, lang, screenshot, "3-large-text")


@pytest.mark.parametrize("lang", LANGS)
def test_signup_page(phone_page, screenshot, lang):
    page = phone_page(lang)
    response = open_page(page, "/signup")
    assert response.status == 200
    assert_language(page, lang)
    assert page.locator("h1").inner_text() == TEXT[lang]["signup_title"]
    no_horizontal_scroll(page)
    assert_readable(page)
    assert_big_enough(page.locator("main form button[type=submit]"), "sign-up button")
    assert_big_enough(language_buttons(page), "language button")
    assert_big_enough(page.locator("main form input:not([type=hidden])"), "form field")
    screenshot(page, lang, "1-form")
    assert_large_text_works(page, lang, screenshot, "2-large-text")


@pytest.mark.parametrize("lang", LANGS)
def test_signup_with_malformed_phone(phone_page, screenshot, caplog, lang):
    caplog.set_level("INFO", logger="marketplace.messages")
    page = phone_page(lang)
    open_page(page, "/signup")
    page.locator("input[name=phone]").fill("138-1234")
    with page.expect_navigation() as navigation:
        page.locator("main form button[type=submit]").tap()
    assert navigation.value.status == 422

    # The message says what is wrong, next to the phone field, in the reader's language.
    error = page.locator(".field.has-error").filter(has=page.locator("input[name=phone]")).get_by_role("alert")
    assert error.is_visible()
    assert TEXT[lang]["bad_phone"] in error.inner_text()
    assert_language(page, lang)
    no_horizontal_scroll(page)
    assert_big_enough(page.locator("main form button[type=submit]"), "sign-up button")
    assert page.locator("main form button[type=submit]").is_enabled()
    screenshot(page, lang, "1-error")

    # Corrected, the number gets a code by text message (the page says the same whether or not it
    # was registered, issue 19); the code, a name and a password open the account, signed in.
    page.locator("input[name=phone]").fill("139 1234 5678")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").tap()
    assert page.url.endswith("/signup/confirm")
    assert TEXT[lang]["sent"] in page.locator(".flash").first.inner_text()
    assert page.locator("input[name=phone]").input_value() == "139 1234 5678"
    page.locator("input[name=code]").fill(_codes_sent(caplog)[-1])
    page.locator("input[name=display_name]").fill(TEXT[lang]["name"])
    page.locator("input[name=password]").fill("my cat sleeps on the roof")
    no_horizontal_scroll(page)
    assert_big_enough(page.locator("main form input:not([type=hidden])"), "form field")
    screenshot(page, lang, "2-code")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").tap()
    assert page.url.endswith("/account/household")
    assert TEXT[lang]["ready"] in page.locator(".flash.success").inner_text()
    no_horizontal_scroll(page)
    screenshot(page, lang, "3-signed-up")
