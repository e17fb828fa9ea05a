"""The page cache for anonymous visitors (marketplace/cache.py): the menu, the events list and
the public board are built once a minute per language; signed-in people always get a fresh page;
no visitor ever gets another's CSRF token, cookie or message."""

import logging
import re
import time
import uuid
from types import SimpleNamespace

import pytest
from flask import flash, redirect

from marketplace import cache
from marketplace.access import PUBLIC
from marketplace.db import db
from marketplace.menu.models import ServiceItem
from tests.conftest import CSRF_PATTERN

CACHED_PAGES = ["/menu/", "/events/", "/board"]
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def cached(app):
    app.config.update(PAGE_CACHE_IN_TESTS=True, PAGE_CACHE_SECONDS=60, PAGE_CACHE_STORAGE_URI="memory://")
    return app


def _rename_first_item(app, name_en: str) -> None:
    with app.app_context():
        db.connect(reuse_if_open=True)
        item = ServiceItem.select().where(ServiceItem.active == True).order_by(ServiceItem.id).first()  # noqa: E712
        ServiceItem.update(name_en=name_en, name_zh=name_en).where(ServiceItem.id == item.id).execute()


def _token(page: str) -> str:
    match = CSRF_PATTERN.search(page)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def _queries_for(client, path, headers=EN) -> list[str]:
    counted = []

    class Counter(logging.Handler):
        def emit(self, record):
            if isinstance(record.msg, tuple):  # (sql, params): a query, not the pool's notes
                counted.append(record.msg[0])

    peewee_log, handler = logging.getLogger("peewee"), Counter()
    level, propagate = peewee_log.level, peewee_log.propagate
    peewee_log.addHandler(handler)
    peewee_log.setLevel(logging.DEBUG)
    peewee_log.propagate = False
    try:
        assert client.get(path, headers=headers).status_code == 200
    finally:
        peewee_log.removeHandler(handler)
        peewee_log.setLevel(level)
        peewee_log.propagate = propagate
    return counted


@pytest.mark.parametrize("path", CACHED_PAGES)
def test_a_second_anonymous_visitor_gets_the_page_without_building_it(cached, path):
    first, second = cached.test_client(), cached.test_client()
    assert _queries_for(first, path)
    assert _queries_for(second, path) == []


def test_the_page_is_served_from_the_cache_within_its_time_and_rebuilt_after(cached, monkeypatch):
    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(cache, "time", SimpleNamespace(monotonic=lambda: clock.now))
    before = cached.test_client().get("/menu/", headers=EN).get_data(as_text=True)
    _rename_first_item(cached, "Renamed for the cache test")
    clock.now += 59
    within = cached.test_client().get("/menu/", headers=EN).get_data(as_text=True)
    assert "Renamed for the cache test" not in before and "Renamed for the cache test" not in within
    clock.now += 2  # 61 s after it was built
    after = cached.test_client().get("/menu/", headers=EN).get_data(as_text=True)
    assert "Renamed for the cache test" in after


def test_each_language_has_its_own_page(cached):
    english = cached.test_client().get("/menu/", headers=EN).get_data(as_text=True)
    chinese = cached.test_client().get("/menu/", headers=ZH).get_data(as_text=True)
    assert 'lang="en"' in english and "Service menu" in english
    assert 'lang="zh-Hans"' in chinese and "Service menu" not in chinese
    # A visitor who chose English with the switch gets the English page, whatever the browser says.
    chooser = cached.test_client()
    page = chooser.get("/menu/", headers=ZH).get_data(as_text=True)
    chooser.post("/language", data={"lang": "en", "csrf_token": _token(page), "next": "/menu/"}, headers=ZH)
    assert 'lang="en"' in chooser.get("/menu/", headers=ZH).get_data(as_text=True)


def test_signed_in_people_always_get_a_fresh_page_and_never_fill_the_cache(cached, auth, client):
    auth.login_as("volunteer")
    client.get("/menu/", headers=EN)  # signed in: built, not stored
    _rename_first_item(cached, "Renamed while signed in")
    assert "Renamed while signed in" in client.get("/menu/", headers=EN).get_data(as_text=True)
    _rename_first_item(cached, "Renamed again")
    # The anonymous page is built now (nothing stored by the signed-in visits) and then kept...
    assert "Renamed again" in cached.test_client().get("/menu/", headers=EN).get_data(as_text=True)
    _rename_first_item(cached, "Renamed a third time")
    assert "Renamed again" in cached.test_client().get("/menu/", headers=EN).get_data(as_text=True)
    # ...but the signed-in volunteer sees the menu as it is, and no one's cache headers change.
    page = client.get("/menu/", headers=EN)
    assert "Renamed a third time" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert "Log out" in page.get_data(as_text=True)


