"""A short-lived cache of whole pages for anonymous visitors (the menu, the events list, the
public board): for a minute every anonymous visitor in one language gets the same page, so the
page is built once a minute instead of once a visit.

What keeps one visitor's page from reaching another:

- Only GET/HEAD from visitors who are not signed in and have no flashed message waiting are
  served from or stored in the cache; anyone signed in always gets a freshly built page.
- Every page carries a CSRF token (the language switch is a POST form). While a page is built
  for the cache its token is a placeholder, and each response gets the visitor's own token put
  in its place, so the stored page holds no token and each visitor's token matches their own
  session.
- Only the body and its content type are stored: no headers, so no Set-Cookie. The security
  headers and the session cookie are added to every response afterwards, as for any page.
- A page is not stored when building it wrote to the session (a flash, a login), or when it is
  not a plain 200 HTML page.
- The key is the path, the query string and the page's language. Only query strings made of the
  arguments the page reads are cached, so made-up ones cannot fill the store.

Settings: PAGE_CACHE_SECONDS (0 turns it off) and PAGE_CACHE_STORAGE_URI (redis://... shares
the pages between workers and hosts; empty means the rate limiter's Redis when it has one,
otherwise each process keeps its own). Off under TESTING, where every test has fresh data,
unless the test sets PAGE_CACHE_IN_TESTS.
"""

import hashlib
import hmac
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from contextlib import contextmanager
from functools import wraps

from flask import current_app, g, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

log = logging.getLogger(__name__)

MEMORY_ENTRIES = 256  # pages one process keeps at most (pages x languages x the query values they take)
_MISSING = object()


