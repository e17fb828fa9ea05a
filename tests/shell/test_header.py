"""The layout's header, kept rendered per language and roles (marketplace/shell/header.py, issue 20):
built once, yet every visitor still gets their own CSRF token, unread count and way back, and a
role granted or taken away shows on the next page."""

import re
from contextlib import contextmanager

from flask import template_rendered

from marketplace.notifications import services as notifications
from marketplace.users.models import RoleGrant
from marketplace.users.roles import grant_role
from tests.conftest import Auth, in_app, person

LANGUAGE_FORM = re.compile(r'<form method="post" action="/language".*?</form>', re.S)


def language_form(page: str) -> tuple[str, str]:
    """(the CSRF token, the page to come back to) of the header's language switch."""
    form = LANGUAGE_FORM.search(page).group(0)
    return (re.search(r'name="csrf_token" value="([^"]+)"', form).group(1),
            re.search(r'name="next" value="([^"]*)"', form).group(1))


@contextmanager
def header_renders(app):
    """The names of the layout's fragments rendered inside the block."""
    seen = []

    def record(sender, template, context, **extra):
        if template.name.startswith("shell/_"):
            seen.append(template.name)

    with template_rendered.connected_to(record, app):
        yield seen


def test_the_header_is_built_once_and_each_visitor_gets_their_own_token(app):
    first, second = app.test_client(), app.test_client()
    Auth(first).login_as("volunteer")
    Auth(second).login_as("volunteer")
    with header_renders(app) as rendered:
        pages = [client.get("/events/", headers={"Accept-Language": "en"}).get_data(as_text=True)
                 for client in (first, second, first)]
    assert rendered.count("shell/_header.html") == 1  # the second and third page reused it
    tokens = [language_form(page)[0] for page in pages]
    secrets = [token.split(".")[0] for token in tokens]  # the session's secret; the rest is a signed time
    assert secrets[0] != secrets[1] and secrets[0] == secrets[2]
    assert secrets[0] not in pages[1] and secrets[1] not in pages[0]
    assert "\x00" not in pages[0] + pages[1]  # every placeholder was filled
    # Each token is the visitor's own: it switches their language, and only theirs.
    answer = first.post("/language", data={"lang": "zh_Hans", "next": "/events/", "csrf_token": tokens[0]})
    assert answer.status_code == 302
    assert "<h1>活动</h1>" in first.get("/events/").get_data(as_text=True)
    refused = second.post("/language", data={"lang": "zh_Hans", "next": "/events/", "csrf_token": tokens[0]})
    assert refused.status_code == 400


def test_the_header_speaks_the_pages_language(app, client, auth):
    auth.login_as("volunteer")
    english = client.get("/events/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Job board" in english and "Log out" in english
    auth.post("/language", {"lang": "zh_Hans", "next": "/events/"}, token_from="/events/")
    chinese = client.get("/events/").get_data(as_text=True)
    assert "Job board" not in chinese and "退出" in chinese


def test_a_role_granted_or_taken_away_shows_in_the_navigation_on_the_next_page(app, client, auth):
    auth.login_as("volunteer")
    assert 'href="/menu/manage"' not in client.get("/events/").get_data(as_text=True)
    volunteer = in_app(app, lambda: person("volunteer"))
    community = in_app(app, lambda: person("community_admin").grants.where(RoleGrant.role == "community_admin")
                       .get().community)
    grant = in_app(app, lambda: grant_role(None, volunteer, "community_admin", community))
    assert 'href="/menu/manage"' in client.get("/events/").get_data(as_text=True)
    in_app(app, lambda: RoleGrant.delete_by_id(grant.id))
    assert 'href="/menu/manage"' not in client.get("/events/").get_data(as_text=True)


def test_each_person_sees_their_own_unread_count(app):
    volunteer, resident = app.test_client(), app.test_client()
    Auth(volunteer).login_as("volunteer")
    Auth(resident).login_as("resident")
    badge = re.compile(r'Messages <span class="count" aria-label="(\d+) new">(\d+)</span>')
    before = badge.search(volunteer.get("/events/", headers={"Accept-Language": "en"}).get_data(as_text=True))
    had = int(before.group(2)) if before else 0
    in_app(app, lambda: notifications.notify(person("volunteer"), "job", "A job near you"))
    shown = badge.search(volunteer.get("/events/", headers={"Accept-Language": "en"}).get_data(as_text=True))
    assert shown and shown.group(1) == shown.group(2) == str(had + 1)
    theirs = badge.search(resident.get("/events/", headers={"Accept-Language": "en"}).get_data(as_text=True))
    resident_count = in_app(app, lambda: notifications.unread_count(person("resident")))
    assert (int(theirs.group(2)) if theirs else 0) == resident_count


def test_the_language_switch_comes_back_to_the_page_it_was_on_escaped(client, auth):
    auth.login_as("volunteer")
    page = client.get('/events/?q="><script>alert(1)</script>').get_data(as_text=True)
    _token, back = language_form(page)
    assert back == "/events/?q=&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"  # the path, escaped
    assert "<script>alert(1)" not in page
