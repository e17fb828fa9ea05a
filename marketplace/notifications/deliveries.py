"""Deliveries: every message to every channel has a record, and this module moves it along
queued -> sending -> sent -> delivered | failed (the states in models.DELIVERY_STATES).

Why "sending" is written, and committed, before the provider is called: a consumer killed with
SIGKILL between the provider's answer and our commit would otherwise leave a "queued" row that
the next consumer sends again. A row found in "sending" longer than MESSAGE_STUCK_SECONDS
belongs to a dead consumer: `deliver` then asks the provider whether it has a message with this
delivery key (`Channel.find`: Alibaba's QuerySendDetails lists our OutId) and only sends when
it has none. The key is also handed to the provider (OutId, WeChat's client_msg_id).

Caps (SMS_PER_PERSON_PER_DAY, SMS_PER_DAY) are counted from these rows, in the transaction that
claims the row, so every worker on every host counts the same messages: on SQLite the
IMMEDIATE transaction runs alone, on PostgreSQL an advisory lock serialises SMS claims.

Retries: a retryable failure puts the row back to "queued" and `deliver` answers how long to
wait (MESSAGE_RETRY_SECONDS, doubled per attempt); after MESSAGE_RETRIES retries it is failed.
No Flask here: the task (notifications.tasks) calls these with plain values.
"""

import logging
from datetime import UTC, datetime, time, timedelta

from flask_babel import force_locale

from marketplace.db import db, is_sqlite
from marketplace.notifications.channels import Outgoing, SendError, Sent, channel_for
from marketplace.notifications.models import Delivery, MessagePreference, Notification
from marketplace.settings import settings
from marketplace.timeutil import utcnow
from marketplace.users.models import User

log = logging.getLogger("marketplace.messages")

FINAL = ("sent", "delivered", "failed", "skipped")
SMS_CAP_LOCK = 170017  # PostgreSQL advisory lock id for SMS claims


def preference_of(user_id: int) -> MessagePreference | None:
    return MessagePreference.get_or_none(MessagePreference.user == user_id)