def test_no_visitor_gets_another_visitors_csrf_token_or_cookie(cached):
    first, second = cached.test_client(), cached.test_client()
    built = first.get("/menu/", headers=EN)
    served = second.get("/menu/", headers=EN)  # from the cache
    first_token, second_token = _token(built.get_data(as_text=True)), _token(served.get_data(as_text=True))
    assert first_token != second_token
    # Apart from the token, both got the same page.
    assert built.get_data(as_text=True).replace(first_token, "") == served.get_data(as_text=True).replace(second_token, "")
    # The stored page holds no token and no cookie.
    stored = b"".join(value for _expires, value in cached.extensions["page_cache"]._pages.values())
    assert first_token.encode() not in stored and second_token.encode() not in stored
    assert b"Set-Cookie" not in stored and b"session=" not in stored
    # Each visitor's session cookie is their own, and each token works only with its own session.
    first_cookie, second_cookie = first.get_cookie("session"), second.get_cookie("session")
    assert first_cookie and second_cookie and first_cookie.value != second_cookie.value
    borrowed = second.post("/language", data={"lang": "zh_Hans", "csrf_token": first_token, "next": "/menu/"})
    assert borrowed.status_code == 400
    own = second.post("/language", data={"lang": "zh_Hans", "csrf_token": second_token, "next": "/menu/"})
    assert own.status_code == 302


def test_cached_pages_keep_the_security_headers(cached):
    cached.test_client().get("/events/", headers=EN)
    served = cached.test_client().get("/events/", headers=EN)
    assert served.status_code == 200 and served.mimetype == "text/html"
    assert "default-src 'self'" in served.headers["Content-Security-Policy"]
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Referrer-Policy"] == "same-origin"


def test_a_message_waiting_for_a_visitor_is_shown_to_them_and_never_stored(cached):
    def say_hello():
        flash("A message for one visitor only", "info")
        return redirect("/menu/")

    say_hello.allowed = frozenset({PUBLIC})
    cached.add_url_rule("/test-flash", "test_flash", say_hello)
    visitor = cached.test_client()
    visitor.get("/test-flash")
    assert "A message for one visitor only" in visitor.get("/menu/", headers=EN).get_data(as_text=True)
    assert "A message for one visitor only" not in cached.test_client().get("/menu/", headers=EN).get_data(as_text=True)
    assert "A message for one visitor only" not in visitor.get("/menu/", headers=EN).get_data(as_text=True)


def test_the_cache_is_off_in_tests_unless_a_test_turns_it_on(app):
    client = app.test_client()
    client.get("/menu/", headers=EN)
    _rename_first_item(app, "Renamed with the cache off")
    assert "Renamed with the cache off" in app.test_client().get("/menu/", headers=EN).get_data(as_text=True)
    assert "page_cache" not in app.extensions


def test_a_redis_that_is_down_costs_a_rebuilt_page_not_an_error(cached):
    cached.config["PAGE_CACHE_STORAGE_URI"] = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    first = cached.test_client().get("/menu/", headers=EN)
    second = cached.test_client().get("/menu/", headers=EN)
    assert first.status_code == second.status_code == 200
    assert isinstance(cached.extensions["page_cache"], cache.RedisStore)
    assert re.search(r'name="csrf_token" value="[^"]+"', second.get_data(as_text=True))


def test_workers_share_pages_through_redis_when_configured(cached):
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.2).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    cached.config.update(PAGE_CACHE_STORAGE_URI="", RATELIMIT_STORAGE_URI=url,
                         RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}")  # this test's keys only
    cached.test_client().get("/menu/", headers=EN)
    assert isinstance(cached.extensions["page_cache"], cache.RedisStore)
    del cached.extensions["page_cache"]  # another worker: a store of its own, the same Redis
    _rename_first_item(cached, "Renamed after the first worker built the page")
    page = cached.test_client().get("/menu/", headers=EN).get_data(as_text=True)
    assert "Renamed after the first worker" not in page and _token(page)


def test_visitors_arriving_together_wait_for_one_build(cached, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from marketplace.menu import services as menu_services

    builds, real = [], menu_services.menu_by_category

    def slow_menu(*args, **kwargs):
        builds.append(1)
        time.sleep(0.3)
        return real(*args, **kwargs)

    monkeypatch.setattr(menu_services, "menu_by_category", slow_menu)

    def visit(_n):
        response = cached.test_client().get("/menu/", headers=EN)
        return response.status_code, _token(response.get_data(as_text=True))

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(visit, range(4)))
    assert [status for status, _token_ in results] == [200] * 4
    assert len({token for _status, token in results}) == 4  # each visitor its own token
    assert len(builds) == 1


def test_only_the_query_arguments_a_page_reads_are_cached(cached):
    english = cached.test_client()
    english.get("/menu/", headers=EN)
    _rename_first_item(cached, "Renamed for the query test")
    # A made-up argument gets a page built for it, and it is not stored (the store stays bounded).
    assert "Renamed for the query test" in english.get("/menu/?utm=x", headers=EN).get_data(as_text=True)
    assert "Renamed for the query test" not in english.get("/menu/", headers=EN).get_data(as_text=True)
    # The board's community is its own page; an unknown one is a 404 and is not stored.
    assert cached.test_client().get("/board?community=all", headers=EN).status_code == 200
    assert cached.test_client().get("/board?community=nowhere", headers=EN).status_code == 404
    # A repeated argument is read as its first value (the whole street), built afresh, and not stored.
    assert cached.test_client().get("/board?community=all&community=1", headers=EN).status_code == 200
    assert len(cached.extensions["page_cache"]._pages) == 2  # /menu/ and /board?community=all
