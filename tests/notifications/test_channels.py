"""Messages on their channels, against stand-ins of the SMS provider and of WeChat (tests/
notifications/standins.py), with the task queue in huey's immediate mode: the same code a
consumer runs, in the test's thread."""

import hashlib
import json
from datetime import timedelta

import pytest
from flask import g

from marketplace.audit import AuditLog
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.notifications import fallback, preferences
from marketplace.notifications.models import CallTask, Delivery, MessagePreference, Notification
from marketplace.notifications.receipts import sms_receipt_token
from marketplace.notifications.services import notify
from marketplace.timeutil import utcnow
from tests.conftest import csrf_token, demo_app, person
from tests.notifications.standins import ACCESS_KEY_ID, ACCESS_KEY_SECRET, SmsStandIn, WeChatStandIn, serving


@pytest.fixture
def standins():
    sms, wechat = SmsStandIn(), WeChatStandIn()
    with serving(sms, wechat) as url:
        yield sms, wechat, url


@pytest.fixture
def app(database_url, tmp_path, standins):
    _sms, _wechat, url = standins
    with demo_app(database_url, tmp_path, SMS_PROVIDER="aliyun", SMS_API_URL=url, SMS_ACCESS_KEY_ID=ACCESS_KEY_ID,
                  SMS_ACCESS_KEY_SECRET=ACCESS_KEY_SECRET, SMS_TEMPLATES={"default": "SMS_100", "job": "SMS_200"},
                  WECHAT_PROVIDER="wechat", WECHAT_API_URL=url, WECHAT_APP_ID="wx-test", WECHAT_APP_SECRET="wx-secret",
                  WECHAT_TOKEN="wx-server-token", WECHAT_TEMPLATES={"default": "TPL_1"}, MESSAGE_RETRIES=2, MESSAGE_RETRY_SECONDS=0,
                  MESSAGE_TIMEOUT_SECONDS=2, MESSAGE_LOG_CHANNEL=False) as app:
        with app.test_request_context(headers={"Accept-Language": "en"}):
            db.connect(reuse_if_open=True)
            yield app


def _choose(who, channels, openid=""):
    user = person(who)
    preferences.set_own(user, channels, wechat_openid=openid)
    return user


def _delivery(note, channel):
    return Delivery.get(Delivery.notification == note.id, Delivery.channel == channel)


def test_an_sms_reaches_the_provider_signed_and_once(app, standins):
    sms, _, _ = standins
    resident = _choose("resident", ["sms"])
    note = notify(resident, "job", "王小明 took your request: 水管漏水", "/requests/1")
    delivery = _delivery(note, "sms")
    assert (delivery.state, delivery.attempts, delivery.provider, delivery.provider_id) == ("sent", 1, "aliyun", "biz1")
    assert delivery.cost_units == 1 and sms.bad_signatures == 0
    [sent] = sms.sent
    assert sent["PhoneNumbers"] == resident.phone and sent["OutId"] == delivery.key == f"{note.id}:sms"
    assert sent["TemplateCode"] == "SMS_200" and json.loads(sent["TemplateParam"])["content"].startswith("王小明")
    assert _delivery(note, "in_app").state == "delivered"  # the notification itself
    # Handing the same message to the queue again sends nothing more.
    from marketplace.notifications.tasks import send_delivery

    send_delivery(delivery.id)
    assert len(sms.sent) == 1


def test_a_failure_is_retried_then_recorded_failed(app, standins):
    sms, _, _ = standins
    resident = _choose("resident", ["sms"])
    sms.fail_next = ["isv.BUSINESS_LIMIT_CONTROL"]
    recovered = _delivery(notify(resident, "job", "first"), "sms")
    assert (recovered.state, recovered.attempts) == ("sent", 2)
    sms.fail_next = ["isv.BUSINESS_LIMIT_CONTROL"] * 5
    failed = _delivery(notify(resident, "job", "second"), "sms")
    assert (failed.state, failed.attempts) == ("failed", 3)  # MESSAGE_RETRIES=2: three attempts
    assert failed.error.startswith("isv.BUSINESS_LIMIT_CONTROL")
    sms.fail_next = ["isv.MOBILE_NUMBER_ILLEGAL"]
    wrong = _delivery(notify(resident, "job", "third"), "sms")
    assert (wrong.state, wrong.attempts) == ("failed", 1)  # trying again cannot help