class MemoryStore:
    """Pages kept in this process, the oldest dropped first."""

    def __init__(self, max_entries: int = MEMORY_ENTRIES):
        self.max_entries = max_entries
        self._pages: OrderedDict[Hashable, tuple[float, bytes | str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | str | None:
        with self._lock:
            found = self._pages.get(key)
            if found is None:
                return None
            if found[0] <= time.monotonic():
                del self._pages[key]
                return None
            return found[1]

    def set(self, key: Hashable, value: bytes | str, seconds: int) -> None:
        with self._lock:
            self._pages[key] = (time.monotonic() + seconds, value)
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_entries:
                self._pages.popitem(last=False)


class RedisStore:
    """Pages shared by every worker. A Redis that is down or slow costs a rebuilt page, never an
    error page: the timeouts are short and failures count as a miss."""

    def __init__(self, url: str, prefix: str):
        import redis

        self._errors = redis.RedisError
        self._client = redis.Redis.from_url(url, socket_timeout=0.2, socket_connect_timeout=0.2)
        self._prefix = prefix

    def get(self, key: str) -> bytes | None:
        try:
            return self._client.get(self._prefix + key)
        except self._errors as error:
            log.warning("Page cache: Redis read failed: %s", error)
            return None

    def set(self, key: str, value: bytes, seconds: int) -> None:
        try:
            self._client.set(self._prefix + key, value, ex=seconds)
        except self._errors as error:
            log.warning("Page cache: Redis write failed: %s", error)


_stores_lock = threading.Lock()
_builds: dict[str, threading.Lock] = {}
_builds_lock = threading.Lock()
BUILD_WAIT_SECONDS = 30


@contextmanager
def _building(key: str):
    """Hold the right to build one page in this process. Yields whether another thread held it
    first (then the page is probably stored by now). After BUILD_WAIT_SECONDS a waiter builds
    the page itself rather than wait on a build that hangs."""
    with _builds_lock:
        lock = _builds.setdefault(key, threading.Lock())
    waited = not lock.acquire(blocking=False)
    acquired = True if not waited else lock.acquire(timeout=BUILD_WAIT_SECONDS)
    try:
        yield waited
    finally:
        if acquired:
            with _builds_lock:
                if _builds.get(key) is lock:
                    del _builds[key]
            lock.release()


def _store():
    """This application's store, made on first use (one per app, so tests never share pages)."""
    store = current_app.extensions.get("page_cache")
    if store is None:
        with _stores_lock:
            store = current_app.extensions.get("page_cache")
            if store is None:
                config = current_app.config
                url = config.get("PAGE_CACHE_STORAGE_URI") or ""
                if not url and str(config.get("RATELIMIT_STORAGE_URI", "")).startswith(("redis://", "rediss://")):
                    url = config["RATELIMIT_STORAGE_URI"]
                if url.startswith(("redis://", "rediss://")):
                    store = RedisStore(url, f"{config.get('RATELIMIT_KEY_PREFIX', 'marketplace')}:page:")
                else:
                    store = MemoryStore()
                current_app.extensions["page_cache"] = store
    return store


def _seconds() -> int:
    config = current_app.config
    if config.get("TESTING") and not config.get("PAGE_CACHE_IN_TESTS"):
        return 0
    return int(config.get("PAGE_CACHE_SECONDS", 0) or 0)


def _placeholder() -> str:
    """What stands for the CSRF token in a stored page: derived from the secret key, so no text
    a visitor writes (an event title, a fund-use note) can contain it."""
    digest = hmac.new(current_app.secret_key.encode(), b"page-cache-csrf-placeholder", hashlib.sha256).hexdigest()
    return f"pagecache-{digest[:32]}"


def _key() -> str:
    raw = f"{request.script_root}{request.full_path}|{get_locale()}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _may_use_cache(query: frozenset) -> bool:
    """Anonymous GETs with no message waiting, whose query string holds only the arguments the
    page reads, each once: any other query string (?x=<random>) would make a new page to store
    on every request, so it gets a freshly built page instead."""
    args = request.args
    return (
        request.method in ("GET", "HEAD")
        and all(name in query and len(args.getlist(name)) == 1 for name in args)
        and not current_user.is_authenticated
        and "_flashes" not in session
    )


def _with_own_token(response, placeholder: str):
    """Put the visitor's own CSRF token where the stored page has the placeholder."""
    if response.direct_passthrough or response.mimetype != "text/html":
        return response
    body = response.get_data()
    marker = placeholder.encode()
    if marker in body:
        response.set_data(body.replace(marker, generate_csrf().encode()))
    return response


def cached_page(view=None, *, query: tuple[str, ...] = ()):
    """Serve this view's page from the page cache to anonymous visitors (see the module's doc).
    `query` names the query-string arguments the page reads (`@cached_page(query=("community",))`);
    a request with any other argument is not cached."""
    if view is None:
        return lambda view: cached_page(view, query=query)
    allowed = frozenset(query)

    @wraps(view)
    def wrapper(*args, **kwargs):
        seconds = _seconds()
        if seconds <= 0 or not _may_use_cache(allowed):
            return view(*args, **kwargs)
        store, key, placeholder = _store(), _key(), _placeholder()
        stored = store.get(key)
        if stored is None:
            # Visitors arriving while the page is being built wait for it rather than build it too.
            with _building(key) as built_meanwhile:
                stored = store.get(key) if built_meanwhile else None
                if stored is None:
                    return _build_and_store(view, args, kwargs, store, key, placeholder, seconds)
        content_type, _newline, body = stored.partition(b"\n")
        response = make_response(body)
        response.content_type = content_type.decode()
        return _with_own_token(response, placeholder)

    return wrapper


def _build_and_store(view, args, kwargs, store, key: str, placeholder: str, seconds: int):
    """Build the page with a placeholder for the CSRF token, store it if it is the same for
    every anonymous visitor, and answer with the visitor's own token."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    session_before = dict(session)
    earlier_token = g.pop(field, _MISSING)
    setattr(g, field, placeholder)  # generate_csrf() returns g's token as it is
    try:
        response = make_response(view(*args, **kwargs))
    finally:
        g.pop(field, None)
        if earlier_token is not _MISSING:
            setattr(g, field, earlier_token)
    if (
        response.status_code == 200
        and response.mimetype == "text/html"
        and not response.is_streamed
        and "Set-Cookie" not in response.headers
        and dict(session) == session_before
    ):
        store.set(key, response.content_type.encode() + b"\n" + response.get_data(), seconds)
    return _with_own_token(response, placeholder)


# ---- fragments of signed-in pages ---------------------------------------------------------------

FRAGMENT_ENTRIES = 1024
FRAGMENT_SECONDS = 24 * 3600  # a key no longer asked for (a snapshot replaced) ages out


def fragment(key: tuple, render) -> str:
    """A piece of a page rendered once per key and kept in this process, for the parts of
    signed-in pages that many people see alike (the header per language and roles, a dashboard's
    figures per snapshot). `key` must hold everything else the piece depends on: the language,
    the path the site is mounted at and the settings' version are added here. Nothing personal may
    go into such a piece; a visitor's own values are put in afterwards (shell/header.py)."""
    store = current_app.extensions.get("fragments")
    if store is None:
        store = current_app.extensions.setdefault("fragments", MemoryStore(FRAGMENT_ENTRIES))
    full_key = (str(get_locale()), request.script_root, current_app.config.changes, *key)
    found = store.get(full_key)
    if found is None:
        found = render()
        store.set(full_key, found, FRAGMENT_SECONDS)
    return found
