"""Login limits that protect the owner (issue 16): failures counted per (number, address) and per
address; per number only a growing delay, never a refusal of the right password from an address
that has not failed."""

import pytest

from marketplace.users import login_limits
from tests.conftest import DEMO_PHONES, csrf_token

RESIDENT = DEMO_PHONES["resident"]


def _login(app, address, phone, password):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    token = csrf_token(client)
    return client, client.post("/login", data={"phone": phone, "password": password, "csrf_token": token})


def test_100_wrong_passwords_from_50_addresses_never_stop_the_owner_from_a_new_address(app, monkeypatch):
    waits = []
    monkeypatch.setattr(login_limits, "pause", waits.append)
    answers = [_login(app, f"10.0.{i // 2}.{i % 50 + 1}", RESIDENT, f"guess number {i}")[1].status_code
               for i in range(100)]
    assert set(answers) == {401}  # each a plain "not right", none a lockout
    assert waits and waits == sorted(waits) and max(waits) <= 4  # slower and slower, never refused

    client, owner = _login(app, "192.168.7.7", RESIDENT, "beiyuan-demo-2026")
    assert owner.status_code == 302
    assert client.get("/account").status_code == 200  # signed in


def test_one_address_guessing_one_number_is_stopped_there_and_the_owner_elsewhere_is_not(app, monkeypatch):
    monkeypatch.setattr(login_limits, "pause", lambda seconds: None)
    answers = [_login(app, "10.9.9.9", "139 0000 0001" if i % 2 else "+8613900000001", "wrong password")[1]
               for i in range(7)]
    assert [a.status_code for a in answers] == [401] * 5 + [429] * 2  # every way of typing the number counts
    assert "Forgot your password" in answers[-1].get_data(as_text=True)
    # Not even the right password from that address until the window ends...
    assert _login(app, "10.9.9.9", RESIDENT, "beiyuan-demo-2026")[1].status_code == 429
    # ...but the owner at home is let in, and other numbers from that address too.
    assert _login(app, "10.1.1.1", RESIDENT, "beiyuan-demo-2026")[1].status_code == 302
    assert _login(app, "10.9.9.9", DEMO_PHONES["volunteer"], "beiyuan-demo-2026")[1].status_code == 302


def test_an_address_guessing_many_numbers_is_refused_and_a_room_of_right_logins_is_not(app, monkeypatch):
    monkeypatch.setattr(login_limits, "pause", lambda seconds: None)
    app.config["LOGIN_FAILURES_PER_ADDRESS"] = 6
    # A room of volunteers on one Wi-Fi, all typing the right password: never counted.
    for role in ("resident", "volunteer", "building_head", "grid_admin", "community_admin", "admin", "resident"):
        assert _login(app, "10.5.5.5", DEMO_PHONES[role], "beiyuan-demo-2026")[1].status_code == 302
    answers = [_login(app, "10.6.6.6", f"1390000{i:04d}", "wrong password")[1].status_code for i in range(8)]
    assert answers == [401] * 6 + [429] * 2
    assert _login(app, "10.6.6.6", RESIDENT, "beiyuan-demo-2026")[1].status_code == 429
    assert _login(app, "10.5.5.5", RESIDENT, "beiyuan-demo-2026")[1].status_code == 302


def test_the_delay_grows_with_the_numbers_failures_and_has_a_ceiling(app):
    limits = app.config
    from marketplace.users.login_settings import LoginLimitSettings

    figures = LoginLimitSettings.from_config(limits)
    delays = [login_limits.delay_for(n, figures) for n in range(0, 60)]
    assert delays[:5] == [0.0] * 5 and delays[5] == 0.25 and delays[10] == 0.5 and delays[15] == 1.0
    assert delays == sorted(delays) and max(delays) == 4.0


def test_the_totals_go_to_redis_when_configured_and_an_unreachable_store_does_not_stop_logins(app, monkeypatch):
    from marketplace.users.login_settings import LoginLimitSettings

    production = LoginLimitSettings.from_config({"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"})
    assert production.storage_uri.startswith("redis://")  # shared by every worker and host
    own = LoginLimitSettings.from_config({"RATELIMIT_STORAGE_URI": "memory://",
                                          "LOGIN_LIMITS_STORAGE_URI": "redis://cache:6379/2"})
    assert own.storage_uri == "redis://cache:6379/2"

    monkeypatch.setattr(login_limits, "pause", lambda seconds: None)
    app.config["LOGIN_LIMITS_STORAGE_URI"] = "redis://127.0.0.1:1/0"  # nothing listens there
    assert _login(app, "10.7.7.7", RESIDENT, "wrong password")[1].status_code == 401
    assert _login(app, "10.7.7.7", RESIDENT, "beiyuan-demo-2026")[1].status_code == 302


def test_the_totals_hold_across_two_app_instances_sharing_a_live_redis(app, database_url, tmp_path, monkeypatch):
    """Two instances (two workers or hosts) on one Redis: failures counted by either count for
    both. With memory:// each instance would count alone and the 6th and 7th tries would pass."""
    import uuid

    import redis

    from marketplace.demo import DEMO_PASSWORD
    from tests.conftest import _close_connections, _create_test_app

    store = redis.Redis(host="127.0.0.1", port=6379, db=0)
    try:
        store.ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis is not running on 127.0.0.1:6379; this test needs it (CI has it).")
    prefix = f"test-login-limits-{uuid.uuid4().hex}"  # this run's keys only: nothing collides
    shared = {"LOGIN_LIMITS_STORAGE_URI": "redis://127.0.0.1:6379/0", "RATELIMIT_KEY_PREFIX": prefix}
    waits = []
    monkeypatch.setattr(login_limits, "pause", waits.append)
    app.config.update(shared)
    second = _create_test_app(database_url, tmp_path / "second", **shared)
    try:
        instances = (app, second)
        answers = [_login(instances[i % 2], "10.8.8.8", RESIDENT, "wrong password")[1].status_code for i in range(7)]
        assert answers == [401] * 5 + [429] * 2  # 5 in total, not 5 on each
        assert list(store.scan_iter(f"*{prefix}/login-failures/*"))  # kept in Redis, under this run's prefix
        # The number's total is shared too: the next wrong try from anywhere waits, on either.
        assert _login(second, "10.8.9.9", RESIDENT, "wrong password")[1].status_code == 401
        assert waits == [0.25]
        # The owner from another address still gets in, through either instance.
        assert _login(app, "10.1.1.1", RESIDENT, DEMO_PASSWORD)[1].status_code == 302
        assert _login(second, "10.8.8.8", RESIDENT, DEMO_PASSWORD)[1].status_code == 429  # that address waits
    finally:
        keys = list(store.scan_iter(f"*{prefix}*"))
        if keys:
            store.delete(*keys)
        with second.app_context():
            _close_connections()
    assert not list(store.scan_iter(f"*{prefix}*"))
