"""Stand-ins for the SMS provider (Alibaba Cloud SMS, dysmsapi) and for WeChat's Official
Account API: HTTP servers on 127.0.0.1 speaking their documented request and answer formats.

The SMS stand-in checks each request's signature (signature v1, HMAC-SHA1) as the provider
does, records every SendSms it receives (with its OutId: our delivery key) and answers
QuerySendDetails from those records. `fail_next` answers the next sends with an error code,
`hold` keeps the next SendSms waiting (a slow answer) until `release()`.
"""

import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from marketplace.notifications.channels.aliyun import sign

ACCESS_KEY_ID, ACCESS_KEY_SECRET = "test-key-id", "test-key-secret"


class SmsStandIn:
    def __init__(self):
        self.sent = []  # every SendSms received: dicts of its parameters
        self.queries = 0
        self.fail_next: list[str] = []  # error codes to answer the next SendSms with
        self.bad_signatures = 0
        self.held = threading.Event()  # set when a held request arrived
        self._hold = False
        self._release = threading.Event()
        self.lock = threading.Lock()

    def hold(self):
        self._hold, self.held = True, threading.Event()
        self._release.clear()

    def release(self):
        self._release.set()

    def answer(self, params: dict) -> dict:
        signature = params.pop("Signature", "")
        if params.get("AccessKeyId") != ACCESS_KEY_ID or sign(params, ACCESS_KEY_SECRET) != signature:
            self.bad_signatures += 1
            return {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched."}
        if params["Action"] == "SendSms":
            with self.lock:
                self.sent.append(params)
                number = len(self.sent)
                failure = self.fail_next.pop(0) if self.fail_next else ""
                hold, self._hold = self._hold, False  # only the next one is slow
            if hold:
                self.held.set()
                self._release.wait(600)
            if failure:
                return {"Code": failure, "Message": "stand-in failure", "RequestId": f"r{number}"}
            return {"Code": "OK", "Message": "OK", "BizId": f"biz{number}", "RequestId": f"r{number}"}
        if params["Action"] == "QuerySendDetails":
            self.queries += 1
            details = [{"PhoneNum": p["PhoneNumbers"], "OutId": p["OutId"], "BizId": f"biz{i + 1}",
                        "SendStatus": 3, "ErrCode": "DELIVERED", "TemplateCode": p["TemplateCode"]}
                       for i, p in enumerate(self.sent) if p["PhoneNumbers"] == params["PhoneNumber"]]
            return {"Code": "OK", "Message": "OK", "TotalCount": len(details),
                    "SmsSendDetailDTOs": {"SmsSendDetailDTO": details}}
        return {"Code": "InvalidAction.NotFound", "Message": "no such action"}

    def sends_of(self, key: str) -> int:
        return sum(1 for p in self.sent if p["OutId"] == key)


class WeChatStandIn:
    def __init__(self):
        self.tokens_issued = 0
        self.sent = []
        self.expire_token_once = False
        self.fail_next: list[int] = []

    def answer(self, path: str, query: dict, body: dict | None) -> dict:
        if path == "/cgi-bin/token":
            if query.get("appid") != "wx-test" or query.get("secret") != "wx-secret":
                return {"errcode": 40013, "errmsg": "invalid appid"}
            self.tokens_issued += 1
            return {"access_token": f"token{self.tokens_issued}", "expires_in": 7200}
        if path == "/cgi-bin/message/template/send":
            if query.get("access_token") != f"token{self.tokens_issued}" or self.expire_token_once:
                self.expire_token_once = False
                return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
            if self.fail_next:
                code = self.fail_next.pop(0)
                return {"errcode": code, "errmsg": "stand-in failure"}
            self.sent.append(body)
            return {"errcode": 0, "errmsg": "ok", "msgid": 200228000 + len(self.sent)}
        return {"errcode": 404, "errmsg": "not found"}


@contextmanager
def serving(sms: SmsStandIn | None = None, wechat: WeChatStandIn | None = None):
    """Both stand-ins on one server on a free port of 127.0.0.1; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _reply(self, answer: dict):
            body = json.dumps(answer).encode()
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the caller died while we were slow

        def do_GET(self):
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            if parts.path.startswith("/cgi-bin/"):
                self._reply(wechat.answer(parts.path, query, None))
            else:
                self._reply(sms.answer(query))

        def do_POST(self):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            self._reply(wechat.answer(parts.path, dict(parse_qsl(parts.query)), body))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        if sms is not None:
            sms.release()
        server.shutdown()
        server.server_close()


def wait_for(condition, patience: float = 120.0, step: float = 0.2):
    """Poll until condition() is true; a guard against a hang, not a speed requirement."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("gave up waiting")
