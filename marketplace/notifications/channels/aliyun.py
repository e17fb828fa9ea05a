"""Alibaba Cloud SMS (dysmsapi, API version 2017-05-25) through its documented RPC-style HTTP API.

Every request is signed as the API reference describes (signature version 1.0): the parameters
sorted by name, each name and value percent-encoded (RFC 3986: space %20, `*` %2A, `~` kept),
joined with `&`; the string to sign is `GET&%2F&` + that query, percent-encoded again; the
signature is base64(HMAC-SHA1(AccessKeySecret + "&", string to sign)).

- `SendSms` (PhoneNumbers, SignName, TemplateCode, TemplateParam, OutId) answers
  `{"Code": "OK", "BizId": ..., "RequestId": ...}` or an error code such as
  `isv.BUSINESS_LIMIT_CONTROL` (throttled: retry later) or `isv.MOBILE_NUMBER_ILLEGAL` (never).
- `QuerySendDetails` (PhoneNumber, SendDate, PageSize, CurrentPage) lists what was sent to a
  number on a day, each with its `OutId`: our delivery key, so a consumer that died after the
  provider took a message finds it there instead of sending it again.
- Delivery receipts (SmsReport) are pushed by HTTP as a JSON list of
  `{"biz_id", "out_id", "success", "err_code", ...}`; see notifications.receipts.
"""

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from urllib import error, parse, request

from marketplace.notifications.channels.base import Channel, Outgoing, SendError, Sent, is_timeout, sms_parts

# Codes after which trying again cannot help (the number or the template is wrong).
PERMANENT = {"isv.MOBILE_NUMBER_ILLEGAL", "isv.TEMPLATE_MISSING_PARAMETERS", "isv.SMS_TEMPLATE_ILLEGAL",
             "isv.SMS_SIGNATURE_ILLEGAL", "isv.INVALID_PARAMETERS", "isv.BLACK_KEY_CONTROL_LIMIT",
             "isv.MOBILE_COUNT_OVER_LIMIT", "isv.PARAM_LENGTH_LIMIT"}
VARIABLE_LIMIT = 35  # characters per template variable (Alibaba's limit for notices)


def percent(value: str) -> str:
    return parse.quote(str(value), safe="~")


def sign(params: dict, secret: str, method: str = "GET") -> str:
    query = "&".join(f"{percent(k)}={percent(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{percent('/')}&{percent(query)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSms(Channel):
    name = "sms"
    provider = "aliyun"

    def __init__(self, messages):
        self.settings = messages

    def _call(self, action: str, **params) -> dict:
        params = {
            "AccessKeyId": self.settings.sms_access_key_id, "Action": action, "Format": "JSON",
            "RegionId": "cn-hangzhou", "SignatureMethod": "HMAC-SHA1", "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0", "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25", **params,
        }
        params["Signature"] = sign(params, self.settings.sms_access_key_secret)
        url = f"{self.settings.sms_api_url.rstrip('/')}/?{parse.urlencode(params, quote_via=parse.quote)}"
        try:
            with request.urlopen(url, timeout=self.settings.timeout_seconds) as answer:
                return json.loads(answer.read().decode())
        except error.HTTPError as failure:  # the API answers errors with 4xx/5xx and a JSON body
            try:
                return json.loads(failure.read().decode())
            except ValueError:
                raise SendError(f"HTTP {failure.code}") from None
        except (OSError, ValueError) as failure:  # refused, timed out, not JSON
            raise SendError(f"{type(failure).__name__}: {failure}", uncertain=is_timeout(failure)) from None

    def template_for(self, kind: str) -> str:
        templates = self.settings.sms_templates
        return templates.get(kind) or templates.get("default", "")

    def send(self, message: Outgoing) -> Sent:
        content = message.text if len(message.text) <= VARIABLE_LIMIT else message.text[: VARIABLE_LIMIT - 1] + "…"
        answer = self._call(
            "SendSms", PhoneNumbers=message.phone, SignName=self.settings.sms_sign_name,
            TemplateCode=self.template_for(message.kind), TemplateParam=json.dumps({"content": content}),
            OutId=message.key,
        )
        code = answer.get("Code", "")
        if code != "OK":
            raise SendError(f"{code}: {answer.get('Message', '')}"[:300], retryable=code not in PERMANENT)
        return Sent(provider_id=answer.get("BizId", ""), cost_units=sms_parts(content))

    def find(self, message: Outgoing) -> Sent | None:
        answer = self._call("QuerySendDetails", PhoneNumber=message.phone, SendDate=message.sent_on,
                            PageSize="50", CurrentPage="1")
        if answer.get("Code") != "OK":
            raise SendError(f"{answer.get('Code')}: {answer.get('Message', '')}"[:300])
        content = message.text if len(message.text) <= VARIABLE_LIMIT else message.text[: VARIABLE_LIMIT - 1] + "…"
        for detail in (answer.get("SmsSendDetailDTOs") or {}).get("SmsSendDetailDTO", []):
            if detail.get("OutId") == message.key:
                return Sent(provider_id=detail.get("BizId", ""), cost_units=sms_parts(content),
                            delivered=detail.get("SendStatus") == 3)
        return None
