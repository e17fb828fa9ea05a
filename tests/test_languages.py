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


def test_language_choice_sticks(client):
    client.post("/language", data={"lang": "en", "csrf_token": csrf_token(client, "/")})
    page = client.get("/menu/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Service menu" in page and 'lang="en"' in page
    client.post("/language", data={"lang": "zh_Hans", "csrf_token": csrf_token(client, "/")})
    page = client.get("/menu/").get_data(as_text=True)
    assert 'lang="zh-Hans"' in page and "Service menu" not in page
