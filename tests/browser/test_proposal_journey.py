"""A matter the residents decide together (issue 23), in a real browser at phone size, in
Chinese: a resident proposes a shelter for electric bikes, the grid meets, the households vote,
the partner builds it, the residents rate it, and the public page shows it without names.
Screenshots: test-artifacts/screenshots/."""

import re
from datetime import datetime, timedelta

from marketplace.proposals import votes
from marketplace.proposals.models import Proposal
from marketplace.users.models import User
from tests.browser.test_journeys import log_in
from tests.conftest import in_app
from tests.proposals.helpers import verify_all

TITLE = "1号楼北侧建电动车车棚"


def _post(page, form, fields=None):
    for selector, value in (fields or {}).items():
        page.fill(f"{form} {selector}", value)
    with page.expect_navigation():  # each click posts a form; read the page the answer brings
        page.locator(f"{form} button[type=submit]").click()


def test_a_shelter_for_electric_bikes_from_proposal_to_rating(app, phone_page, screenshot):
    lang = "zh"
    resident, head, admin, partner = phone_page(lang), phone_page(lang), phone_page(lang), phone_page(lang)
    # 民提
    log_in(resident, "resident")
    resident.goto("/proposals/new")
    resident.fill("#title", TITLE)
    resident.fill("#body", "楼下没有电动车车棚，大家只能飞线充电，很危险。建议在北侧空地建一个带充电口的车棚。")
    screenshot(resident, lang, "1-resident-proposes")
    _post(resident, "main form")
    path = re.sub(r"^https?://[^/]+", "", resident.url)
    assert "已提议" in resident.locator("main").inner_text()

    log_in(head, "building_head")
    head.goto(path)
    _post(head, "form[action$='/decide/accept']")
    assert "协商中" in head.locator(".status-line").inner_text()
    screenshot(head, lang, "2-building-head-accepts")

    # 网格议: the meeting (an event) and its minutes
    log_in(admin, "community_admin")
    admin.goto(path)
    tomorrow = (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%d")
    _post(admin, "form[action$='/meeting']", {"input[name=starts_at]": f"{tomorrow}T19:00",
                                               "input[name=ends_at]": f"{tomorrow}T20:30",
                                               "input[name=place]": "1号楼一层活动室"})
    assert "报名和签到" in admin.locator("#meeting").inner_text()
    head.goto(path)
    _post(head, "form[action$='/minutes']", {"textarea[name=minutes]": "到会5户。讨论车棚位置和充电安全，同意付诸表决。"})
    _post(head, "form[action$='/vote/open']", {"input[name=motion]": "同意在1号楼北侧建电动车车棚"})
    screenshot(head, lang, "3-grid-met-vote-open")

    # 议定: the resident votes online, four neighbours on their phones, one in person via staff
    neighbours = in_app(app, lambda: [u.id for u in verify_all("bj_b1")][1:])
    resident.goto(path)
    resident.locator("form[action$='/vote'] label.choice").first.click()  # 赞成
    _post(resident, "form[action$='/vote']")
    assert "您家已表决" in resident.locator("#vote").inner_text()
    screenshot(resident, lang, "4-resident-voted")

    def neighbours_vote():
        proposal = Proposal.get(Proposal.title == TITLE)
        for user_id in neighbours[:-1]:
            votes.cast_vote(User.get_by_id(user_id), proposal.id, "yes")
        return proposal

    in_app(app, neighbours_vote)
    head.goto(path)
    head.select_option("form[action$='/vote/in-person'] select[name=household]", index=5)
    head.locator("form[action$='/vote/in-person'] label.choice").nth(1).click()  # 反对
    _post(head, "form[action$='/vote/in-person']")
    _post(head, "form[action$='/vote/close']")
    vote = head.locator("#vote").inner_text()
    assert "结果：通过" in vote and "为最终结果" in vote
    screenshot(head, lang, "5-vote-counted")

    # 联动: the partner builds it on a clock; the money is published
    _post(head, "form[action$='/action']", {"input[name=budget]": "12000"})
    head.locator("#action details summary").click()
    head.fill("form[action$='/tasks'] input[name=task_title]", "搭建车棚并安装充电口")
    head.select_option("form[action$='/tasks'] select[name=party_kind]", value="partner")
    head.select_option("form[action$='/tasks'] select[name=partner]", label="北苑五金维修店")
    _post(head, "form[action$='/tasks']")
    log_in(partner, "partner_staff")
    partner.goto(path)
    _post(partner, "form[action$='/updates']", {"textarea[name=text]": "钢架已搭好，下周安装充电口。"})
    partner.fill("form[action*='/tasks/'] input[type=text]", "车棚建成，安装10个充电口。")
    _post(partner, "form[action*='/tasks/']")
    assert "按时" in partner.locator("#action").inner_text()
    screenshot(partner, lang, "6-partner-built-it")
    admin.goto(path)
    admin.locator("#money details summary").click()
    _post(admin, "form[action$='/spending']", {"input[name=spent_on]": datetime.now().strftime("%Y-%m-%d"),
                                                "input[name=purpose]": "电动车车棚材料和施工",
                                                "input[name=amount]": "11800.50"})
    _post(admin, "form[action$='/finish']")

    # 民评
    resident.goto(path)
    resident.locator("form[action$='/evaluate'] label.choice").first.click()  # five stars
    resident.fill("form[action$='/evaluate'] textarea[name=comment]", "再也不用飞线充电了")
    _post(resident, "form[action$='/evaluate']")
    assert "您家的评价" in resident.locator("#evaluation").inner_text()
    screenshot(resident, lang, "7-resident-rated")

    # the public page: figures, the work, the money, the rating; no names
    resident.goto(path.replace("/proposals/", "/board/proposals/"))
    public = resident.locator("main").inner_text()
    for shown in ("结果：通过", "11,800.50", "按时", "再也不用飞线充电了"):
        assert shown in public, shown
    for hidden in ("张阿姨", "孙楼长", "钱师傅", "1-101"):
        assert hidden not in public, hidden
    screenshot(resident, lang, "8-public-page")
