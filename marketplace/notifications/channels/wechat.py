"""WeChat Official Account template messages, through the documented HTTP API.

- `GET /cgi-bin/token?grant_type=client_credential&appid=..&secret=..` answers
  `{"access_token": ..., "expires_in": 7200}`; kept until shortly before it expires (per process)
  and fetched again when the API says it is invalid (errcode 40001, 40014, 42001).
- `POST /cgi-bin/message/template/send?access_token=..` with
  `{"touser": openid, "template_id": .., "url": .., "data": {"first": {"value": ..}, ..},
  "client_msg_id": ..}` answers `{"errcode": 0, "errmsg": "ok", "msgid": ..}`. `client_msg_id`
  (our delivery key) makes WeChat drop a repeat of the same message.
- Delivery: WeChat pushes a `TEMPLATESENDJOBFINISH` event (XML) to the account's server URL,
  signed with the server token (notifications.receipts).
"""

import json
import threading
import time
from urllib import error, parse, request

from marketplace.notifications.channels.base import Channel, Outgoing, SendError, Sent, is_timeout

TOKEN_ERRORS = {40001, 40014, 42001}
PERMANENT = {40003, 40037, 43004, 43101, 47003}  # bad openid, bad template, unsubscribed, refused

_tokens: dict[str, tuple[str, float]] = {}
_tokens_lock = threading.Lock()


class WeChatTemplates(Channel):
    name = "wechat"
    provider = "wechat"

    def __init__(self, messages):
        self.settings = messages

    def _request(self, path: str, params: dict, body: dict | None = None) -> dict:
        url = f"{self.settings.wechat_api_url.rstrip('/')}{path}?{parse.urlencode(params)}"
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        req = request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
        try:
            with request.urlopen(req, timeout=self.settings.timeout_seconds) as answer:
                return json.loads(answer.read().decode())
        except (OSError, ValueError, error.HTTPError) as failure:
            raise SendError(f"{type(failure).__name__}: {failure}", uncertain=is_timeout(failure)) from None

    def access_token(self, fresh: bool = False) -> str:
        app_id = self.settings.wechat_app_id
        with _tokens_lock:
            token, until = _tokens.get(app_id, ("", 0.0))
            if token and not fresh and time.monotonic() < until:
                return token
        answer = self._request("/cgi-bin/token", {"grant_type": "client_credential", "appid": app_id,
                                                  "secret": self.settings.wechat_app_secret})
        if "access_token" not in answer:
            raise SendError(f"token: {answer.get('errcode')} {answer.get('errmsg', '')}"[:300])
        with _tokens_lock:
            _tokens[app_id] = (answer["access_token"], time.monotonic() + int(answer.get("expires_in", 7200)) - 300)
        return answer["access_token"]

    def send(self, message: Outgoing) -> Sent:
        if not message.openid:
            raise SendError("no WeChat openid for this person", retryable=False)
        templates = self.settings.wechat_templates
        body = {
            "touser": message.openid,
            "template_id": templates.get(message.kind) or templates.get("default", ""),
            "data": {"first": {"value": message.text}, "remark": {"value": message.link}},
            "client_msg_id": message.key,
        }
        answer = self._request("/cgi-bin/message/template/send", {"access_token": self.access_token()}, body)
        if answer.get("errcode") in TOKEN_ERRORS:
            answer = self._request("/cgi-bin/message/template/send",
                                   {"access_token": self.access_token(fresh=True)}, body)
        code = answer.get("errcode", -1)
        if code != 0:
            raise SendError(f"{code}: {answer.get('errmsg', '')}"[:300], retryable=code not in PERMANENT)
        return Sent(provider_id=str(answer.get("msgid", "")))
