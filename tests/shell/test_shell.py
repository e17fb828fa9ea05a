"""The site's shell (issue 21): a favicon, a web app manifest in the reader's language, the
service worker and its offline page, the skip link, fields that say they are invalid, and the
phone header's three most used links per role."""

import re

import pytest

from tests.conftest import DEMO_PHONES, csrf_token


def test_the_favicon_answers_so_browsers_stop_logging_a_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    page = client.get("/").get_data(as_text=True)
    assert 'rel="icon"' in page and 'rel="manifest" href="/manifest.webmanifest"' in page


@pytest.mark.parametrize(("lang", "name"), [("zh-CN", "社区服务"), ("en", "Community services")])
def test_the_manifest_names_the_site_in_the_readers_language(client, lang, name):
    response = client.get("/manifest.webmanifest", headers={"Accept-Language": lang})
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["short_name"] == name and name in manifest["name"]
    assert manifest["lang"] == ("zh-Hans" if lang == "zh-CN" else "en")
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:  # each icon is there, a PNG
        image = client.get(icon["src"])
        assert image.status_code == 200 and image.data[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_service_worker_is_served_from_the_root_and_the_offline_page_in_both_languages(client):
    worker = client.get("/sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Cache-Control"] == "no-cache"
    assert "/offline" in worker.get_data(as_text=True)
    assert "没有网络" in client.get("/offline", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "No connection" in client.get("/offline", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_every_page_starts_with_a_skip_link_to_the_content(client):
    page = client.get("/menu/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    body = page[page.index("<body>"):]
    assert re.search(r'<body>\s*<a class="skip-link" href="#content">Skip to the content</a>', body)
    assert '<main id="content" tabindex="-1">' in page


def test_a_field_with_an_error_says_so_to_screen_readers(client):
    response = client.post("/login", data={"phone": "", "password": "", "csrf_token": csrf_token(client)},
                           headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    phone = re.search(r'<input[^>]*id="phone"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in phone
    assert 'aria-describedby="phone-error1"' in phone
    assert 'id="phone-error1"' in page
    fresh = client.get("/login").get_data(as_text=True)
    assert "aria-invalid" not in fresh


QUICK = {
    "resident": ["/requests/", "/menu/", "/points/"],
    "volunteer": ["/jobs/", "/events/", "/points/"],
    "partner_staff": ["/jobs/", "/shop/scan", "/points/"],
    "grid_admin": ["/staff/", "/requests/overview", "/staff/people"],
}


def quick_links(page: str) -> list[str]:
    nav = re.search(r'<nav class="quick-nav"[^>]*>(.*?)</nav>', page, re.S).group(1)
    return re.findall(r'href="([^"]+)"', nav)


def test_anonymous_visitors_get_the_menu_events_and_log_in_in_view(client):
    assert quick_links(client.get("/").get_data(as_text=True)) == ["/menu/", "/events/", "/login"]


@pytest.mark.parametrize("role", sorted(QUICK))
def test_each_role_keeps_its_three_most_used_pages_in_view_and_the_rest_behind_the_menu(client, auth, role):
    auth.login_as(role)
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert quick_links(page) == QUICK[role]
    assert '<button type="button" class="menu-button" aria-expanded="false" aria-controls="site-menu">Menu</button>' in page
    assert DEMO_PHONES[role] not in page
