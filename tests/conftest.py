"""Fixtures: a migrated database with the demo community, a client, and a login helper.

The suite runs on SQLite by default and on PostgreSQL with `--db=postgres` (TEST_DATABASE_URL).
Each test starts from an empty schema, migrated and loaded afresh.
"""

import os
import re
import threading
from contextlib import contextmanager

import peewee as pw
import pytest
from werkzeug.serving import make_server

from marketplace import create_app
from marketplace.cli import upgrade
from marketplace.db import db
from marketplace.demo import DEMO_PASSWORD, load_demo


def pytest_addoption(parser):
    parser.addoption("--db", default="sqlite", choices=["sqlite", "postgres"], help="database to test on")


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: about SQLite alone (its file, locks, pragmas)")
    config.addinivalue_line("markers", "postgres_only: about PostgreSQL alone (its pool, pg_dump)")


def pytest_collection_modifyitems(config, items):
    """A test about one database is not collected for the other: deselected, never skipped."""
    other = "sqlite_only" if config.getoption("--db") == "postgres" else "postgres_only"
    kept = [item for item in items if other not in item.keywords]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if other in item.keywords])
        items[:] = kept


@pytest.fixture
def database_url(request, tmp_path):
    return database_url_for(request.config, tmp_path)


def reset_schema(url: str) -> None:
    """Start from an empty schema: the PostgreSQL server keeps what earlier runs left."""
    if url.startswith("postgres"):
        with db.connection_context():
            db.execute_sql("DROP SCHEMA public CASCADE")
            db.execute_sql("CREATE SCHEMA public")


def database_url_for(config, folder) -> str:
    if config.getoption("--db") == "postgres":
        url = os.environ.get("TEST_DATABASE_URL")
        if not url:
            pytest.fail("--db=postgres needs TEST_DATABASE_URL")
        return url
    return f"sqlite:///{folder / 'test.db'}"


@contextmanager
def demo_app(database_url: str, folder, **settings):
    """An app on an empty schema, migrated and loaded with the demo community; closed after."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "INSTANCE_PATH": str(folder),
            "UPLOAD_FOLDER": folder / "uploads",
            "RATELIMIT_STORAGE_URI": "memory://",
            # Figures counted on every page, so they equal the rows a test just wrote (and a GET
            # stores nothing); tests/test_figures_snapshot.py turns the snapshots on.
            "FIGURES_MAX_AGE_SECONDS": 0,
            **settings,
        }
    )
    with app.app_context():
        reset_schema(database_url)
        upgrade()
        load_demo()
    yield app
    with app.app_context():
        if not db.is_closed():
            db.close()
        if isinstance(db.obj, pw.PostgresqlDatabase):
            db.obj.close_all()


@contextmanager
def served(app):
    """The app on a real port (a thread of this process); yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def app(database_url, tmp_path):
    with demo_app(database_url, tmp_path) as app:
        yield app


@pytest.fixture
def ctx(app):
    """Inside a request (in English) with the database open: for tests that call services directly."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        db.connect(reuse_if_open=True)
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(client, path="/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = CSRF_PATTERN.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


DEMO_PHONES = {
    "admin": "13800000001",
    "community_admin": "13800000002",
    "grid_admin": "13800000003",
    "building_head": "13800000004",
    "street_officer": "13800000005",
    "resident": "13900000001",
    "volunteer": "13900000003",
    "partner_staff": "13700000001",
    "pending_resident": "13900000004",
}


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, phone, password=DEMO_PASSWORD, **extra):
        data = {"phone": phone, "password": password, "csrf_token": csrf_token(self.client), **extra}
        return self.client.post("/login", data=data)

    def login_as(self, role):
        response = self.login(DEMO_PHONES[role])
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    def post(self, path, data=None, token_from=None, headers=None):
        data = dict(data or {})
        data["csrf_token"] = csrf_token(self.client, token_from or path)
        return self.client.post(path, data=data, headers=headers)


@pytest.fixture
def auth(client):
    return Auth(client)