def quiet_until(pref: MessagePreference | None, now: datetime) -> datetime | None:
    """The end of the person's quiet hours (naive UTC) when `now` falls in them, else None."""
    if pref is None or pref.quiet_start is None or pref.quiet_end is None or pref.quiet_start == pref.quiet_end:
        return None
    zone = settings().timezone
    local = now.replace(tzinfo=UTC).astimezone(zone)
    minute = local.hour * 60 + local.minute
    start, end = pref.quiet_start, pref.quiet_end
    inside = start <= minute < end if start < end else (minute >= start or minute < end)
    if not inside:
        return None
    end_local = datetime.combine(local.date(), time(end // 60, end % 60), tzinfo=zone)
    if end_local <= local:
        end_local += timedelta(days=1)
    return end_local.astimezone(UTC).replace(tzinfo=None)


def plan(note: Notification, channels: list[str] | None = None) -> list[Delivery]:
    """The deliveries of one message: in_app (the notification itself, delivered), `log` when
    MESSAGE_LOG_CHANNEL is on, and each channel the person chose. Returns those to send."""
    pref = preference_of(note.user_id)
    wanted = ["log"] if settings().messages.log_channel else []
    wanted += channels if channels is not None else (pref.chosen() if pref else [])
    now = utcnow()
    Delivery.insert(notification=note.id, user=note.user_id, channel="in_app", key=f"{note.id}:in_app",
                    state="delivered", provider="in_app", created_at=now, updated_at=now, sent_at=now,
                    delivered_at=now).on_conflict_ignore().execute()
    later = quiet_until(pref, now)
    planned = []
    for channel in dict.fromkeys(wanted):
        key = f"{note.id}:{channel}"
        Delivery.insert(notification=note.id, user=note.user_id, channel=channel, key=key, created_at=now,
                        updated_at=now, not_before=later if channel != "log" else None).on_conflict_ignore().execute()
        planned.append(Delivery.get(Delivery.key == key))
    return planned


def _sms_cap_reached(user_id: int) -> str:
    messages = settings().messages
    # The community's day, not UTC's: a cap resets at local midnight.
    zone = settings().timezone
    local_midnight = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    today = local_midnight.astimezone(UTC).replace(tzinfo=None)
    counted = Delivery.select().where(Delivery.channel == "sms", Delivery.created_at >= today,
                                      Delivery.state.in_(("sending", "sent", "delivered")))
    if counted.where(Delivery.user == user_id).count() >= messages.sms_per_person_per_day:
        return "cap: SMS_PER_PERSON_PER_DAY reached"
    if counted.count() >= messages.sms_per_day:
        return "cap: SMS_PER_DAY reached"
    return ""


def _outgoing(delivery: Delivery) -> Outgoing:
    note = delivery.notification
    user = User.get_by_id(delivery.user_id)
    pref = preference_of(user.id)
    with force_locale(user.locale or settings().default_locale):
        text = note.text  # rendered in the recipient's language when it was made (services.notify)
    return Outgoing(key=delivery.key, kind=note.kind, text=text, link=note.link, phone=user.phone,
                    openid=pref.wechat_openid if pref else "", sent_on=delivery.created_at.strftime("%Y%m%d"))


def _claim(delivery_id: int) -> tuple[Delivery | None, str]:
    """Take the row for sending: ("", row) when this worker may send it now; otherwise why not."""
    messages = settings().messages
    with db.atomic():
        if not is_sqlite():
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (SMS_CAP_LOCK,))
        delivery = Delivery.get_or_none(Delivery.id == delivery_id)
        if delivery is None:
            return None, "missing"
        if delivery.state in FINAL:
            return delivery, delivery.state
        now = utcnow()
        if delivery.not_before and delivery.not_before > now:
            return delivery, "later"
        if delivery.state == "sending":
            if delivery.updated_at > now - timedelta(seconds=messages.stuck_seconds):
                return delivery, "in hand"  # another worker is sending it right now
            return delivery, "orphan"
        if delivery.channel == "sms":
            cap = _sms_cap_reached(delivery.user_id)
            if cap:
                Delivery.update(state="skipped", error=cap, updated_at=now).where(Delivery.id == delivery.id).execute()
                return delivery, "skipped"
        taken = Delivery.update(state="sending", attempts=Delivery.attempts + 1, updated_at=now).where(
            Delivery.id == delivery.id, Delivery.state == "queued").execute()
        return (Delivery.get_by_id(delivery.id), "") if taken else (delivery, "in hand")


def _record(delivery: Delivery, channel, sent: Sent) -> None:
    now = utcnow()
    Delivery.update(
        state="delivered" if sent.delivered else "sent", provider=channel.provider, provider_id=sent.provider_id,
        cost_units=sent.cost_units, sent_at=now, delivered_at=now if sent.delivered else None, error="",
        updated_at=now,
    ).where(Delivery.id == delivery.id, Delivery.state == "sending").execute()


def deliver(delivery_id: int) -> tuple[str, int]:
    """Send one delivery if it is due. Returns (outcome, seconds to wait before trying again;
    0 = nothing more to do)."""
    messages = settings().messages
    delivery, why = _claim(delivery_id)
    if why == "missing":
        return "missing", 0
    if why == "later":
        return "later", max(1, int((delivery.not_before - utcnow()).total_seconds()) + 1)
    if why == "orphan":
        return _adopt(delivery)
    if why:
        return why, 0
    channel = channel_for(delivery.channel, messages)
    message = _outgoing(delivery)
    if delivery.error.startswith("uncertain"):  # the last attempt got no answer: did it arrive?
        found = _ask_after_timeout(channel, message)
        if found is not None:
            _record(delivery, channel, found)
            return "found", 0
    try:
        sent = channel.send(message)
    except SendError as failure:
        found = _ask_after_timeout(channel, message) if failure.uncertain else None
        if found is None:
            error = f"uncertain: {failure}" if failure.uncertain else str(failure)
            return _failed(delivery, channel, error, failure.retryable)
        sent = found
    _record(delivery, channel, sent)
    return "sent", 0


def _ask_after_timeout(channel, message: Outgoing) -> Sent | None:
    """No answer in time: the provider may have the message anyway. Ask it before any retry."""
    try:
        return channel.find(message)
    except SendError:
        return None


def _failed(delivery: Delivery, channel, error: str, retryable: bool) -> tuple[str, int]:
    messages = settings().messages
    attempts = Delivery.get_by_id(delivery.id).attempts
    final = not retryable or attempts > messages.retries
    wait = 0 if final else messages.retry_seconds * 2 ** (attempts - 1)
    now = utcnow()
    # not_before: the backoff holds even if the scheduled retry is lost and `recover` finds it.
    Delivery.update(state="failed" if final else "queued", provider=channel.provider, error=error[:300],
                    updated_at=now, not_before=now + timedelta(seconds=wait) if wait else Delivery.not_before).where(
        Delivery.id == delivery.id, Delivery.state == "sending").execute()
    log.warning("delivery %s (%s) attempt %s failed: %s", delivery.key, delivery.channel, attempts, error,
                extra={"delivery_key": delivery.key, "attempts": attempts, "final": final})
    return ("failed", 0) if final else ("retry", wait)


def _adopt(delivery: Delivery) -> tuple[str, int]:
    """A row left "sending" by a dead consumer: the provider says whether it has it."""
    channel = channel_for(delivery.channel, settings().messages)
    try:
        found = channel.find(_outgoing(delivery))
    except SendError:
        return "unknown", settings().messages.retry_seconds  # ask again later; never send blind
    if found is not None:
        _record(delivery, channel, found)
        log.info("delivery %s: the provider already had it (%s)", delivery.key, found.provider_id)
        return "found", 0
    # The provider never got it: back to the queue, as one more attempt.
    Delivery.update(state="queued", updated_at=utcnow()).where(
        Delivery.id == delivery.id, Delivery.state == "sending", Delivery.updated_at == delivery.updated_at).execute()
    return deliver(delivery.id)


def stuck(now: datetime | None = None):
    """Deliveries whose consumer died or whose task was lost: queued (and due) or sending for
    longer than MESSAGE_STUCK_SECONDS."""
    now = now or utcnow()
    before = now - timedelta(seconds=settings().messages.stuck_seconds)
    return Delivery.select(Delivery.id).where(
        Delivery.state.in_(("queued", "sending")), Delivery.updated_at < before,
        Delivery.not_before.is_null() | (Delivery.not_before <= now))


def history(user_id: int, limit: int = 100):
    """A person's deliveries, newest first (staff in scope see it; see services.delivery_history)."""
    return (Delivery.select(Delivery, Notification).join(Notification)
            .where(Delivery.user == user_id).order_by(Delivery.id.desc()).limit(limit))
