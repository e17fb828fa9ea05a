"""The providers' delivery receipts and replies, accepted on signed callback endpoints.

- Alibaba Cloud SMS pushes its reports (SmsReport) and the replies people send (SmsUp) by HTTP
  as JSON lists to the URL set in its console; Alibaba does not sign these pushes, so that URL
  carries a signature of its own: `/messages/receipts/sms/<token>`, the token an HMAC of the
  app's secret key (`sms_receipt_token`; `flask --app wsgi messages receipt-url` prints it).
- WeChat pushes a `TEMPLATESENDJOBFINISH` event (XML) to the account's server URL, signed as
  WeChat documents: `signature` = SHA1 of the sorted token, timestamp and nonce.
"""

import hashlib
import hmac
import xml.etree.ElementTree as ET

from marketplace.notifications.fallback import acknowledge_by_reply
from marketplace.notifications.models import Delivery
from marketplace.settings import settings
from marketplace.timeutil import utcnow


def sms_receipt_token() -> str:
    return hmac.new(settings().secret_key.encode(), b"sms-delivery-receipts", hashlib.sha256).hexdigest()[:40]


def sms_token_ok(token: str) -> bool:
    return hmac.compare_digest(token.encode(), sms_receipt_token().encode())


def wechat_signature_ok(signature: str, timestamp: str, nonce: str) -> bool:
    token = settings().messages.wechat_token
    if not token:
        return False
    expected = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return hmac.compare_digest(signature.encode(), expected.encode())


def _mark(where, delivered: bool, error: str = "") -> int:
    """A receipt moves a sent (or still "sending") delivery on; a second receipt changes nothing."""
    now = utcnow()
    where = where & Delivery.state.in_(("sending", "sent"))
    if delivered:
        return Delivery.update(state="delivered", delivered_at=now, error="", updated_at=now).where(where).execute()
    return Delivery.update(state="failed", error=error[:300], updated_at=now).where(where).execute()


def apply_sms_reports(items: list) -> int:
    """Alibaba SmsReport items ({"biz_id", "out_id", "success", "err_code", "err_msg"}) and SmsUp
    items ({"phone_number", "content"}: a reply; "1" acknowledges). Returns rows changed."""
    changed = 0
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        if "content" in item and "phone_number" in item:
            changed += acknowledge_by_reply(str(item["phone_number"]), str(item["content"])) is not None
            continue
        key, biz = str(item.get("out_id") or ""), str(item.get("biz_id") or "")
        if not key and not biz:
            continue
        which = (Delivery.key == key) if key else (Delivery.provider_id == biz)
        changed += _mark((Delivery.channel == "sms") & which, item.get("success") in (True, "true"),
                         f"{item.get('err_code', '')}: {item.get('err_msg', '')}")
    return changed


def apply_wechat_event(body: bytes) -> int:
    if len(body) > 16_384 or b"<!" in body:  # an event is small and has no DTD or entities
        return 0
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return 0
    if root.findtext("Event") != "TEMPLATESENDJOBFINISH":
        return 0
    msg_id, status = root.findtext("MsgID") or "", root.findtext("Status") or ""
    return _mark((Delivery.channel == "wechat") & (Delivery.provider_id == msg_id), status == "success", status)
