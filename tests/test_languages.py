"""Both languages are complete: the Chinese catalogue translates every string, and Chinese pages
show no English interface text."""

import re
from pathlib import Path

from babel.messages.pofile import read_po

from .conftest import csrf_token

CATALOGUE = Path(__file__).resolve().parent.parent / "marketplace" / "translations" / "zh_Hans" / "LC_MESSAGES" / "messages.po"
PUBLIC_PAGES = ["/", "/menu/", "/login", "/signup"]


def test_chinese_catalogue_translates_every_string():
    with CATALOGUE.open("rb") as fh:
        catalogue = read_po(fh)
    missing = [m.id for m in catalogue if m.id and (not m.string or m.fuzzy)]
    assert missing == []


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_chinese_pages_have_no_english_interface_text(client, auth):
    pages = list(PUBLIC_PAGES)
    client.post("/language", data={"lang": "zh_Hans", "csrf_token": csrf_token(client, "/")})
    for path in pages:
        text = _visible_text(client.get(path).get_data(as_text=True))
        words = set(re.findall(r"[A-Za-z]{3,}", text)) - {"English"}
        assert words == set(), f"{path}: {sorted(words)}"
    auth.login_as("community_admin")
    for path in ["/account", "/staff/", "/menu/manage", "/places/", "/account/household", "/account/volunteer"]:
        text = _visible_text(client.get(path).get_data(as_text=True))
        words = set(re.findall(r"[A-Za-z]{3,}", text)) - {"English"}
        assert words == set(), f"{path}: {sorted(words)}"


def test_language_choice_sticks(client):
    client.post("/language", data={"lang": "en", "csrf_token": csrf_token(client, "/")})
    page = client.get("/menu/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Service menu" in page and 'lang="en"' in page
    client.post("/language", data={"lang": "zh_Hans", "csrf_token": csrf_token(client, "/")})
    page = client.get("/menu/").get_data(as_text=True)
    assert 'lang="zh-Hans"' in page and "Service menu" not in page