def test_a_slow_answer_is_not_sent_twice(app, standins):
    """No answer within MESSAGE_TIMEOUT_SECONDS: the provider may have it; it is asked first."""
    sms, _, _ = standins
    resident = _choose("resident", ["sms"])
    sms.hold()
    delivery = _delivery(notify(resident, "job", "slow"), "sms")
    # The provider lists it as received by the phone (SendStatus 3): delivered, sent once.
    assert delivery.state == "delivered" and sms.sends_of(delivery.key) == 1 and sms.queries >= 1


def test_a_receipt_marks_it_delivered_and_a_reply_acknowledges(app, standins):
    sms, _, _ = standins
    resident = _choose("resident", ["sms"])
    note = notify(resident, "request", "The department answered your request.", "/requests/1")
    assert note.important
    client = app.test_client()
    report = [{"phone_number": resident.phone, "send_time": "2026-12-02 10:00:00", "report_time": "2026-12-02 10:00:05",
               "success": True, "err_code": "DELIVERED", "err_msg": "用户接收成功", "sms_size": "1",
               "biz_id": "biz1", "out_id": f"{note.id}:sms"}]
    assert client.post("/messages/receipts/sms/forged", json=report).status_code == 403
    assert _delivery(note, "sms").state == "sent"
    answer = client.post(f"/messages/receipts/sms/{sms_receipt_token()}", json=report)
    assert answer.status_code == 200 and answer.get_json() == {"code": 0, "msg": "成功"}
    assert _delivery(note, "sms").state == "delivered"
    reply = [{"phone_number": resident.phone, "send_time": "2026-12-02 10:01:00", "content": "1",
              "sign_name": "北苑街道", "dest_code": "1", "sequence_id": 1}]
    client.post(f"/messages/receipts/sms/{sms_receipt_token()}", json=reply)
    assert Notification.get_by_id(note.id).acknowledged_at is not None


def test_wechat_template_message_with_token_refresh_and_signed_event(app, standins):
    _, wechat, _ = standins
    volunteer = _choose("volunteer", ["wechat"], openid="o-volunteer")
    note = notify(volunteer, "event", "The flea market moved to Sunday.", "/events/1")
    delivery = _delivery(note, "wechat")
    assert delivery.state == "sent" and delivery.provider_id == "200228001"
    [body] = wechat.sent
    assert body["touser"] == "o-volunteer" and body["template_id"] == "TPL_1" and body["client_msg_id"] == delivery.key
    wechat.expire_token_once = True  # the token was revoked: fetched afresh, sent once
    second = _delivery(notify(volunteer, "event", "Again."), "wechat")
    assert second.state == "sent" and len(wechat.sent) == 2 and wechat.tokens_issued == 2
    client = app.test_client()
    timestamp, nonce = "1700000000", "n1"
    signature = hashlib.sha1("".join(sorted(["wx-server-token", timestamp, nonce])).encode()).hexdigest()
    event = (f"<xml><ToUserName>gh</ToUserName><FromUserName>o-volunteer</FromUserName><MsgType>event</MsgType>"
             f"<Event>TEMPLATESENDJOBFINISH</Event><MsgID>{delivery.provider_id}</MsgID><Status>success</Status></xml>")
    assert client.post(f"/messages/receipts/wechat?signature=bad&timestamp={timestamp}&nonce={nonce}",
                       data=event).status_code == 403
    query = f"signature={signature}&timestamp={timestamp}&nonce={nonce}"
    assert client.get(f"/messages/receipts/wechat?{query}&echostr=hello").get_data(as_text=True) == "hello"
    assert client.post(f"/messages/receipts/wechat?{query}", data=event).get_data(as_text=True) == "success"
    assert _delivery(note, "wechat").state == "delivered"


def test_sms_caps_per_person_and_day(app, standins):
    sms, _, _ = standins
    app.config["SMS_PER_PERSON_PER_DAY"] = 2
    resident = _choose("resident", ["sms"])
    states = [_delivery(notify(resident, "job", f"n{i}"), "sms").state for i in range(3)]
    assert states == ["sent", "sent", "skipped"] and len(sms.sent) == 2
    app.config["SMS_PER_PERSON_PER_DAY"], app.config["SMS_PER_DAY"] = 10, 2
    other = _choose("volunteer", ["sms"])
    assert _delivery(notify(other, "job", "over the street's cap"), "sms").error == "cap: SMS_PER_DAY reached"


def test_quiet_hours_hold_a_message_until_they_end(app, standins):
    sms, _, _ = standins
    resident = person("resident")
    preferences.set_own(resident, ["sms"], "00:00", "23:59")
    delivery = _delivery(notify(resident, "job", "at night"), "sms")
    assert delivery.state == "queued" and delivery.not_before > utcnow() and sms.sent == []


