"""Care pairs (issue 16, item 7), in a real browser at phone size, in Chinese: 孙楼长 puts 张阿姨 on
the key-group register and pairs 王小明 with her for weekly visits from today; 王小明 sees the visit
on his care page, 张阿姨 sees who visits her and today's code, and 王小明 confirms the visit with it.
Screenshots: test-artifacts/screenshots/."""

from tests.browser.test_accessibility import BLOCKING, axe_violations
from tests.browser.test_journeys import log_in


def assert_accessible(page):
    """axe-core on the page as filled in (the sweep sees these pages empty)."""
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
    assert not blocking, blocking


def test_a_building_head_pairs_a_volunteer_who_then_confirms_the_visit(app, phone_page, screenshot):
    lang = "zh"
    head = phone_page(lang)
    log_in(head, "building_head")
    head.goto("/care/register")
    assert "每次查看本页都会记入审计日志" in head.content()
    head.select_option("form[action$='/care/register'] select[name=resident]", label="张阿姨")
    head.select_option("form[action$='/care/register'] select[name=group]", label="独居老人")
    head.fill("form[action$='/care/register'] input[name=note]", "住六楼，没有电梯")
    screenshot(head, lang, "1-register")
    with head.expect_navigation():
        head.locator("form[action$='/care/register'] button[type=submit]").click()
    assert "张阿姨已登记在台账上" in head.content()

    today = head.evaluate("() => new Intl.DateTimeFormat('en-CA', {timeZone: 'Asia/Shanghai'}).format(new Date())")
    head.select_option("form[action$='/care/pairs'] select[name=member]", label="张阿姨 · 独居老人")
    head.select_option("form[action$='/care/pairs'] select[name=volunteer]", label="王小明")
    head.select_option("form[action$='/care/pairs'] select[name=frequency]", label="每周一次")
    head.fill("form[action$='/care/pairs'] input[name=starts_on]", today)
    screenshot(head, lang, "2-pair-form")
    with head.expect_navigation():
        head.locator("form[action$='/care/pairs'] button[type=submit]").click()
    assert "王小明已与张阿姨结对" in head.content()
    screenshot(head, lang, "3-paired")
    assert_accessible(head)

    resident = phone_page(lang)
    log_in(resident, "resident")
    resident.goto("/care/mine")
    assert "谁来探访您" in resident.content() and "王小明" in resident.content()
    code = resident.locator(".onsite-code strong.code").inner_text().strip()
    assert len(code) == 6 and code.isdigit()
    screenshot(resident, lang, "4-resident-sees-her-visitor")
    assert_accessible(resident)

    volunteer = phone_page(lang)
    log_in(volunteer, "volunteer")
    volunteer.goto("/care/mine")
    page = volunteer.content()
    assert "我探访的居民" in page and "张阿姨" in page and "住六楼" not in page  # the register's note stays there
    screenshot(volunteer, lang, "5-volunteer-sees-the-visit")
    assert_accessible(volunteer)
    volunteer.fill("input[name=code]", code)
    with volunteer.expect_navigation():
        volunteer.get_by_role("button", name="确认探访").click()
    assert "探访已确认" in volunteer.content()
    screenshot(volunteer, lang, "6-visit-confirmed")
