"""Fixtures: a migrated database with the demo community, a client, and a login helper.

The suite runs on SQLite by default and on PostgreSQL with `--db=postgres` (TEST_DATABASE_URL).
The schema is migrated and the demo loaded once per run into a template (a SQLite file, or a
PostgreSQL template database built from an empty schema); each test gets a fresh copy of it, so a
test's setup costs a file copy or a `CREATE DATABASE ... TEMPLATE`, not a migration.
"""

import os
import re
import shutil
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import peewee as pw
import psycopg2
import pytest
from werkzeug.serving import make_server

from marketplace import create_app
from marketplace.cli import upgrade
from marketplace.db import db
from marketplace.demo import DEMO_PASSWORD, load_demo


def pytest_addoption(parser):
    parser.addoption("--db", default="sqlite", choices=["sqlite", "postgres"], help="database to test on")


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: about SQLite alone (its file, locks, pragmas), or the same on "
                            "both databases and run once (ONCE)")
    config.addinivalue_line("markers", "postgres_only: about PostgreSQL alone (its pool, pg_dump)")


def _compile_url_rules_once() -> None:
    """Every test builds its own app, and werkzeug turns each of its 320 URL rules into Python
    source, parses and compiles it: 0.22 s of the 0.24 s an app takes to build, in every test.
    The code depends only on the rule's text, its defaults and whether unknown arguments become a
    query string, so the suite compiles each once per process and binds it to every later rule
    (the same as werkzeug's `.__get__(rule)`). A deployed worker builds its app once."""
    from werkzeug.routing.rules import Rule

    compile_builder, compiled = Rule._compile_builder, {}

    def compile_builder_once(rule, append_unknown=True):
        key = (rule.rule, tuple(rule._trace), repr(sorted((rule.defaults or {}).items())), append_unknown)
        if key not in compiled:
            compiled[key] = compile_builder(rule, append_unknown)
        return compiled[key]

    Rule._compile_builder = compile_builder_once


_compile_url_rules_once()


# What a browser sees does not depend on the database behind the server: the browser tests (screens,
# journeys, the axe sweep in four layouts) run in the SQLite pass only. Every route they use is
# also called on PostgreSQL by the access table, the security and hostile-input sweeps and the
# domain tests, which is where the two databases differ. So is schemathesis with all its checks
# (the document's conformance); its no-5xx run on generated data runs on both.
ONCE = ("tests/browser/", "tests/api/test_api_schemathesis_all_checks.py")


# The tests that take a minute or more, then those of ten seconds or more (`--durations`), run
# first: `make test` hands each worker one test at a time (--maxschedchunk 1), so the longest
# are spread over both workers and the many short ones fill in after them. In collection order
# (pytest's default) they used to come last, with one worker idle while the other ran them.
LONGEST_FIRST = (
    "tests/browser/test_accessibility.py::test_no_serious",
    "tests/api/test_api_schemathesis.py",
    "tests/test_hostile_sweep.py::test_hostile_input_sweep",
    "tests/api/test_api_schemathesis_all_checks.py",
    "tests/browser/test_dashboard_screens.py",
    "tests/browser/test_shell_screens.py",
    "tests/browser/test_proposal_journey.py",
    "tests/browser/test_accessibility.py",
    "tests/browser/test_walkthrough_screens.py",
    "tests/browser/test_recovery_journey.py",
    "tests/test_access_table.py",
    "tests/ops/test_crash_safety.py",
    "tests/notifications/test_consumers.py",
    "tests/browser/",
)


def _longest_first(item) -> int:
    return next((rank for rank, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)),
                len(LONGEST_FIRST))


def pytest_collection_modifyitems(config, items):
    """A test about one database is not collected for the other: deselected, never skipped. The
    longest tests are put first (LONGEST_FIRST); the rest keep their order."""
    items.sort(key=_longest_first)
    postgres = config.getoption("--db") == "postgres"
    for item in items:
        if item.nodeid.startswith(ONCE):
            item.add_marker("sqlite_only")
    other = "sqlite_only" if postgres else "postgres_only"
    kept = [item for item in items if other not in item.keywords]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if other in item.keywords])
        items[:] = kept


@pytest.fixture
def database_url(request, tmp_path):
    return database_url_for(request.config, tmp_path)


def database_url_for(config, folder) -> str:
    """The test's own database: a file in its folder, or the per-test PostgreSQL database."""
    if config.getoption("--db") == "postgres":
        url = os.environ.get("TEST_DATABASE_URL")
        if not url:
            pytest.fail("--db=postgres needs TEST_DATABASE_URL")
        return _with_database_name(url, f"{_database_name(url)}_{_worker()}case")
    return f"sqlite:///{folder / 'test.db'}"