def test_unacknowledged_important_message_becomes_one_call_for_the_building_head(app, standins):
    resident = _choose("resident", ["sms"])
    note = notify(resident, "points", "You were paid 10 points.", "/points/")
    notify(resident, "other", "Not important.")
    Notification.update(created_at=utcnow() - timedelta(hours=25)).execute()
    assert fallback.open_call_tasks() == 1
    assert fallback.open_call_tasks() == 0  # once
    [task] = CallTask.select()
    assert task.notification_id == note.id
    head = person("building_head")
    assert [t.id for t in fallback.calls_for(head)] == [task.id]
    assert list(fallback.calls_for(person("volunteer"))) == []
    client = app.test_client()
    client.post("/login", data={"phone": head.phone, "password": "beiyuan-demo-2026", "csrf_token": csrf_token(client)})
    page = client.get("/messages/calls").get_data(as_text=True)
    assert resident.display_name in page and resident.phone not in page  # the full number is shown, audited, elsewhere
    # The client's requests share this test's app context, so Flask-WTF's token cached in `g`
    # from before the login would be sent: forget it, as a new request would.
    g.pop("csrf_token", None)
    answer = client.post(f"/messages/calls/{task.id}", data={"outcome": "reached", "note": "She knows.",
                                                               "csrf_token": csrf_token(client, "/messages/calls")})
    assert answer.status_code == 302
    assert Notification.get_by_id(note.id).acknowledged_at is not None
    assert AuditLog.select().where(AuditLog.action == "messages.call.recorded").count() == 1
    assert CallTask.get_by_id(task.id).outcome == "reached"
    with pytest.raises(DomainError):
        fallback.record_call(head, task.id, "no_answer")  # recorded once


def test_staff_set_a_residents_channels_in_scope_audited_and_see_the_history(app, standins):
    resident = person("resident")
    preferences.set_for_resident(person("building_head"), resident.id, ["sms"], "21:00", "07:00")
    pref = MessagePreference.get(MessagePreference.user == resident.id)
    assert pref.chosen() == ["sms"] and (pref.quiet_start, pref.quiet_end) == (21 * 60, 7 * 60)
    assert AuditLog.select().where(AuditLog.action == "messages.preferences.set").count() == 1
    with pytest.raises(DomainError):
        preferences.set_for_resident(person("volunteer"), resident.id, ["sms"])
    client = app.test_client()
    client.post("/login", data={"phone": person("building_head").phone, "password": "beiyuan-demo-2026",
                                "csrf_token": csrf_token(client)})
    page = client.get(f"/messages/people/{resident.id}")
    assert page.status_code == 200 and "sms" in page.get_data(as_text=True)


def test_the_api_acknowledges_and_sets_preferences(app, standins):
    from marketplace.users.tokens import create_token

    resident = person("resident")
    token = create_token(resident, "test", ["read"])[1]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    answer = client.put("/api/v1/me/message-preferences", headers=headers,
                        json={"channels": "sms", "quiet_start": "22:00", "quiet_end": "07:00"})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["channels"] == ["in_app", "sms"]
    bad = client.put("/api/v1/me/message-preferences", headers=headers, json={"channels": "fax"})
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "bad_channel"
    note = notify(resident, "request", "Answered.")
    acked = client.post(f"/api/v1/notifications/{note.id}/acknowledge", headers=headers)
    assert acked.status_code == 200 and acked.get_json()["acknowledged_at"]


def test_the_staff_dashboard_counts_messages_and_cost_per_month(app, standins):
    from marketplace.notifications.figures import message_months

    sms, _, _ = standins
    resident = _choose("resident", ["sms"])
    notify(resident, "job", "one")
    sms.fail_next = ["isv.MOBILE_NUMBER_ILLEGAL"]
    notify(resident, "job", "two")
    [row] = message_months(person("building_head"))
    assert (row["channel"], row["sent"], row["delivered"], row["failed"], row["cost_units"]) == ("sms", 1, 0, 1, 1)
    assert message_months(person("partner_staff")) == []  # nobody in a partner's scope
    client = app.test_client()
    client.post("/login", data={"phone": person("building_head").phone, "password": "beiyuan-demo-2026",
                                "csrf_token": csrf_token(client)})
    page = client.get("/staff/dashboard").get_data(as_text=True)
    assert row["month"] in page and "需要电话回访的居民" in page  # the demo staff read Chinese
