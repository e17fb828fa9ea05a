"""Both languages are complete: the Chinese catalogue translates every string, and Chinese pages
show no English interface text."""

import re
from pathlib import Path

from babel.messages.pofile import read_po

from tests.conftest import csrf_token

CATALOGUE = Path(__file__).resolve().parent.parent / "marketplace" / "translations" / "zh_Hans" / "LC_MESSAGES" / "messages.po"
PUBLIC_PAGES = ["/", "/menu/", "/login", "/signup"]
STAFF_PAGES = ["/account", "/staff/", "/menu/manage", "/places/", "/account/household", "/account/volunteer"]


def test_chinese_catalogue_translates_every_string():
    with CATALOGUE.open("rb") as fh:
        catalogue = read_po(fh)
    missing = [m.id for m in catalogue if m.id and (not m.string or m.fuzzy)]
    assert missing == []


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _english_words(client, path) -> set[str]:
    """Latin words of three letters or more in a page's visible text ("English" is the language switch)."""
    return set(re.findall(r"[A-Za-z]{3,}", _visible_text(client.get(path).get_data(as_text=True)))) - {"English"}


def test_chinese_pages_have_no_english_interface_text(client, auth):
    client.post("/language", data={"lang": "zh_Hans", "csrf_token": csrf_token(client, "/")})
    found = {path: _english_words(client, path) for path in PUBLIC_PAGES}
    auth.login_as("community_admin")
    # /partners/ is left out: a partner's own description is bilingual data, not interface text.
    found.update({path: _english_words(client, path) for path in STAFF_PAGES})
    assert {path: words for path, words in found.items() if words} == {}


# Pages a person reads records on: the audit log, points statements, the working-day calendar.
RECORD_PAGES = ["/staff/audit", "/points/", "/staff/calendar"]
# Every CSV download's column names (the rows hold data such as names, which may be anything).
CSV_PATHS = ["/staff/audit.csv", "/staff/calendar/2026.csv", "/staff/exports/requests-all.csv",
             "/staff/exports/people.csv", "/staff/dashboard/summary.csv", "/staff/dashboard/months.csv"]


def _record_something(app):
    """An audit entry with details, a refund and an adjustment, so the pages have rows to show."""
    from datetime import timedelta

    from marketplace import audit
    from marketplace.ledger import services as ledger
    from marketplace.shop import services as shop
    from marketplace.shop.models import Offer, Voucher
    from marketplace.timeutil import utcnow
    from tests.conftest import in_app, person

    def record():
        admin, resident = person("community_admin"), person("resident")
        audit.record(admin, "ledger.adjustment.posted", None, account=ledger.user_account(resident).code,
                     direction="credit", amount=5, reason="补发")
        audit.record(admin, "events.attendance.checked_in_by_hand", None, reason="忘带手机", at=utcnow())
        voucher = shop.redeem(admin, Offer.get(Offer.title.startswith("环保购物袋")).id, "language-test")
        Voucher.update(expires_at=utcnow() - timedelta(minutes=1)).where(Voucher.id == voucher.id).execute()
        shop.expire_if_due(Voucher.get_by_id(voucher.id))

    in_app(app, record)


def test_chinese_records_and_csv_headers_have_no_english(app, client, auth):
    from marketplace.ledger import services as ledger
    from tests.conftest import in_app, person

    in_app(app, lambda: ledger.award(None, person("community_admin"), 50, "earn_event", "test", "language-test-award"))
    _record_something(app)
    client.post("/language", data={"lang": "zh_Hans", "csrf_token": csrf_token(client, "/")})
    auth.login_as("community_admin")
    # "CSV" is the name of the file type, the same in Chinese.
    found = {path: _english_words(client, path) - {"CSV"} for path in RECORD_PAGES}
    for path in CSV_PATHS:
        response = client.get(path)
        assert response.status_code == 200, path
        header = response.get_data(as_text=True).lstrip("\ufeff").splitlines()[0]
        found[path] = set(re.findall(r"[A-Za-z]{3,}", header)) - {"CSV"}
    assert {path: words for path, words in found.items() if words} == {}


def test_language_choice_sticks(client):
    client.post("/language", data={"lang": "en", "csrf_token": csrf_token(client, "/")})
    page = client.get("/menu/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Service menu" in page and 'lang="en"' in page
    client.post("/language", data={"lang": "zh_Hans", "csrf_token": csrf_token(client, "/")})
    page = client.get("/menu/").get_data(as_text=True)
    assert 'lang="zh-Hans"' in page and "Service menu" not in page