def _worker() -> str:
    """Each pytest-xdist worker ("gw0_", "gw1_") has PostgreSQL databases of its own; "" without xdist."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"{name}_" if name else ""


def _database_name(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?", 1)[0]


def _with_database_name(url: str, name: str) -> str:
    base, tail = url.rsplit("/", 1)
    query = tail.split("?", 1)[1] if "?" in tail else ""
    return f"{base}/{name}" + (f"?{query}" if query else "")


def _maintenance(url: str, *statements: str) -> None:
    """Run statements that cannot run inside a database or a transaction (CREATE/DROP DATABASE)."""
    connection = psycopg2.connect(_with_database_name(url, "postgres"))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
    finally:
        connection.close()


def _close_connections() -> None:
    if not db.is_closed():
        db.close()
    if isinstance(db.obj, pw.PostgresqlDatabase):
        db.obj.close_all()


_TEMPLATES: dict[str, str] = {}
_TEMPLATE_CACHE = tempfile.mkdtemp(prefix="marketplace-jinja-")


def _template_for(database_url: str) -> str:
    """The migrated demo database for this kind of server, built on first use in a run."""
    kind = "postgres" if database_url.startswith("postgres") else "sqlite"
    if kind not in _TEMPLATES:
        folder = tempfile.mkdtemp(prefix="marketplace-template-")
        if kind == "postgres":
            name = f"{_database_name(database_url).removesuffix(f'_{_worker()}case')}_{_worker()}template"
            url = _with_database_name(database_url, name)
            _maintenance(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
        else:
            url = f"sqlite:///{folder}/template.db"
        app = _create_test_app(url, folder)
        with app.app_context():
            upgrade()
            load_demo()
            _close_connections()
        _TEMPLATES[kind] = url
    return _TEMPLATES[kind]


class _SpareCopy(threading.Thread):
    """The next test's PostgreSQL database, copied from the template while this test runs: a copy
    is 0.3-0.6 s, most of it the server writing and syncing 13 MB, which need not hold the test up."""

    def __init__(self, database_url: str, template: str):
        super().__init__(name="spare-database", daemon=True)
        self.url, self.template = database_url, template
        self.database = f"{_database_name(database_url)}_spare"
        self.made = False
        self.start()

    def run(self):
        try:
            _maintenance(self.url, f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)',
                         f'CREATE DATABASE "{self.database}" TEMPLATE "{self.template}"')
            self.made = True
        except psycopg2.Error:  # made at the moment it is needed instead
            pass


_SPARES: dict[str, _SpareCopy] = {}


def copy_demo_database(database_url: str) -> None:
    """Make `database_url` a fresh copy of the migrated demo database."""
    template = _template_for(database_url)
    if database_url.startswith("postgres"):
        name, source = _database_name(database_url), _database_name(template)
        spare = _SPARES.pop(name, None)
        if spare is not None:
            spare.join()
        if spare is not None and spare.made:
            _maintenance(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                         f'ALTER DATABASE "{spare.database}" RENAME TO "{name}"')
        else:
            _maintenance(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                         f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        _SPARES[name] = _SpareCopy(database_url, source)
    else:
        target = database_url.removeprefix("sqlite:///")
        for suffix in ("-wal", "-shm"):
            if os.path.exists(target + suffix):
                os.remove(target + suffix)
        shutil.copyfile(template.removeprefix("sqlite:///"), target)


def _create_test_app(database_url: str, folder, **settings):
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "INSTANCE_PATH": str(folder),
            "UPLOAD_FOLDER": Path(folder) / "uploads",
            "RATELIMIT_STORAGE_URI": "memory://",
            # Figures counted on every page, so they equal the rows a test just wrote (and a GET
            # stores nothing); tests/figures/test_figures_snapshot.py turns the snapshots on.
            "FIGURES_MAX_AGE_SECONDS": 0,
            # Tasks (message deliveries) run at once in the caller: huey's immediate mode.
            # tests/notifications/test_delivery.py runs real consumers where that is the point.
            "TASK_QUEUE_IMMEDIATE": True,
            # argon2's cheapest parameters: the suite logs in thousands of times, and each login
            # with the deployed ones costs a tenth of a second or more of both cores (the
            # deployed profile has its own test: test_an_older_password_hash_is_upgraded...).
            "PASSWORD_HASH_PROFILE": "CHEAPEST",
            # Each test's app is new, but the templates are not: compiled once per run.
            "TEMPLATE_CACHE_FOLDER": _TEMPLATE_CACHE,
            **settings,
        }
    )


@contextmanager
def demo_app(database_url: str, folder, **settings):
    """An app on a fresh copy of the migrated demo database; its connections closed after."""
    copy_demo_database(database_url)
    app = _create_test_app(database_url, folder, **settings)
    yield app
    with app.app_context():
        _close_connections()


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


@contextmanager
def sql_sent():
    """Every SQL statement peewee sends while the block runs (the query budgets count them, the
    access table reads the writes among them)."""
    database = db.obj
    statements = []
    original = database.execute_sql

    def execute_sql(sql, params=None, *args, **kwargs):
        statements.append(sql)
        return original(sql, params, *args, **kwargs)

    database.execute_sql = execute_sql
    try:
        yield statements
    finally:
        del database.execute_sql


@pytest.fixture
def app(database_url, tmp_path):
    with demo_app(database_url, tmp_path) as app:
        yield app


def in_app(app, fn):
    """fn() inside a request (in English) with the database open: for reading rows or calling a
    service from a test between page visits."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        db.connect(reuse_if_open=True)
        return fn()


def person(who: str):
    """A demo account by its role (`person("grid_admin")`) or by its phone number."""
    from marketplace.users.models import User

    return User.get(User.phone == DEMO_PHONES.get(who, who))


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
