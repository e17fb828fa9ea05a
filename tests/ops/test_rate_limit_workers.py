"""The login limit holds in total across gunicorn workers when the counters live in Redis."""

import http.cookiejar
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.servers import PATIENCE, gunicorn_serving

REDIS = "redis://127.0.0.1:6379/0"
LIMIT = 10


def _redis_is_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def gunicorn(app, database_url, tmp_path):
    """Four workers serving the test database, counting rate limits in Redis under a fresh prefix."""
    if not _redis_is_up():
        pytest.fail("Redis is not running on 127.0.0.1:6379; this test needs it (CI has it).")
    settings = {
        "DATABASE_URL": database_url,
        "MARKETPLACE_INSTANCE_PATH": str(tmp_path),
        "SECRET_KEY": "rate-limit-test",
        "RATELIMIT_STORAGE_URI": REDIS,
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "LOGIN_RATE_LIMIT": f"{LIMIT} per minute",
    }
    with gunicorn_serving(settings, workers=4, production_config=False) as (base, _master):
        yield base


def _try_login(base: str) -> int:
    """One attempt from a fresh browser: fetch the form (CSRF token), post a wrong password."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login", timeout=PATIENCE).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"phone": "13900000001", "password": "not the password", "csrf_token": token})
    try:
        return opener.open(base + "/login", data=data.encode(), timeout=PATIENCE).status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_login_limit_holds_in_total_across_four_workers(gunicorn):
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: _try_login(gunicorn), range(40)))
    let_through = [s for s in statuses if s != 429]
    assert statuses.count(429) == 40 - len(let_through)
    # Per worker memory counters would let up to 4 x 10 through; Redis keeps it at 10 in total.
    assert len(let_through) <= LIMIT, statuses
    assert set(let_through) <= {401}, statuses  # the ones let through were told the password is wrong
